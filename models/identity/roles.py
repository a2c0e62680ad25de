"""Custom roles: a tenant's named sets of permissions (the catalogue: core/permissions.py's
built-ins and the platform's custom permissions), held by its users beside the system roles
(user_roles)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow


class CustomRole(TenantOwned, Base):
    __tablename__ = "custom_roles"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        Index("ix_custom_roles_tenant_name_id", "tenant_id", "name", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(500), default="")
    # Sorted `resource:action` keys of the catalogue (services/identity/permission_catalogue.py).
    permissions: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserCustomRole(TenantOwned, Base):
    """A user holding a custom role. A role still held cannot be deleted (RESTRICT)."""

    __tablename__ = "user_custom_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("custom_roles.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomPermission(Base):
    """A permission platform admins added to the catalogue beside the built-in ones of
    core/permissions.py (which are never stored: they cannot be changed). Platform-wide, so no
    tenant owns it; custom roles of any tenant may grant it by its key."""

    __tablename__ = "custom_permissions"
    __table_args__ = (UniqueConstraint("resource", "action"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    resource: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    # A readable name (seed 004: "manage_inventory"); the key granted is `resource:action`.
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def key(self) -> str:
        return f"{self.resource}:{self.action}"
