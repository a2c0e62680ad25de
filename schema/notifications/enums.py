"""The notification enums, registered once for every notification schema module."""

from __future__ import annotations

from models.notifications import NotificationChannel, NotificationType
from schema.enums import documented_enum

__all__ = ["NotificationChannel", "NotificationType"]

T = NotificationType
documented_enum(
    NotificationType,
    "What a notification is about.",
    {
        T.ORDER_PAID: "Your order was paid.",
        T.PAYMENT_FAILED: "A payment of yours failed.",
        T.PROVISIONING_ACTIVE: "A service set up for you is ready (ACTIVE).",
        T.PROVISIONING_FAILED: "Setting up a service for you failed.",
        T.INVITE_ACCEPTED: "Someone accepted an invite you sent.",
        T.DATA_EXPORT_READY: "The export of your personal data is ready.",
        T.TICKET_REPLY: "Someone replied (publicly) on a ticket you opened.",
        T.TICKET_COMMENT: "The requester commented on a ticket assigned to you.",
        T.TICKET_STATUS_CHANGED: "Someone changed the status of a ticket you opened.",
        T.TICKET_ASSIGNED: "A ticket was assigned to you.",
        T.MESSAGE: "A message a service sent you (sendNotification).",
    },
)
documented_enum(
    NotificationChannel,
    "How a notification reaches you.",
    {
        NotificationChannel.IN_APP: "In the app: the notifications list, its count and subscriptions.",
        NotificationChannel.EMAIL: "By mail, to your account's address.",
        NotificationChannel.WEB_PUSH: "Web Push, to every browser you registered (registerPushSubscription).",
    },
)
