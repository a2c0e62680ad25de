"""The loop of every GraphQL subscription: events from the process's fan-out (realtime/fanout.py),
each with the subscriber's access as it stands now from the access store
(services/identity/access.py) — no query per subscriber per event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TypeVar

from core.principal import Principal
from realtime.fanout import Fanout, Prepare
from services.context import ServiceContext
from services.identity.access import AccessStore

T = TypeVar("T")


async def live_events(
    services: ServiceContext, fanout: Fanout, access: AccessStore, topic: str, prepare: Prepare[T]
) -> AsyncIterator[tuple[Principal, T]]:
    """The events of ``topic`` in the caller's tenant, each prepared once for every subscriber of
    this process, with the caller's principal as it stands now.

    The store calls the subscription back when its session, user or tenant changes (or the link
    to the other processes comes back), and the access is checked at once: a subscription whose
    session ended or whose user or tenant was suspended ends (Unauthenticated) by that event,
    without waiting for its next domain event. Changed roles take effect on the next event."""
    claimed = services.require_principal()
    async with fanout.subscribe(topic, claimed.tenant_id, prepare) as inbox:
        with access.watching(claimed, inbox.notify):
            # The session may have ended between connection_init and now.
            services.principal = await access.current(claimed)
            while True:
                item = await inbox.get()
                principal = await access.current(claimed)
                services.principal = principal
                if item is not None:
                    yield principal, item
