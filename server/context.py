"""The per-request (or, for websockets, per-connection) GraphQL context."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from loaders import Loaders
from models.tenancy import TenantScope
from server.auth.principal import Principal
from services.context import ServiceContext

if TYPE_CHECKING:
    from server.runtime import Runtime

# Anonymous callers get a scope that matches no tenant: public fields never reach tenant data.
NOBODY = TenantScope.of(uuid.UUID(int=0))


@dataclass
class RequestContext:
    services: ServiceContext
    runtime: Runtime
    correlation_id: str
    request: Any = None
    response: Any = None
    is_websocket: bool = False
    # Set by strawberry from the websocket connection_init payload.
    connection_params: dict[str, Any] | None = None
    bearer_token: str | None = None
    _loaders: Loaders | None = field(default=None, repr=False)

    @property
    def principal(self) -> Principal | None:
        return self.services.principal

    @property
    def loaders(self) -> Loaders:
        """Per-request loaders. A websocket context lives for hours, so there each access gets
        fresh ones: a subscription event never sees another event's cached rows."""
        if self.is_websocket:
            return self.new_loaders()
        if self._loaders is None:
            self._loaders = self.new_loaders()
        return self._loaders

    @property
    def idempotency_key(self) -> str | None:
        """The request's ``Idempotency-Key`` header (an ``idempotencyKey`` input takes precedence)."""
        if self.request is None or self.is_websocket:
            return None
        return self.request.headers.get("idempotency-key") or None

    def act_as(self, principal: Principal) -> None:
        """Switch to a principal that just signed in; loaders of the old one are dropped."""
        self.services.principal = principal
        self._loaders = None

    def new_loaders(self) -> Loaders:
        scope = self.principal.scope if self.principal else NOBODY
        return Loaders.create(self.services.db, scope)
