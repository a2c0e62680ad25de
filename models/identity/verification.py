"""One-time secrets that prove an address (email or phone verification, password reset), and the
text messages sent to phones."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow
from models.identity.accounts import enum_column


class ChallengePurpose(enum.StrEnum):
    VERIFY_EMAIL = "VERIFY_EMAIL"
    VERIFY_PHONE = "VERIFY_PHONE"
    RESET_PASSWORD = "RESET_PASSWORD"


class Channel(enum.StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"


class VerificationChallenge(TenantOwned, Base):
    """A secret sent to ``sent_to``: a link token (found by its SHA-256) or a short code (argon2,
    checked against the user's open challenge). Single use, expiring, a few attempts."""

    __tablename__ = "verification_challenges"
    __table_args__ = (Index("ix_verification_challenges_user_purpose", "user_id", "purpose"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[ChallengePurpose] = mapped_column(enum_column(ChallengePurpose))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    # The address or number the secret went to: it proves that one, not whatever the user has later.
    sent_to: Mapped[str] = mapped_column(String(320))
    # The secret itself is never stored.
    secret_hash: Mapped[str] = mapped_column(String(200), unique=True)
    # An email link's mail carries a 6-digit code too: its keyed SHA-256 (services/identity/
    # verification_codes.py), typed instead of opening the link.
    code_hash: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # Set when used, and when a newer challenge of the same purpose replaced it.
    consumed_at: Mapped[datetime | None]


class SmsMessage(TenantOwned, Base):
    """A text message as sent through services/sms.py (the stored default keeps them here)."""

    __tablename__ = "sms_messages"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    to_number: Mapped[str] = mapped_column(String(16))  # E.164
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
