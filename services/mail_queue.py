"""Queueing outgoing mail: a MailMessage stored in the caller's transaction, so the mail exists
exactly when the change that caused it does. Delivery is services/billing/mail.py's sender.

Apart from the sender so that every domain may queue mail (identity's invites, resets and
verifications) without importing billing, which imports identity."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.billing import MailMessage, MailStatus


def queue_mail(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    to: str,
    subject: str,
    body: str,
    attachments: dict[str, Any] | None = None,
) -> MailMessage:
    message = MailMessage(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        to_address=to,
        subject=subject[:500],
        body_text=body,
        attachments=attachments or {},
        status=MailStatus.QUEUED,
        attempts=0,
    )
    session.add(message)
    return message
