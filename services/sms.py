"""Text messages to phones, behind a small adapter (beside services/context.py, which carries the
sender: inside services/identity it would make the two import each other).

A sender takes the message inside the caller's transaction, so that a code exists for the user
exactly when its message does. The default keeps every message in the ``sms_messages`` table (the
embedded run, the demo and the tests read them there); a provider's sender would queue it there
too and deliver after commit, as services/billing/mail.py does for mail."""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from models.identity.verification import SmsMessage


class SmsSender(Protocol):
    def send(self, session: AsyncSession, *, tenant_id: uuid.UUID, to: str, body: str) -> None:
        """Take one message to ``to`` (E.164) in ``session``'s transaction."""


class StoredSms:
    """Keeps each message as an ``SmsMessage`` row of the tenant."""

    def send(self, session: AsyncSession, *, tenant_id: uuid.UUID, to: str, body: str) -> None:
        session.add(SmsMessage(id=uuid.uuid4(), tenant_id=tenant_id, to_number=to, body=body))
