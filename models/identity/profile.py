"""A user's own profile: the columns of ``users`` it adds (mixed into models/identity/accounts.py:User),
custom avatar images, and pending changes of the sign-in address."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow


class Gender(enum.StrEnum):
    MALE = "MALE"
    FEMALE = "FEMALE"
    OTHER = "OTHER"
    PREFER_NOT_TO_SAY = "PREFER_NOT_TO_SAY"


class UserProfileColumns:
    """What a user tells about themself, their notification opt-ins, avatar and preferences."""

    slogan: Mapped[str | None] = mapped_column(String(200))
    about_me: Mapped[str | None] = mapped_column(Text)
    company_name: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(2000))
    birth_date: Mapped[date | None]
    # A Gender value (plain string: the enum is the API's to check).
    gender: Mapped[str | None] = mapped_column(String(20))
    notify_by_email: Mapped[bool] = mapped_column(default=True, server_default=true())
    notify_by_sms: Mapped[bool] = mapped_column(default=False, server_default=false())
    notify_by_push: Mapped[bool] = mapped_column(default=False, server_default=false())
    notify_by_telegram: Mapped[bool] = mapped_column(default=False, server_default=false())
    # At most one of these: a picture of the library (services/identity/avatars.py) or an upload.
    avatar_library_id: Mapped[uuid.UUID | None]
    avatar_upload_id: Mapped[uuid.UUID | None]
    # Free-form settings of the user's clients (merge-patched, bounded); null: none yet.
    preferences: Mapped[dict[str, Any] | None]


class UserAvatar(TenantOwned, Base):
    """An image a user uploaded as their avatar (type and size checked on the way in)."""

    __tablename__ = "user_avatars"
    __table_args__ = (Index("ix_user_avatars_user", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EmailChange(TenantOwned, Base):
    """A requested change of a user's sign-in address, done when the link mailed to the new
    address comes back (the token is stored as its SHA-256 only)."""

    __tablename__ = "email_changes"
    __table_args__ = (Index("ix_email_changes_user", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    new_email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # Set when confirmed, and when a newer request replaced it.
    consumed_at: Mapped[datetime | None]
