"""Identity: tenants, users, their roles, login sessions and refresh tokens."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, validates

from core.emails import email_skeleton
from core.permissions import Role
from models.base import Base, TenantOwned, new_id, utcnow
from models.identity.profile import UserProfileColumns
from models.identity.tenant_profile import TenantProfileColumns


def enum_column(enum_cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings with a CHECK constraint: portable between SQLite and PostgreSQL
    # and cheap to extend (no ALTER TYPE).
    return Enum(
        enum_cls,
        native_enum=False,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


class TenantKind(enum.StrEnum):
    INTERNAL = "INTERNAL"
    RESELLER = "RESELLER"
    ENTERPRISE = "ENTERPRISE"


class TenantStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    TRIAL = "TRIAL"
    SUSPENDED = "SUSPENDED"
    CANCELLED = "CANCELLED"


class UserStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    # Deleted by an admin: the row stays (orders and invoices point at it), anonymised.
    DELETED = "DELETED"


class Tenant(TenantProfileColumns, Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[TenantKind] = mapped_column(enum_column(TenantKind))
    status: Mapped[TenantStatus] = mapped_column(enum_column(TenantStatus))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def trial_expired(self) -> bool:
        # Only a TRIAL tenant's end counts: an ACTIVE one keeps its old trial end as history.
        ends = self.trial_ends_at
        return self.status == TenantStatus.TRIAL and ends is not None and ends <= utcnow()

    @property
    def can_sign_in(self) -> bool:
        return Tenant.signs_in(self.status, self.deleted_at, self.trial_ends_at, utcnow())

    @staticmethod
    def signs_in(
        status: TenantStatus, deleted_at: datetime | None, trial_ends_at: datetime | None, now: datetime
    ) -> bool:
        """Whether a tenant of these columns may sign in at ``now`` (for callers holding columns,
        not rows: the access store's join)."""
        trial_over = status == TenantStatus.TRIAL and trial_ends_at is not None and trial_ends_at <= now
        return status in (TenantStatus.ACTIVE, TenantStatus.TRIAL) and deleted_at is None and not trial_over


class User(UserProfileColumns, TenantOwned, Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        Index("ix_users_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_users_tenant_name", "tenant_id", "full_name", "id"),
        # Not unique: a tenant may hold look-alikes from before the check; new ones are refused.
        Index("ix_users_tenant_email_skeleton", "tenant_id", "email_skeleton"),
        # Phone numbers (E.164) and usernames (lower case) are each one account's in a tenant.
        UniqueConstraint("tenant_id", "phone"),
        UniqueConstraint("tenant_id", "username"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # Null for an account registered with a phone number only.
    email: Mapped[str | None] = mapped_column(String(320))
    # core/emails.py:email_skeleton of the email, kept in step by the validator below.
    email_skeleton: Mapped[str | None] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    status: Mapped[UserStatus] = mapped_column(enum_column(UserStatus), default=UserStatus.ACTIVE)
    email_verified: Mapped[bool] = mapped_column(default=False)
    # Set for a generated password (an admin-created user) and by an admin-forced reset: until the
    # user changes it, their sessions may do nothing else.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Set once a TOTP setup is verified (models/identity/mfa.py holds the secret): sign-in then asks
    # for a code.
    mfa_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Registration details (services/identity/registration.py): phone in E.164 (core/phones.py).
    phone: Mapped[str | None] = mapped_column(String(16))
    phone_verified: Mapped[bool] = mapped_column(default=False, server_default=false())
    username: Mapped[str | None] = mapped_column(String(32))
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    terms_accepted_at: Mapped[datetime | None]
    affiliate_code: Mapped[str | None] = mapped_column(String(64))
    # A ban (services/identity/user_admin.py): no sign-in while banned_at is set and banned_until
    # is null (until lifted) or still ahead; after it, sign-in works again by itself.
    banned_at: Mapped[datetime | None]
    banned_until: Mapped[datetime | None]
    ban_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None]

    @validates("email")
    def _follow_email(self, _key: str, email: str | None) -> str | None:
        self.email_skeleton = email_skeleton(email) if email is not None else None
        return email


class UserRole(TenantOwned, Base):
    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(enum_column(Role), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuthSession(TenantOwned, Base):
    """One sign-in: refresh tokens rotate within it; revoking it ends every token of it."""

    __tablename__ = "auth_sessions"
    # A user's sessions newest first (mySessions).
    __table_args__ = (Index("ix_auth_sessions_user_created", "user_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(64))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    # As the client named itself at sign-in (services/identity/sessions.py checks the lengths).
    device_id: Mapped[str | None] = mapped_column(String(128))
    device_name: Mapped[str | None] = mapped_column(String(200))


class RefreshToken(TenantOwned, Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    # SHA-256 of the opaque token: the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    rotated_at: Mapped[datetime | None]
