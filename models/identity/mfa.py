"""Multi-factor authentication (a user's factor: a TOTP secret or an SMS number; recovery codes;
sign-in challenges) and the tenant security settings (MFA for admins, minimum password length,
session lifetime)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow
from models.identity.accounts import enum_column


class MfaMethod(enum.StrEnum):
    TOTP = "TOTP"  # an authenticator app's time-based codes
    SMS = "SMS"  # a code texted to the factor's number at each sign-in


class MfaCredential(TenantOwned, Base):
    """A user's one MFA factor: written by setup, in use once ``users.mfa_enabled`` is set."""

    __tablename__ = "mfa_credentials"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # The factor id clients name it by; a new setup makes a new one.
    factor_id: Mapped[uuid.UUID] = mapped_column(unique=True, default=new_id)
    method: Mapped[MfaMethod] = mapped_column(enum_column(MfaMethod), default=MfaMethod.TOTP)
    label: Mapped[str | None] = mapped_column(String(100))
    # TOTP: AES-GCM of the base32 secret under a key derived from the mfa_encryption_key setting,
    # bound to the user id (services/identity/totp.py): never the secret itself. None for SMS.
    secret_ciphertext: Mapped[str | None] = mapped_column(String(200))
    # SMS: the number (E.164) the codes go to, fixed at setup.
    phone: Mapped[str | None] = mapped_column(String(16))
    # The TOTP time step of the last code accepted: a code of it or an earlier step is refused
    # (RFC 6238 section 5.2: no replay within the code's window).
    last_used_step: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MfaRecoveryCode(TenantOwned, Base):
    """One of the ten single-use codes handed out by setup, stored as a hash."""

    __tablename__ = "mfa_recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class MfaChallengePurpose(enum.StrEnum):
    # The password was right; a TOTP or recovery code completes the sign-in.
    LOGIN = "LOGIN"
    # The password was right, but the tenant requires MFA of this admin, who has none yet: the
    # challenge lets them set it up, and verifying the setup signs them in.
    SETUP = "SETUP"
    # A signed-in SMS user asked for a code to confirm a change (disable, new recovery codes).
    CONFIRM = "CONFIRM"


class MfaChallenge(TenantOwned, Base):
    """A sign-in half done: issued after the password check, single use, short-lived."""

    __tablename__ = "mfa_challenges"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the opaque challenge: the challenge itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[MfaChallengePurpose] = mapped_column(enum_column(MfaChallengePurpose))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # SMS factor: keyed SHA-256 of the texted code (services/identity/mfa_factors.py), and the
    # wrong codes tried against it (verification_max_attempts).
    code_hash: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    # The login's client, for the session the completed challenge opens.
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    device_id: Mapped[str | None] = mapped_column(String(128))
    device_name: Mapped[str | None] = mapped_column(String(200))


class TenantSecuritySettings(TenantOwned, Base):
    """A tenant's security policy; a tenant without a row has the defaults."""

    __tablename__ = "tenant_security_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    mfa_required_for_admins: Mapped[bool] = mapped_column(default=False)
    min_password_length: Mapped[int]
    # None: the server's refresh-token lifetime (refresh_token_ttl_seconds).
    session_lifetime_seconds: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
