"""Platform operations (services/platform): maintenance mode, announcements, feature flags (a
global default and per-tenant overrides), help links and the client error reports."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow
from models.identity.accounts import enum_column


class MaintenanceState(Base):
    """The platform's maintenance mode: one row (id 1), platform-wide."""

    __tablename__ = "maintenance_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    message: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[uuid.UUID | None]


class AnnouncementKind(enum.StrEnum):
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class Announcement(Base):
    """A banner every tenant's users see while it is active: platform-wide (seed 001 has one
    deployment; here the platform operator speaks to all tenants)."""

    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_created", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(String(5000))
    kind: Mapped[AnnouncementKind] = mapped_column(enum_column(AnnouncementKind))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[uuid.UUID | None]


class FeatureFlag(Base):
    """A feature flag by name with its global default (platform-wide)."""

    __tablename__ = "feature_flags"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    enabled: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeatureFlagOverride(TenantOwned, Base):
    """One tenant's value of a flag, over its global default."""

    __tablename__ = "feature_flag_overrides"
    __table_args__ = (UniqueConstraint("tenant_id", "flag_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    flag_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("feature_flags.id", ondelete="CASCADE"), index=True)
    enabled: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class HelpLink(TenantOwned, Base):
    """A link of the tenant's help menu (docs, support), by key."""

    __tablename__ = "help_links"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClientErrorReport(TenantOwned, Base):
    """A UI error a signed-in client reported (an ErrorBoundary's catch)."""

    __tablename__ = "client_error_reports"
    __table_args__ = (Index("ix_client_error_reports_tenant_created", "tenant_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(String(2000))
    stack: Mapped[str | None] = mapped_column(String(20000))
    url: Mapped[str | None] = mapped_column(String(2000))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
