"""Notification types: the notification (federation entity and Relay node, read only by its
user), preferences per type and channel, and the enums."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from models import notifications as models
from schema.nodes import Entity, load_nodes, node_type
from schema.notifications.enums import NotificationChannel, NotificationType
from services.notifications.inbox import can_read_notification
from services.notifications.preferences import Preference


@node_type
@strawberry.federation.type(keys=["id"], name="Notification", description="Something you are told about.")
class Notification(Entity):
    notification_id: relay.NodeID[str]
    type: NotificationType = strawberry.field(description="What it is about.")
    title: str = strawberry.field(description="One line.")
    body: str = strawberry.field(description="The text (plain).")
    link: str | None = strawberry.field(description="Where to look: a path of the app or an https URL.")
    data: JSON = strawberry.field(description="What it refers to, as a JSON object (ids, numbers).")
    read_at: datetime | None = strawberry.field(
        description="When you marked it read (UTC); null while unread."
    )
    created_at: datetime = strawberry.field(description="When it was created (UTC).")

    @strawberry.field(description="True until you mark it read.")
    def unread(self) -> bool:
        return self.read_at is None

    @classmethod
    def from_model(cls, notification: models.Notification) -> Self:
        kind = notification.type
        return cls(
            notification_id=str(notification.id),
            type=NotificationType(kind) if kind in NotificationType.__members__ else NotificationType.MESSAGE,
            title=notification.title,
            body=notification.body,
            link=notification.link,
            data=JSON(notification.data),
            read_at=notification.read_at,
            created_at=notification.created_at,
        )

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        """Only its user reads a notification; anyone else's is exactly like a missing one."""
        principal = info.context.principal
        return await load_nodes(
            node_ids,
            "Notification",
            info.context.loaders.notifications.notification,
            cls.from_model,
            lambda notification: can_read_notification(principal, notification),
        )


@strawberry.type(description="Whether one type of notification reaches you on one channel.")
class NotificationPreference:
    type: NotificationType = strawberry.field(description="The notification type.")
    channel: NotificationChannel = strawberry.field(description="How it reaches you: in the app or by mail.")
    enabled: bool = strawberry.field(description="True when this type reaches you on this channel.")
    is_default: bool = strawberry.field(
        description="True while you made no choice (the type's default applies)."
    )

    @classmethod
    def from_result(cls, preference: Preference) -> Self:
        return cls(
            type=preference.type,
            channel=preference.channel,
            enabled=preference.enabled,
            is_default=preference.default,
        )


@strawberry.type(description="A browser of yours that gets Web Push notifications.")
class PushSubscription:
    endpoint: str = strawberry.field(description="The push service's URL for that browser.")
    created_at: datetime = strawberry.field(description="When it was registered (UTC).")


@strawberry.type(description="Your unread count after a change of your notifications.")
class UnreadCountUpdate:
    count: int = strawberry.field(description="Your unread notifications now.")
    user_uuid: strawberry.Private[uuid.UUID]
