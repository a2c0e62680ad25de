"""The per-request (or, for websockets, per-connection) GraphQL context."""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from core.errors import BadUserInput
from core.principal import Principal
from core.scope import TenantScope
from loaders import Loaders
from realtime.broadcast import Broadcast
from realtime.fanout import Fanout
from services.billing.provider import PaymentProvider
from services.context import ServiceContext
from services.identity.access import AccessStore
from services.platform.maintenance import MaintenanceGate
from services.provisioning.provider import CloudProvider, SimulatedProvider

# Anonymous callers get a scope that matches no tenant: public fields never reach tenant data.
NOBODY = TenantScope.of(uuid.UUID(int=0))
# The loaders of the subscription event this task is resolving (set by the subscription's
# resolver right before it yields the event, which graphql-core then resolves in the same task):
# one set per event, shared by every subscriber the event reaches, so each relation is read once.
_event_loaders: ContextVar[Loaders | None] = ContextVar("event_loaders", default=None)


@dataclass
class RequestContext:
    services: ServiceContext
    broadcast: Broadcast
    payment_provider: PaymentProvider
    fanout: Fanout
    access: AccessStore
    correlation_id: str
    request: Any = None
    response: Any = None
    is_websocket: bool = False
    # Set by strawberry from the websocket connection_init payload.
    connection_params: dict[str, Any] | None = None
    bearer_token: str | None = None
    # The cloud provider adapter (services/provisioning/provider.py): metrics and health.
    cloud_provider: CloudProvider = field(default_factory=SimulatedProvider)
    # This process's view of maintenance mode (services/platform/maintenance.py).
    maintenance: MaintenanceGate | None = None
    # Representations `_entities` was asked for so far in this request (capped by the subgraph).
    entities_requested: int = 0
    _loaders: Loaders | None = field(default=None, repr=False)
    _storefront_scope: TenantScope | None = field(default=None, repr=False)
    _loaders_by_scope: dict[TenantScope, Loaders] = field(default_factory=dict, repr=False)

    @property
    def principal(self) -> Principal | None:
        return self.services.principal

    @property
    def loaders(self) -> Loaders:
        """Per-request loaders. A websocket context lives for hours, so there each access gets
        the loaders of the subscription event being resolved (or fresh ones): an event never sees
        another event's cached rows."""
        if self.is_websocket:
            return _event_loaders.get() or self.new_loaders()
        if self._loaders is None:
            self._loaders = self.new_loaders()
        return self._loaders

    def resolve_event_with(self, loaders: Loaders) -> None:
        """The subscription event about to be yielded loads its relations through ``loaders``
        (the event's own, shared by its subscribers; they hold rows only, each subscriber's
        visibility rules still apply to what it gets)."""
        _event_loaders.set(loaders)

    def idempotency_key(self, given: str | None = None) -> str | None:
        """The operation's idempotency key: its ``idempotencyKey`` input, else the request's
        ``Idempotency-Key`` header."""
        if given:
            return given
        if self.request is None or self.is_websocket:
            return None
        return self.request.headers.get("idempotency-key") or None

    def act_as(self, principal: Principal) -> None:
        """Switch to a principal that just signed in; loaders of the old one are dropped."""
        self.services.principal = principal
        self._loaders = None

    def read_as_storefront(self, tenant_id: uuid.UUID) -> None:
        """Let an anonymous request read one tenant's public data through the loaders.

        Anonymous loaders use NOBODY, a scope that matches no tenant. A public storefront field
        (e.g. ``products(tenantSlug: ...)``) names its tenant instead; once the service has
        resolved that slug, the relations of what it returns (a product's category, brand,
        reviews) must load in the same tenant, so the loaders switch to that tenant's scope. Only
        for callers without a principal (a signed-in caller always reads in its own scope), and
        only one tenant per request: cached rows of one storefront never serve another."""
        if self.principal is not None:
            raise RuntimeError("read_as_storefront is for anonymous requests only")
        scope = TenantScope.of(tenant_id)
        if self._storefront_scope == scope:
            return
        if self._storefront_scope is not None:
            raise BadUserInput("One request reads one storefront: pass the same `tenantSlug` everywhere.")
        self._storefront_scope = scope
        self._loaders = None

    def loaders_in(self, scope: TenantScope | None) -> Loaders:
        """Loaders for rows read in another scope than the request's, so that their relations
        load in the scope the row itself was read in: `me` of a platform admin acting in another
        tenant (X-Tenant-Id) is read in the admin's home tenant, and so are its roles and tenant."""
        if scope is None:
            return self.loaders
        if self.is_websocket:
            return Loaders(self.services.reads or self.services.db, scope)
        if scope not in self._loaders_by_scope:
            self._loaders_by_scope[scope] = Loaders(self.services.reads or self.services.db, scope)
        return self._loaders_by_scope[scope]

    def new_loaders(self) -> Loaders:
        scope = self.principal.scope if self.principal else self._storefront_scope or NOBODY
        return Loaders(self.services.reads or self.services.db, scope)
