"""Notification resolvers: your notifications, unread count and preferences; marking read,
deleting, preferences; ``sendNotification`` for services; the ``notificationReceived`` and
``unreadCount`` subscriptions."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.scopes import ApiScope
from schema.directives import AUTHENTICATED, SERVICE_ONLY, HasScope, access
from schema.errors import mutation_payload
from schema.nodes import parse_uuid, reference_uuid
from schema.notifications.inputs import (
    DeleteNotificationInput,
    DeleteNotificationPayload,
    MarkAllNotificationsReadInput,
    MarkAllNotificationsReadPayload,
    MarkNotificationsReadInput,
    MarkNotificationsReadPayload,
    NotificationFilterInput,
    NotificationPreferencesPayload,
    RegisterPushSubscriptionInput,
    RegisterPushSubscriptionPayload,
    SendNotificationInput,
    SendNotificationPayload,
    UnregisterPushSubscriptionInput,
    UnregisterPushSubscriptionPayload,
    UpdateNotificationPreferencesInput,
)
from schema.notifications.types import (
    Notification,
    NotificationPreference,
    PushSubscription,
    UnreadCountUpdate,
)
from schema.pagination import FILTER, After, Before, Connection, First, Last, connection, page_args
from services.notifications import inbox, live, preferences, push
from services.notifications.inbox import Message, NotificationFilter

SEND = HasScope(ApiScope.NOTIFICATIONS_SEND)


def _preferences(found: list[preferences.Preference]) -> NotificationPreferencesPayload:
    return NotificationPreferencesPayload(preferences=[NotificationPreference.from_result(p) for p in found])


def _input(description: str) -> Any:
    return strawberry.argument(description=description)


@strawberry.type
class NotificationQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="Your notifications, newest first (only yours: nobody reads another user's).",
    )
    async def notifications(
        self,
        info: Info,
        filter: Annotated[NotificationFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Notification]:
        f = filter or NotificationFilterInput()
        page = await inbox.list_notifications(
            info.context.services,
            NotificationFilter(unread=f.unread, type=f.type),
            page_args(first, after, last, before),
        )
        return connection(page, Notification.from_model)

    @strawberry.field(
        extensions=access(AUTHENTICATED), description="How many of your notifications are unread."
    )
    async def unread_notification_count(self, info: Info) -> int:
        return await inbox.unread_count(info.context.services)

    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="Every notification type and channel (a fixed set, not paged) with whether it "
        "reaches you: your choice, or the type's default.",
    )
    async def notification_preferences(self, info: Info) -> list[NotificationPreference]:
        found = await preferences.my_preferences(info.context.services)
        return [NotificationPreference.from_result(p) for p in found]

    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="The VAPID public key browsers subscribe with (applicationServerKey, base64url); "
        "null when this server sends no Web Push.",
    )
    def web_push_public_key(self, info: Info) -> str | None:
        return push.public_key(info.context.services.settings)


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(extensions=access(AUTHENTICATED), description="Marks notifications of yours read.")
    async def mark_notifications_read(
        self, info: Info, input: Annotated[MarkNotificationsReadInput, _input("Which notifications.")]
    ) -> MarkNotificationsReadPayload:
        services = info.context.services
        ids = [parse_uuid(i, "Notification") for i in input.ids]
        marked = await mutation_payload(
            MarkNotificationsReadPayload,
            inbox.mark_read(services, ids),
            lambda rows: MarkNotificationsReadPayload(
                notifications=[Notification.from_model(r) for r in rows]
            ),
        )
        if not marked.user_errors:
            marked.unread_count = await inbox.unread_count(services)
        return marked

    @strawberry.mutation(
        extensions=access(AUTHENTICATED), description="Marks every unread notification of yours read."
    )
    async def mark_all_notifications_read(
        self,
        info: Info,
        input: Annotated[MarkAllNotificationsReadInput | None, _input("Nothing needed.")] = None,
    ) -> MarkAllNotificationsReadPayload:
        given = input.client_mutation_id if input is not None else None
        return await mutation_payload(
            MarkAllNotificationsReadPayload,
            inbox.mark_all_read(info.context.services),
            lambda count: MarkAllNotificationsReadPayload(marked_count=count, client_mutation_id=given),
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Deletes a notification of yours (NOT_FOUND for anyone else's).",
    )
    async def delete_notification(
        self, info: Info, input: Annotated[DeleteNotificationInput, _input("Which notification.")]
    ) -> DeleteNotificationPayload:
        return await mutation_payload(
            DeleteNotificationPayload,
            inbox.delete_notification(info.context.services, parse_uuid(input.id, "Notification")),
            lambda gone: DeleteNotificationPayload(deleted_id=relay.GlobalID("Notification", str(gone))),
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Sets whether notification types reach you on each channel.",
    )
    async def update_notification_preferences(
        self, info: Info, input: Annotated[UpdateNotificationPreferencesInput, _input("The choices.")]
    ) -> NotificationPreferencesPayload:
        changes = [preferences.Change(p.type, p.channel, p.enabled) for p in input.preferences]
        return await mutation_payload(
            NotificationPreferencesPayload,
            preferences.update_preferences(info.context.services, changes),
            _preferences,
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Registers a browser of yours for Web Push (again: renews its keys).",
    )
    async def register_push_subscription(
        self,
        info: Info,
        input: Annotated[RegisterPushSubscriptionInput, _input("The browser's subscription.")],
    ) -> RegisterPushSubscriptionPayload:
        new = push.NewSubscription(endpoint=input.endpoint, p256dh=input.p256dh, auth=input.auth)
        return await mutation_payload(
            RegisterPushSubscriptionPayload,
            push.register_subscription(info.context.services, new),
            lambda row: RegisterPushSubscriptionPayload(
                subscription=PushSubscription(endpoint=row.endpoint, created_at=row.created_at)
            ),
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED), description="Stops Web Push to a browser of yours."
    )
    async def unregister_push_subscription(
        self, info: Info, input: Annotated[UnregisterPushSubscriptionInput, _input("Which browser.")]
    ) -> UnregisterPushSubscriptionPayload:
        return await mutation_payload(
            UnregisterPushSubscriptionPayload,
            push.unregister_subscription(info.context.services, input.endpoint),
            lambda removed: UnregisterPushSubscriptionPayload(removed=removed),
        )

    @strawberry.mutation(
        extensions=access(SERVICE_ONLY, SEND),
        description="Sends a notification to users of the tenant, by their preferences (service-only).",
    )
    async def send_notification(
        self, info: Info, input: Annotated[SendNotificationInput, _input("What, to whom.")]
    ) -> SendNotificationPayload:
        message = Message(
            user_ids=[reference_uuid(i, "User") for i in input.user_ids],
            title=input.title,
            body=input.body,
            link=input.link,
            type=input.type,
            data=input.data if input.data is not None else {},
        )
        return await mutation_payload(
            SendNotificationPayload,
            inbox.send_notification(info.context.services, message),
            lambda sent: SendNotificationPayload(sent_count=len(sent)),
        )


@strawberry.type
class NotificationSubscription:
    @strawberry.subscription(
        extensions=access(AUTHENTICATED), description="Each notification created for you, as it comes."
    )
    async def notification_received(self, info: Info) -> AsyncGenerator[Notification, None]:
        context = info.context
        async for change in live.notifications_received(context.services, context.fanout, context.access):
            if change.notification is not None:
                context.resolve_event_with(change.loaders)
                yield Notification.from_model(change.notification)

    @strawberry.subscription(
        extensions=access(AUTHENTICATED),
        description="Your unread notification count after each change (new, read, deleted).",
    )
    async def unread_count(self, info: Info) -> AsyncGenerator[UnreadCountUpdate, None]:
        context = info.context
        async for change in live.unread_counts(context.services, context.fanout, context.access):
            yield UnreadCountUpdate(count=change.unread, user_uuid=change.user_id)
