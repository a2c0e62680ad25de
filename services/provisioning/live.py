"""The provisioning streams: ``provisioningUpdates`` (changes of every request a subscriber may
read) and ``provisioningProgress`` (one request: its current state first, then each change, until
a terminal state).

Each event's request is read once per process, as it is *now* (``load_change``), however many
subscribers it reaches; a subscriber never gets an older version after a newer one, so a client
that reconnects sees the true current state first and never a stale one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from core.errors import NotFound
from core.principal import Principal
from core.scope import TenantScope
from loaders import Loaders
from models.db import Database
from models.provisioning import ProvisioningRequest, ProvisioningStatus
from realtime.fanout import Fanout
from services.context import ServiceContext
from services.identity.access import AccessStore
from services.identity.live import Messenger, live_events, only_id
from services.provisioning.requests import can_read_request
from services.provisioning.states import PROVISIONING_CHANGED, TERMINAL


@dataclass(frozen=True, slots=True)
class Change:
    """One change as every subscriber of this process gets it: the request read once for the
    event, the loaders its relations load through, and what the event said."""

    request: ProvisioningRequest
    from_status: ProvisioningStatus | None
    step: str | None
    actor: str
    loaders: Loaders
    memo: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def final(self) -> bool:
        return self.request.status in TERMINAL


async def load_change(db: Database, message: dict[str, Any]) -> Change | None:
    """The event's request as it is now, in the event's tenant; None when it is gone."""
    payload = message["payload"]
    loaders = Loaders(db, TenantScope.of(uuid.UUID(message["tenantId"])))
    request = await loaders.provisioning.request.load(uuid.UUID(payload["requestId"]))
    if request is None:
        return None
    return Change(
        request=request,
        from_status=ProvisioningStatus(payload["from"]) if payload.get("from") else None,
        step=payload.get("step"),
        actor=payload.get("actor", ""),
        loaders=loaders,
    )


def _visible(only: uuid.UUID | None, principal: Principal, change: Change) -> bool:
    return only_id(only, change.request.id) and can_read_request(principal, change.request)


def provisioning_updates(
    services: ServiceContext,
    fanout: Fanout,
    access: AccessStore,
    messenger: Messenger[Change] | None = None,
) -> AsyncIterator[Change]:
    """Changes of the caller's requests (staff: of every request of the tenant)."""
    prepare = partial(load_change, services.db)
    visible = partial(_visible, None)
    return live_events(services, fanout, access, PROVISIONING_CHANGED, prepare, visible, messenger)


async def _readable(
    services: ServiceContext, principal: Principal, request_id: uuid.UUID
) -> ProvisioningRequest:
    async with services.db.session(principal.scope) as session:
        request = await session.get(ProvisioningRequest, request_id)
    if request is None or not can_read_request(principal, request):
        raise NotFound("ProvisioningRequest")
    return request


async def provisioning_progress(
    services: ServiceContext, fanout: Fanout, access: AccessStore, request_id: uuid.UUID
) -> AsyncIterator[Change]:
    """The request's current state, read once the subscription listens (nothing can fall between
    the two), then each newer state until it is ACTIVE, FAILED or DEPROVISIONED; then it ends.
    NOT_FOUND for a request the caller may not read."""
    claimed = services.require_principal()
    prepare = partial(load_change, services.db)
    # The request's tenant names the channel (a platform admin may follow another tenant's).
    found = await _readable(services, await access.current(claimed), request_id)
    async with fanout.subscribe(PROVISIONING_CHANGED, found.tenant_id, prepare) as inbox:
        with access.watching(claimed, inbox.notify):
            principal = services.principal = await access.current(claimed)
            loaders = Loaders(services.db, principal.scope)
            request = await loaders.provisioning.request.load(request_id)
            if request is None or not can_read_request(principal, request):
                raise NotFound("ProvisioningRequest")
            current = Change(request, None, None, "", loaders)
            yield current
            seen = request.version
            while not current.final:
                item = await inbox.get()
                principal = services.principal = await access.current(claimed)
                if item is None or not _visible(request_id, principal, item):
                    continue
                if item.request.version <= seen:
                    continue  # an older (or the same) state than the one sent
                current, seen = item, item.request.version
                yield current
