"""API keys (a user's programmatic credential in their tenant) and service clients (OAuth2 client
credentials of the platform's own services and partners). Secrets are stored only as hashes."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow
from models.identity.accounts import enum_column


class ApiKeyEnvironment(enum.StrEnum):
    LIVE = "LIVE"
    TEST = "TEST"


class ApiKey(TenantOwned, Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        Index("ix_api_keys_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_api_keys_user_created", "user_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # The key acts as this user (their roles, in their tenant), narrowed to its scopes.
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    environment: Mapped[ApiKeyEnvironment] = mapped_column(enum_column(ApiKeyEnvironment))
    # What is shown of the secret: its first characters (tg_live_ or tg_test_ and 6 more) and last 4.
    key_prefix: Mapped[str] = mapped_column(String(16))
    last_four: Mapped[str] = mapped_column(String(4))
    # SHA-256 of the whole secret (256 random bits: a fast hash suffices); the secret is not kept.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # core/scopes.py ApiScope values, and IPv4/IPv6 networks (empty: any address).
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    allowed_ips: Mapped[list[str]] = mapped_column(JSON, default=list)
    rate_limit_per_minute: Mapped[int]
    expires_at: Mapped[datetime | None]
    # Written in batches by services/identity/api_keys.py:KeyUsage, not on every request.
    last_used_at: Mapped[datetime | None]
    usage_count: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(500))
    revoked_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ServiceClient(Base):
    """A platform-wide OAuth2 client (no tenant of its own): its tokens act across tenants, for
    the operations its scopes name."""

    __tablename__ = "service_clients"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # The public client_id of RFC 6749 (tgc_ and 16 random characters).
    client_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # When a token was last issued to it.
    last_token_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(500))
