"""Privacy (GDPR, CCPA): consent records (appended, never updated) and personal data export jobs."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow
from models.identity.accounts import enum_column


class ConsentPurpose(enum.StrEnum):
    MARKETING_EMAILS = "MARKETING_EMAILS"
    ANALYTICS = "ANALYTICS"
    PERSONALISATION = "PERSONALISATION"
    THIRD_PARTY_SHARING = "THIRD_PARTY_SHARING"
    # CCPA's "sale of personal information": not granted means do-not-sell.
    SALE_OF_PERSONAL_DATA = "SALE_OF_PERSONAL_DATA"


class ConsentSource(enum.StrEnum):
    USER = "USER"  # recordConsent / setDoNotSell
    GPC = "GPC"  # a signed-in request carrying Sec-GPC: 1


class ConsentRecord(TenantOwned, Base):
    """One consent decision. The current state of a purpose is its newest record; after an erasure
    the records stay (as history of the anonymised user) without IP and user agent."""

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_user_purpose", "user_id", "purpose", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[ConsentPurpose] = mapped_column(enum_column(ConsentPurpose))
    granted: Mapped[bool]
    source: Mapped[ConsentSource] = mapped_column(enum_column(ConsentSource))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExportStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    READY = "READY"
    FAILED = "FAILED"


class DataExport(TenantOwned, Base):
    """A user's request for their personal data: a worker collects it into ``document``; the
    download link's token is single use and expiring, stored only as its SHA-256."""

    __tablename__ = "data_exports"
    __table_args__ = (Index("ix_data_exports_status_created", "status", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[ExportStatus] = mapped_column(enum_column(ExportStatus), default=ExportStatus.QUEUED)
    document: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None]
    downloaded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # How often a worker took the job up: one left RUNNING by a dead process is taken up again
    # (services/identity/data_export.py), up to a limit.
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
