"""Notification inputs and payloads."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from schema.errors import UserError, user_errors_field
from schema.notifications.enums import NotificationChannel, NotificationType
from schema.notifications.types import Notification, NotificationPreference, PushSubscription


@strawberry.input(description="Which notifications to list; the conditions given all apply.")
class NotificationFilterInput:
    unread: bool | None = strawberry.field(
        default=None, description="True: only unread ones; false: only read ones."
    )
    type: NotificationType | None = strawberry.field(default=None, description="Only of this type.")


@strawberry.input(description="Notifications of yours to mark read.")
class MarkNotificationsReadInput:
    ids: list[relay.GlobalID] = strawberry.field(description="Their global ids (1 to 100).")


@strawberry.input(description="Every unread notification of yours is marked read.")
class MarkAllNotificationsReadInput:
    client_mutation_id: str | None = strawberry.field(
        default=None, description="Anything; given back unchanged (the input has nothing else to say)."
    )


@strawberry.input(description="A notification of yours to delete.")
class DeleteNotificationInput:
    id: relay.GlobalID = strawberry.field(description="Its global id.")


@strawberry.input(description="Whether one type of notification reaches you on one channel.")
class NotificationPreferenceInput:
    type: NotificationType = strawberry.field(description="The notification type.")
    channel: NotificationChannel = strawberry.field(description="How it reaches you: in the app or by mail.")
    enabled: bool = strawberry.field(description="True to get it there, false not to.")


@strawberry.input(description="Your choices to change; the others stay as they are.")
class UpdateNotificationPreferencesInput:
    preferences: list[NotificationPreferenceInput] = strawberry.field(
        description="At most 100, each type and channel once."
    )


@strawberry.input(description="A notification to send to users of the tenant.")
class SendNotificationInput:
    user_ids: list[relay.GlobalID] = strawberry.field(description="The users' global ids (1 to 100).")
    title: str = strawberry.field(description="One line, at most 200 characters.")
    body: str = strawberry.field(default="", description="The text, at most 2000 characters.")
    link: str | None = strawberry.field(
        default=None, description="An https URL or a path of the app (/...), at most 2000 characters."
    )
    type: NotificationType = strawberry.field(
        default=NotificationType.MESSAGE, description="Its type (its recipients' preferences apply)."
    )
    data: JSON | None = strawberry.field(default=None, description="A JSON object of at most 4 KiB.")


@strawberry.input(description="A browser's push subscription (PushSubscription.toJSON() in the browser).")
class RegisterPushSubscriptionInput:
    endpoint: str = strawberry.field(description="The push service's URL (https), at most 2000 characters.")
    p256dh: str = strawberry.field(description="The browser's P-256 public key (keys.p256dh, base64url).")
    auth: str = strawberry.field(description="The browser's auth secret (keys.auth, base64url, 16 bytes).")


@strawberry.input(description="A browser of yours that should get no more push notifications.")
class UnregisterPushSubscriptionInput:
    endpoint: str = strawberry.field(description="Its push service URL, as registered.")


@strawberry.type(description="The browser registered; or userErrors.")
class RegisterPushSubscriptionPayload:
    subscription: PushSubscription | None = strawberry.field(default=None, description="As stored.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="Whether a browser of yours was registered with that endpoint; or userErrors.")
class UnregisterPushSubscriptionPayload:
    removed: bool | None = strawberry.field(default=None, description="True when one was removed.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The notifications marked read, and your unread count now; or userErrors.")
class MarkNotificationsReadPayload:
    notifications: list[Notification] = strawberry.field(default_factory=list, description="As they are now.")
    unread_count: int | None = strawberry.field(default=None, description="Your unread notifications now.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="How many notifications were marked read; or userErrors.")
class MarkAllNotificationsReadPayload:
    marked_count: int | None = strawberry.field(default=None, description="How many were unread.")
    client_mutation_id: str | None = strawberry.field(default=None, description="The input's, unchanged.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The id of the notification deleted; or userErrors.")
class DeleteNotificationPayload:
    deleted_id: relay.GlobalID | None = strawberry.field(default=None, description="Its global id.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="Your preferences after the change (every type and channel); or userErrors.")
class NotificationPreferencesPayload:
    preferences: list[NotificationPreference] = strawberry.field(
        default_factory=list, description="Every type and channel, as they apply now."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="How many in-app notifications were created; or userErrors.")
class SendNotificationPayload:
    sent_count: int | None = strawberry.field(
        default=None,
        description="Notifications created (recipients who turned the type off in-app get none).",
    )
    user_errors: list[UserError] = user_errors_field()
