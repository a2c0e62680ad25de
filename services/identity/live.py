"""The loop of every GraphQL subscription: events from the process's fan-out (realtime/fanout.py),
each with the subscriber's access as it stands now from the access store
(services/identity/access.py) — no query per subscriber per event."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Hashable
from typing import Generic, Protocol, TypeVar

from core.errors import ServiceError
from core.principal import Principal
from realtime.fanout import SKIP, Fanout, Prepare
from services.context import ServiceContext
from services.identity.access import AccessStore, SessionAccess

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)

# Whether the subscriber with this principal gets this event.
Visible = Callable[[Principal, T], bool]


class Messenger(Protocol[T_contra]):
    """The API layer's side of the express way (realtime/fanout.py): what one subscription makes of
    an event for a principal, what it made, and sending that to another subscription."""

    def key_for(self, principal: Principal) -> Hashable | None: ...

    def made(self, item: T_contra, key: Hashable) -> object | None: ...

    def send(self, made: object) -> None: ...


class _Express(Generic[T]):
    """A subscriber's express way: its access and its rules from memory, with no task woken."""

    __slots__ = ("_entry", "_key", "_principal", "access", "claimed", "messenger", "visible")

    def __init__(
        self, access: AccessStore, claimed: Principal, visible: Visible[T], messenger: Messenger[T]
    ) -> None:
        self.access = access
        self.claimed = claimed
        self.visible = visible
        self.messenger = messenger
        # The access entry last seen, and the principal and key made of it: an entry is replaced,
        # never changed, when the session's access changes.
        self._entry: SessionAccess | None = None
        self._principal = claimed
        self._key: Hashable | None = None

    def key(self, item: T) -> Hashable | None:
        entry = self.access.cached(self.claimed.session_id)
        if entry is None:  # not known in memory: the plain way asks the database
            return None
        if entry is not self._entry:
            try:
                self._principal = entry.principal_for(self.claimed)
            except ServiceError:  # access lost: the plain way ends the subscription
                return None
            self._entry, self._key = entry, None
        if not self.visible(self._principal, item):
            return SKIP
        if self._key is None:
            self._key = self.messenger.key_for(self._principal)
        return self._key

    def made(self, item: T, key: Hashable) -> object | None:
        return self.messenger.made(item, key)

    def send(self, made: object) -> None:
        self.messenger.send(made)


async def live_events(
    services: ServiceContext,
    fanout: Fanout,
    access: AccessStore,
    topic: str,
    prepare: Prepare[T],
    visible: Visible[T],
    messenger: Messenger[T] | None = None,
) -> AsyncIterator[T]:
    """The events of ``topic`` in the caller's tenant that are ``visible`` to the caller, each
    prepared once for every subscriber of this process, judged with the caller's principal as it
    stands now (also set on ``services``). With a ``messenger`` the subscription may take events
    the express way.

    The store calls the subscription back when its session, user or tenant changes (or the link
    to the other processes comes back), and the access is checked at once: a subscription whose
    session ended or whose user or tenant was suspended ends (Unauthenticated) by that event,
    without waiting for its next domain event. Changed roles take effect on the next event."""
    claimed = services.require_principal()
    async with fanout.subscribe(topic, claimed.tenant_id, prepare) as inbox:
        with access.watching(claimed, inbox.notify):
            # The session may have ended between connection_init and now.
            services.principal = await access.current(claimed)
            if messenger is not None:
                inbox.express = _Express(access, claimed, visible, messenger)
            while True:
                item = await inbox.get()
                principal = await access.current(claimed)
                services.principal = principal
                if item is not None and visible(principal, item):
                    yield item


def only_id(only: uuid.UUID | None, found: uuid.UUID) -> bool:
    """An ``id`` argument narrowing a subscription to one row: None lets every row through."""
    return only is None or found == only
