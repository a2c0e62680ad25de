"""The pre-commit notification step of every transaction.

``Database`` (models/db.py) runs its ``before_commit`` hooks at the end of every transaction, in
its session, before COMMIT: the services' ``ServiceContext.transaction``, the workers' and the
dispatcher's own ``db.transaction`` blocks alike, since all of them are ``Database.transaction``.
This is the last of them (services/commit_rules.py), so it sees the events the others recorded.

``notify_from_events`` goes through the events recorded in the session
(``services/events.py:recorded_events``) that it has not seen yet, asks each topic's rule
(rules.py) for drafts and delivers them (delivery.py) — notifications and mails are part of the
transaction of the event that caused them, or of none if it rolls back. The events delivery records
itself (NOTIFICATION_CHANGED) are looked at too and have no rule, so the loop ends."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.events import recorded_events
from services.notifications.delivery import deliver
from services.notifications.rules import drafts_for

# How many of the session's recorded events the hook has seen (session.info).
_SEEN = "notification_events_seen"


async def notify_from_events(session: AsyncSession) -> None:
    events = recorded_events(session)
    seen = session.info.get(_SEEN, 0)
    while seen < len(events):
        event = events[seen]
        seen = session.info[_SEEN] = seen + 1
        if event.tenant_id is None:
            continue
        drafts = drafts_for(event.topic, event.payload)
        if drafts:
            await deliver(session, event.tenant_id, drafts, event_id=event.id)
