"""Tenant administration beyond the tenant row's core: its quotas, trial end and soft delete
(columns of ``tenants``, declared here and mixed into models/identity/accounts.py:Tenant), its
branding and its custom domains."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow

# Only one tenant may hold a hostname verified (pending claims of several tenants may coexist:
# a squatter's unverified claim blocks no one).
VERIFIED = text("verified_at IS NOT NULL")


class TenantProfileColumns:
    """The tenant's quotas, trial end and deletion mark (columns of ``tenants``)."""

    # Null: no limit. Enforced where users and products are created (services/identity/limits.py).
    max_users: Mapped[int | None]
    max_products: Mapped[int | None]
    # A TRIAL tenant past this moment cannot sign in; null: a trial without end.
    trial_ends_at: Mapped[datetime | None]
    # Soft delete by a platform admin: hidden, signed out, restorable for a while.
    deleted_at: Mapped[datetime | None]
    # Whom to reach (seed 002's contact_* fields besides contact_email) and where invoices go.
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    billing_email: Mapped[str | None] = mapped_column(String(320))


class DomainCheckMethod(enum.StrEnum):
    DNS_TXT = "DNS_TXT"
    HTTP_FILE = "HTTP_FILE"


class TenantBranding(TenantOwned, Base):
    """How a tenant's pages and mails look; every field optional (null: the platform default)."""

    __tablename__ = "tenant_brandings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    display_name: Mapped[str | None] = mapped_column(String(200))
    logo_url: Mapped[str | None] = mapped_column(String(2000))
    logo_dark_url: Mapped[str | None] = mapped_column(String(2000))
    favicon_url: Mapped[str | None] = mapped_column(String(2000))
    primary_color: Mapped[str | None] = mapped_column(String(7))
    secondary_color: Mapped[str | None] = mapped_column(String(7))
    support_url: Mapped[str | None] = mapped_column(String(2000))
    terms_url: Mapped[str | None] = mapped_column(String(2000))
    privacy_url: Mapped[str | None] = mapped_column(String(2000))
    email_from_name: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TenantOrigin(TenantOwned, Base):
    """A browser origin (scheme://host[:port]) a tenant's web apps call the API from: CORS allows
    it (server/cors.py) while the tenant is in service."""

    __tablename__ = "tenant_origins"
    __table_args__ = (UniqueConstraint("tenant_id", "origin"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    origin: Mapped[str] = mapped_column(String(300), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TenantDomain(TenantOwned, Base):
    """A hostname a tenant claims, verified by a DNS TXT record or a file served over HTTP."""

    __tablename__ = "tenant_domains"
    __table_args__ = (
        UniqueConstraint("tenant_id", "hostname"),
        Index(
            "ix_tenant_domains_verified_hostname",
            "hostname",
            unique=True,
            postgresql_where=VERIFIED,
            sqlite_where=VERIFIED,
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    hostname: Mapped[str] = mapped_column(String(253))
    # The TXT value to publish; public by nature (it is published), so stored as is.
    challenge_token: Mapped[str] = mapped_column(String(64))
    method: Mapped[DomainCheckMethod] = mapped_column(
        Enum(
            DomainCheckMethod,
            native_enum=False,
            length=32,
            values_callable=lambda members: [m.value for m in members],
        ),
        default=DomainCheckMethod.DNS_TXT,
        server_default=DomainCheckMethod.DNS_TXT.value,
    )
    challenge_expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_at: Mapped[datetime | None]
