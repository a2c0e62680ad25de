"""What every transaction does before it commits, in this order: ``Database(before_commit=...)``
(models/db.py) runs these rules in the transaction's session, after the block's own work.

Each rule reads the events recorded in the session (services/events.py:recorded_events) that it
has not seen yet, so a domain reacts to another one's events without the other calling it by name:
an order that reached PAID or REFUNDED starts or tears down its provisioning (which records events
of its own), then every event's notifications are delivered — all of it committed with the event
that caused it, or rolled back with it. ``server/runtime.py`` and the CLI build the Database with
``BEFORE_COMMIT``; nothing registers itself at import time."""

from __future__ import annotations

from models.db import BeforeCommit
from services.notifications.hooks import notify_from_events
from services.provisioning.requests import follow_orders

BEFORE_COMMIT: tuple[BeforeCommit, ...] = (follow_orders, notify_from_events)
