"""Domain events: recorded in the outbox inside the caller's transaction, published after commit
by the dispatcher (realtime/dispatcher.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.events import OutboxEvent

USER_UPDATED = "user.updated"
# Sign-in sessions, users or tenants whose access changed (logout, suspension, roles, ...): every
# process drops what it holds in memory about them (services/identity/access.py). Tenant-less.
ACCESS_CHANGED = "access.changed"
# Set in session.info when an event is recorded, so the transaction can wake the dispatcher.
EVENTS_RECORDED = "events_recorded"
# The AccessChange list of a transaction (session.info), applied in this process after commit.
ACCESS_CHANGES = "access_changes"
# Every OutboxEvent recorded in the transaction, in order (session.info): what the before-commit
# hooks (models/db.py:BeforeCommit, services/notifications/hooks.py) look at.
RECORDED = "recorded_events"


def record_event(
    session: AsyncSession, *, topic: str, tenant_id: uuid.UUID | None, payload: dict[str, Any]
) -> OutboxEvent:
    event = OutboxEvent(id=uuid.uuid4(), topic=topic, tenant_id=tenant_id, payload=payload)
    session.add(event)
    session.info[EVENTS_RECORDED] = True
    session.info.setdefault(RECORDED, []).append(event)
    return event


def recorded_events(session: AsyncSession) -> list[OutboxEvent]:
    """The events recorded in the session's transaction so far, oldest first."""
    events: list[OutboxEvent] = session.info.get(RECORDED, [])
    return events


@dataclass(frozen=True, slots=True)
class AccessChange:
    """Whose access may have changed: these sessions, every session of these users, of these tenants."""

    sessions: frozenset[uuid.UUID] = frozenset()
    users: frozenset[uuid.UUID] = frozenset()
    tenants: frozenset[uuid.UUID] = frozenset()

    def payload(self) -> dict[str, list[str]]:
        return {
            "sessions": sorted(map(str, self.sessions)),
            "users": sorted(map(str, self.users)),
            "tenants": sorted(map(str, self.tenants)),
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> AccessChange:
        def ids(name: str) -> frozenset[uuid.UUID]:
            return frozenset(uuid.UUID(value) for value in payload.get(name) or ())

        return cls(ids("sessions"), ids("users"), ids("tenants"))


def record_access_change(
    session: AsyncSession,
    *,
    sessions: Iterable[uuid.UUID] = (),
    users: Iterable[uuid.UUID] = (),
    tenants: Iterable[uuid.UUID] = (),
) -> AccessChange:
    """Records, in the caller's transaction, that these sessions', users' or tenants' access
    changed: the ACCESS_CHANGED event for every process, and for this one the change itself,
    applied by ``ServiceContext.transaction`` as soon as the transaction has committed."""
    change = AccessChange(frozenset(sessions), frozenset(users), frozenset(tenants))
    record_event(session, topic=ACCESS_CHANGED, tenant_id=None, payload=change.payload())
    session.info.setdefault(ACCESS_CHANGES, []).append(change)
    return change
