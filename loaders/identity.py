"""Identity loaders: users, tenants and roles, batched per request."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select

from core.permissions import Role
from core.scope import TenantScope
from loaders.base import LoaderSet
from loaders.pagination import ChildPageKey, Page, SortKey, child_counts, child_pages
from models.db import Reads
from models.identity.accounts import AuthSession, Tenant, User, UserRole

# A tenant's users as Tenant.users lists them (served by ix_users_tenant_created).
USERS_BY_CREATION = SortKey(User.created_at, User.id)


class IdentityLoaders(LoaderSet):
    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        super().__init__(reads, scope)
        self.user = self.loader(self._users)
        self.tenant = self.loader(self._tenants)
        self.roles_of_user = self.loader(self._roles)
        self.users_of_tenant = self.loader(self._users_of_tenants)
        self.user_count_of_tenant = self.loader(self._user_counts)
        self.auth_session = self.loader(self._auth_sessions)

    async def _users(self, ids: Sequence[uuid.UUID]) -> list[User | None]:
        return await self.rows_by_id(User, ids)

    async def _tenants(self, ids: Sequence[uuid.UUID]) -> list[Tenant | None]:
        return await self.rows_by_id(Tenant, ids)

    async def _auth_sessions(self, ids: Sequence[uuid.UUID]) -> list[AuthSession | None]:
        return await self.rows_by_id(AuthSession, ids)

    async def _roles(self, user_ids: Sequence[uuid.UUID]) -> list[list[Role]]:
        rows = await self.fetch(select(UserRole).where(UserRole.user_id.in_(user_ids)))
        roles: dict[uuid.UUID, list[Role]] = defaultdict(list)
        for row in rows:
            roles[row.user_id].append(row.role)
        return [sorted(roles[user_id]) for user_id in user_ids]

    async def _users_of_tenants(self, keys: Sequence[ChildPageKey]) -> list[Page[User]]:
        return await child_pages(
            self.fetch, User.tenant_id, USERS_BY_CREATION, keys, self.user_count_of_tenant.load
        )

    async def _user_counts(self, keys: Sequence[ChildPageKey]) -> list[int]:
        return await child_counts(self.fetch_rows, User.tenant_id, User.id, keys)
