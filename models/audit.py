"""The audit log: one immutable row per mutation or REST shim call (services/audit.py writes them;
migration 0014 makes the table refuse UPDATE and DELETE)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, new_id, utcnow


class AuditOutcome(enum.StrEnum):
    SUCCESS = "SUCCESS"
    USER_ERROR = "USER_ERROR"  # the payload's userErrors (codes in user_error_codes)
    FORBIDDEN = "FORBIDDEN"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    ERROR = "ERROR"  # any other failure (its code in error_code)


class ActorKind(enum.StrEnum):
    ANONYMOUS = "ANONYMOUS"
    USER = "USER"
    API_KEY = "API_KEY"
    SERVICE = "SERVICE"


def _enum(kind: type[enum.StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, native_enum=False, length=32)


class AuditEntry(Base):
    """Not TenantOwned: an entry may belong to no tenant (a cross-tenant service call), which the
    tenancy guard refuses; services/audit.py filters by tenant itself, and row-level security
    (migration 0014) holds on PostgreSQL."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_audit_entries_created", "created_at", "id"),
        # A user's own activity (me { recentActivity }).
        Index("ix_audit_entries_actor_created", "actor_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    # None: a call with no tenant (a service principal acting across tenants, an anonymous caller).
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), default=utcnow)
    actor_kind: Mapped[ActorKind] = mapped_column(_enum(ActorKind, "auditactorkind"))
    # The user (USER, API_KEY), or the service client (SERVICE); no foreign key: entries outlive them.
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(200))
    target_type: Mapped[str | None] = mapped_column(String(100))
    target_id: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[AuditOutcome] = mapped_column(_enum(AuditOutcome, "auditoutcome"))
    error_code: Mapped[str | None] = mapped_column(String(64))
    user_error_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    correlation_id: Mapped[str | None] = mapped_column(String(128))
    # What a service principal appended (recordAuditEntry, POST /audit-logs) says beyond the columns.
    details: Mapped[dict[str, object] | None] = mapped_column(JSON)
