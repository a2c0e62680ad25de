"""Identity loaders: users, tenants and roles, batched per request."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select

from core.permissions import Role
from core.scope import TenantScope
from loaders.base import LoaderSet
from models.db import Reads
from models.identity import Tenant, User, UserRole


class IdentityLoaders(LoaderSet):
    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        super().__init__(reads, scope)
        self.user = self.loader(self._users)
        self.tenant = self.loader(self._tenants)
        self.roles_of_user = self.loader(self._roles)

    async def _users(self, ids: Sequence[uuid.UUID]) -> list[User | None]:
        return self.by_id(await self.fetch(select(User).where(User.id.in_(ids))), ids)

    async def _tenants(self, ids: Sequence[uuid.UUID]) -> list[Tenant | None]:
        return self.by_id(await self.fetch(select(Tenant).where(Tenant.id.in_(ids))), ids)

    async def _roles(self, user_ids: Sequence[uuid.UUID]) -> list[list[Role]]:
        rows = await self.fetch(select(UserRole).where(UserRole.user_id.in_(user_ids)))
        roles: dict[uuid.UUID, list[Role]] = defaultdict(list)
        for row in rows:
            roles[row.user_id].append(row.role)
        return [sorted(roles[user_id]) for user_id in user_ids]
