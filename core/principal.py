"""Who is calling: the authenticated user, their roles and the tenant they act in."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

from core.permissions import Role
from core.scope import TenantScope
from core.scopes import ApiScope


class PrincipalKind(enum.StrEnum):
    SESSION = "SESSION"  # a user's sign-in session (access token)
    API_KEY = "API_KEY"  # a user's API key (services/identity/api_keys.py): session_id is the key's id
    # A service client's token (OAuth2 client credentials): user_id and session_id are the
    # client's id; it holds no roles and no home tenant (NO_TENANT), and acts across tenants.
    SERVICE = "SERVICE"


NO_TENANT = uuid.UUID(int=0)


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
    # The user must change their password (users.must_change_password): until then the session
    # may only read itself, change the password and sign out (schema/directives.py).
    password_change_required: bool = False
    kind: PrincipalKind = PrincipalKind.SESSION
    # What an API key or service token may reach (core/scopes.py); None: unrestricted (a session).
    scopes: frozenset[ApiScope] | None = None
    # The platform admin acting as this user (services/identity/impersonation.py): recorded in every
    # audit entry; such a session may not change passwords, MFA, API keys or service clients.
    impersonator_id: uuid.UUID | None = None
    # `resource:action` permissions (core/permissions.py): its system roles' defaults and its
    # custom roles' grants, as services/identity/access.py (or api_keys.py) read them.
    permissions: frozenset[str] = frozenset()

    @property
    def is_service(self) -> bool:
        return self.kind is PrincipalKind.SERVICE

    @property
    def person_id(self) -> uuid.UUID | None:
        """The user behind the call (recorded as the actor); None for a service principal."""
        return None if self.is_service else self.user_id

    def has_scope(self, *scopes: ApiScope) -> bool:
        """Whether one of ``scopes`` is granted (always, for a session)."""
        return self.scopes is None or not self.scopes.isdisjoint(scopes)

    @property
    def is_platform_admin(self) -> bool:
        return Role.PLATFORM_ADMIN in self.roles

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.acting_tenant_id or self.home_tenant_id

    def has_any_role(self, *roles: Role) -> bool:
        # A platform admin may do anything any tenant role may do.
        return self.is_platform_admin or not self.roles.isdisjoint(roles)

    def allows(self, permission: str, *roles: Role) -> bool:
        """Holds one of ``roles``, or ``permission`` (through a custom role or a role's default)."""
        return self.has_any_role(*roles) or permission in self.permissions

    def is_service_or(self, *roles: Role) -> bool:
        """A service principal, or a holder of one of ``roles`` (core/permissions.py SERVICE_ONLY)."""
        return self.is_service or self.has_any_role(*roles)

    @property
    def scope(self) -> TenantScope:
        """Platform admins and service principals without X-Tenant-Id see every tenant; everyone
        else one tenant."""
        if (self.is_platform_admin or self.is_service) and self.acting_tenant_id is None:
            return TenantScope.all_tenants()
        return TenantScope.of(self.tenant_id)
