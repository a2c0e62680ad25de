"""The notification streams of one user: ``notificationReceived`` (each new notification) and
``unreadCount`` (the count after each change). Both read NOTIFICATION_CHANGED events of the
caller's tenant; each event is prepared once per process (its notification and its user's unread
count, read as they are now) and reaches only the user it names, judged again per event."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import func, select

from core.principal import Principal
from core.scope import TenantScope
from loaders import Loaders
from models.db import Database
from models.notifications import Notification
from realtime.fanout import Fanout
from services.context import ServiceContext
from services.identity.access import AccessStore
from services.identity.live import Messenger, live_events
from services.notifications.delivery import NOTIFICATION_CHANGED
from services.notifications.inbox import can_read_notification


@dataclass(frozen=True, slots=True)
class Change:
    user_id: uuid.UUID
    change: str
    # The new notification (``change`` "created" and still there); None otherwise.
    notification: Notification | None
    unread: int
    loaders: Loaders
    memo: dict[str, Any] = field(default_factory=dict, compare=False)


async def load_change(db: Database, message: dict[str, Any]) -> Change | None:
    payload = message["payload"]
    scope = TenantScope.of(uuid.UUID(message["tenantId"]))
    user_id = uuid.UUID(payload["userId"])
    loaders = Loaders(db, scope)
    notification = None
    if payload.get("change") == "created" and payload.get("notificationId"):
        notification = await loaders.notifications.notification.load(uuid.UUID(payload["notificationId"]))
    async with db.session(scope) as session:
        unread = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
    return Change(user_id, str(payload.get("change")), notification, int(unread or 0), loaders)


def _for_me(principal: Principal, change: Change) -> bool:
    return not principal.is_service and change.user_id == principal.user_id


def _received(principal: Principal, change: Change) -> bool:
    return (
        change.notification is not None
        and _for_me(principal, change)
        and can_read_notification(principal, change.notification)
    )


def notifications_received(
    services: ServiceContext, fanout: Fanout, access: AccessStore, messenger: Messenger[Change] | None = None
) -> AsyncIterator[Change]:
    """Each notification created for the caller."""
    prepare = partial(load_change, services.db)
    return live_events(services, fanout, access, NOTIFICATION_CHANGED, prepare, _received, messenger)


def unread_counts(
    services: ServiceContext, fanout: Fanout, access: AccessStore, messenger: Messenger[Change] | None = None
) -> AsyncIterator[Change]:
    """The caller's unread count after each change of their notifications."""
    prepare = partial(load_change, services.db)
    return live_events(services, fanout, access, NOTIFICATION_CHANGED, prepare, _for_me, messenger)
