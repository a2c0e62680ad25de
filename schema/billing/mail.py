"""Outgoing mail as the tenant's admins see it."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry
from strawberry.scalars import JSON

from models import billing as models
from models.billing import MailStatus
from schema.enums import documented_enum

documented_enum(
    MailStatus,
    "Delivery state of an outgoing e-mail.",
    {
        MailStatus.QUEUED: "Stored, waiting to be sent (or to be retried at nextAttemptAt).",
        MailStatus.SENT: "Handed to the mail server.",
        MailStatus.FAILED: "Never sent: refused for good (5xx), or every attempt failed (see lastError).",
    },
)


@strawberry.type(description="An outgoing e-mail, stored first and delivered by the mail sender.")
class MailMessage:
    id: strawberry.ID = strawberry.field(description="Opaque id of the message.")
    to: str = strawberry.field(description="Recipient address.")
    subject: str = strawberry.field(description="Subject line.")
    body_text: str = strawberry.field(description="Plain-text body.")
    attachments: JSON = strawberry.field(
        description='Attachment list as JSON, e.g. [{"filename": ..., "contentType": ...}].'
    )
    status: MailStatus = strawberry.field(description="Delivery state.")
    attempts: int = strawberry.field(description="Delivery attempts so far.")
    last_error: str | None = strawberry.field(description="Why the last attempt failed, if it did.")
    created_at: datetime = strawberry.field(description="When it was queued (UTC).")
    sent_at: datetime | None = strawberry.field(description="When it was sent (UTC).")
    next_attempt_at: datetime | None = strawberry.field(
        description="QUEUED after a failed attempt: not tried again before this (UTC)."
    )

    @classmethod
    def from_model(cls, message: models.MailMessage) -> Self:
        return cls(
            id=strawberry.ID(str(message.id)),
            to=message.to_address,
            subject=message.subject,
            body_text=message.body_text,
            attachments=JSON(message.attachments),
            status=message.status,
            attempts=message.attempts,
            last_error=message.last_error,
            created_at=message.created_at,
            sent_at=message.sent_at,
            next_attempt_at=message.next_attempt_at,
        )
