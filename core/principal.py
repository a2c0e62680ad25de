"""Who is calling: the authenticated user, their roles and the tenant they act in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from core.permissions import Role
from core.scope import TenantScope


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    home_tenant_id: uuid.UUID
    roles: frozenset[Role]
    session_id: uuid.UUID
    # The tenant this request acts in: the home tenant, or for a platform admin the X-Tenant-Id one.
    acting_tenant_id: uuid.UUID | None = None
    # When the access token it was read from expires (a websocket connection ends then unless it
    # re-authenticates); None for a principal not read from a token.
    expires_at: datetime | None = None

    @property
    def is_platform_admin(self) -> bool:
        return Role.PLATFORM_ADMIN in self.roles

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.acting_tenant_id or self.home_tenant_id

    def has_any_role(self, *roles: Role) -> bool:
        # A platform admin may do anything any tenant role may do.
        return self.is_platform_admin or not self.roles.isdisjoint(roles)

    @property
    def scope(self) -> TenantScope:
        """Platform admins without X-Tenant-Id see every tenant; everyone else one tenant."""
        if self.is_platform_admin and self.acting_tenant_id is None:
            return TenantScope.all_tenants()
        return TenantScope.of(self.tenant_id)
