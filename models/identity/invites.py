"""Invites: a tenant admin asks someone by email to join the tenant with some roles."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow


class Invite(TenantOwned, Base):
    """Pending until accepted, revoked or past ``expires_at``; the token is kept only as a hash."""

    __tablename__ = "invites"
    __table_args__ = (Index("ix_invites_tenant_created", "tenant_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # The canonical address (core/emails.py), as stored for users.
    email: Mapped[str] = mapped_column(String(320))
    # Role names (core/permissions.py:Role values) granted on acceptance.
    roles: Mapped[list[str]] = mapped_column(JSON)
    # SHA-256 of the token mailed in the accept link.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]
