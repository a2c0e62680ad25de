"""OAuth / OIDC sign-in: started sign-ins (state and PKCE verifier, kept server-side so any process
can finish them), provider identities linked to users, which sessions a provider opened, and the
Telegram logins already used (services/identity/telegram.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow


class OAuthState(TenantOwned, Base):
    """One started authorization request: consumed (deleted) by its callback, at most once."""

    __tablename__ = "oauth_states"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # SHA-256 of the state the browser carries: a database read does not hand out live states.
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[str] = mapped_column(String(32))
    # The PKCE verifier must reach the token endpoint as it is; it is worthless without the code.
    code_verifier: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class UserIdentity(TenantOwned, Base):
    """A provider's account (its subject) that signs in as one user of the tenant."""

    __tablename__ = "user_identities"
    __table_args__ = (
        UniqueConstraint("tenant_id", "provider", "subject"),
        Index("ix_user_identities_user", "user_id", "provider"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    # The provider's address when last seen (informational: sign-in goes by subject).
    email: Mapped[str | None] = mapped_column(String(320))
    # What the provider calls the account besides (a Telegram @username), shown in the list.
    display_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class OAuthSignIn(TenantOwned, Base):
    """The provider that opened a sign-in session (OIDC logout goes back to it)."""

    __tablename__ = "oauth_sign_ins"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    identity_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_identities.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(32))


class TelegramLogin(Base):
    """A Telegram Login Widget answer already signed in with: refused if presented again while it
    is fresh. Of no tenant: one answer signs in once, anywhere."""

    __tablename__ = "telegram_logins"

    # SHA-256 of the widget's hash (which covers every field it sent).
    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
