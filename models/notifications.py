"""Notifications: what a user is told (created by services/notifications from domain events in
the transaction that recorded them, or sent by a service), and each user's choice of channels per
notification type."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow
from models.identity.accounts import enum_column


class NotificationType(enum.StrEnum):
    """Stored as a plain string code (String(64), no CHECK): a new type needs no migration."""

    ORDER_PAID = "ORDER_PAID"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    PROVISIONING_ACTIVE = "PROVISIONING_ACTIVE"
    PROVISIONING_FAILED = "PROVISIONING_FAILED"
    INVITE_ACCEPTED = "INVITE_ACCEPTED"
    DATA_EXPORT_READY = "DATA_EXPORT_READY"
    TICKET_REPLY = "TICKET_REPLY"
    TICKET_COMMENT = "TICKET_COMMENT"
    TICKET_STATUS_CHANGED = "TICKET_STATUS_CHANGED"
    TICKET_ASSIGNED = "TICKET_ASSIGNED"
    MESSAGE = "MESSAGE"


class NotificationChannel(enum.StrEnum):
    IN_APP = "IN_APP"
    EMAIL = "EMAIL"
    WEB_PUSH = "WEB_PUSH"


class PushStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    SENT = "SENT"
    FAILED = "FAILED"


class Notification(TenantOwned, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # The inbox, newest first, and its unread part.
        Index("ix_notifications_user_created", "user_id", "created_at", "id"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
        # One notification per event and recipient, whatever replays the event.
        UniqueConstraint("event_id", "user_id", "type"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(2000))
    link: Mapped[str | None] = mapped_column(String(2000))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The outbox event it came from; None when a service sent it.
    event_id: Mapped[uuid.UUID | None]
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationPreference(TenantOwned, Base):
    """A user's choice for one type and channel; without a row the type's default applies
    (services/notifications/preferences.py)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "type", "channel"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(64))
    channel: Mapped[NotificationChannel] = mapped_column(enum_column(NotificationChannel))
    enabled: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushSubscription(TenantOwned, Base):
    """A browser's Web Push subscription of one user (RFC 8030/8291): where to POST and the keys
    to encrypt for. Removed when the push service answers 404 or 410."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "endpoint"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(2000))
    # The browser's P-256 public key (65 bytes) and auth secret (16 bytes), base64url.
    p256dh: Mapped[str] = mapped_column(String(100))
    auth: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushDelivery(TenantOwned, Base):
    """One push message to send to one subscription: queued in the notification's transaction,
    sent after commit by the push worker (services/notifications/push.py)."""

    __tablename__ = "push_deliveries"
    __table_args__ = (Index("ix_push_deliveries_status_created", "status", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[PushStatus] = mapped_column(enum_column(PushStatus), default=PushStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class NotificationTemplate(TenantOwned, Base):
    """A tenant's own mail template of one notification type (Jinja2, rendered in a sandbox by
    services/notifications/templates.py); without one the built-in template applies."""

    __tablename__ = "notification_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "type"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(1000))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
