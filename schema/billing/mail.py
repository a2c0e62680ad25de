"""Outgoing mail as the tenant's admins see it."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry
from strawberry.scalars import JSON

from models import billing as models
from models.billing import MailStatus

strawberry.enum(MailStatus)


@strawberry.type(description="An outgoing e-mail, stored first and delivered by the mail sender.")
class MailMessage:
    id: strawberry.ID
    to: str
    subject: str
    body_text: str
    attachments: JSON
    status: MailStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

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
        )
