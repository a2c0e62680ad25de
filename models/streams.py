"""Live streams (services/streams): a user's stream with its ingest key, and moderation reports
on users, streams and comments."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow
from models.identity.accounts import enum_column


class StreamStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    LIVE = "LIVE"
    ENDED = "ENDED"


class Stream(TenantOwned, Base):
    __tablename__ = "streams"
    __table_args__ = (
        Index("ix_streams_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_streams_user_created", "user_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(5000), default="")
    category: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[StreamStatus] = mapped_column(enum_column(StreamStatus), default=StreamStatus.DRAFT)
    viewer_count: Mapped[int] = mapped_column(default=0)
    # The ingest key: its SHA-256 (hex) is what the ingest callback looks up (unique across every
    # tenant: the key names the tenant), the key itself is kept AES-GCM encrypted for its owner.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_ciphertext: Mapped[str] = mapped_column(String(255))
    # Banned by a moderator (a report's BAN): ingest refuses its key.
    banned: Mapped[bool] = mapped_column(default=False, server_default=false())
    # +1 on every change a subscriber sees (status, viewers).
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]


class ReportTarget(enum.StrEnum):
    USER = "USER"
    STREAM = "STREAM"
    COMMENT = "COMMENT"


class ReportStatus(enum.StrEnum):
    PENDING = "PENDING"
    RESOLVED = "RESOLVED"
    DISMISSED = "DISMISSED"


class ReportAction(enum.StrEnum):
    RESOLVE = "RESOLVE"
    DISMISS = "DISMISS"
    BAN = "BAN"
    WARN = "WARN"


class ModerationReport(TenantOwned, Base):
    __tablename__ = "moderation_reports"
    __table_args__ = (
        Index("ix_moderation_reports_tenant_status_created", "tenant_id", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    reporter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    target_type: Mapped[ReportTarget] = mapped_column(enum_column(ReportTarget))
    target_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(String(100))
    details: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[ReportStatus] = mapped_column(enum_column(ReportStatus), default=ReportStatus.PENDING)
    action: Mapped[ReportAction | None] = mapped_column(enum_column(ReportAction), nullable=True)
    resolution_note: Mapped[str | None] = mapped_column(String(500))
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
