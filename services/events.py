"""Domain events: recorded in the outbox inside the caller's transaction, published after commit
by the dispatcher (realtime/dispatcher.py)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.events import OutboxEvent

USER_UPDATED = "user.updated"
# Set in session.info when an event is recorded, so the transaction can wake the dispatcher.
EVENTS_RECORDED = "events_recorded"


def record_event(
    session: AsyncSession, *, topic: str, tenant_id: uuid.UUID | None, payload: dict[str, Any]
) -> OutboxEvent:
    event = OutboxEvent(id=uuid.uuid4(), topic=topic, tenant_id=tenant_id, payload=payload)
    session.add(event)
    session.info[EVENTS_RECORDED] = True
    return event
