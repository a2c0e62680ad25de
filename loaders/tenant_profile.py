"""Tenant administration loaders: user counts, branding, custom domains and allowed origins of
tenants, batched per request."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute

from core.scope import TenantScope
from loaders.base import LoaderSet
from models.db import Reads
from models.identity.accounts import User, UserStatus
from models.identity.tenant_profile import TenantBranding, TenantDomain, TenantOrigin


def counted_user() -> ColumnElement[bool]:
    """Users that count in userCount and take a place of maxUsers: all but deleted ones."""
    return User.status != UserStatus.DELETED


class TenantProfileLoaders(LoaderSet):
    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        super().__init__(reads, scope)
        self.user_count = self.loader(self._user_counts)
        self.branding = self.loader(self._brandings)
        self.domains = self.loader(self._domains_of_tenants)
        self.domain = self.loader(self._domains)
        self.origins = self.loader(self._origins_of_tenants)

    async def _user_counts(self, tenant_ids: Sequence[uuid.UUID]) -> list[int]:
        tenant_column: InstrumentedAttribute[Any] = User.tenant_id
        rows = await self.fetch_rows(
            select(tenant_column, func.count())
            .where(tenant_column.in_(tenant_ids), counted_user())
            .group_by(tenant_column)
        )
        counts = {tenant_id: int(count) for tenant_id, count in rows}
        return [counts.get(tenant_id, 0) for tenant_id in tenant_ids]

    async def _brandings(self, tenant_ids: Sequence[uuid.UUID]) -> list[TenantBranding | None]:
        rows = await self.fetch(select(TenantBranding).where(TenantBranding.tenant_id.in_(tenant_ids)))
        found = {row.tenant_id: row for row in rows}
        return [found.get(tenant_id) for tenant_id in tenant_ids]

    async def _domains_of_tenants(self, tenant_ids: Sequence[uuid.UUID]) -> list[list[TenantDomain]]:
        # At most MAX_DOMAINS_PER_TENANT each (services/identity/domains.py): no page needed.
        rows = await self.fetch(
            select(TenantDomain)
            .where(TenantDomain.tenant_id.in_(tenant_ids))
            .order_by(TenantDomain.hostname, TenantDomain.id)
        )
        by_tenant: dict[uuid.UUID, list[TenantDomain]] = defaultdict(list)
        for row in rows:
            by_tenant[row.tenant_id].append(row)
        return [by_tenant[tenant_id] for tenant_id in tenant_ids]

    async def _domains(self, ids: Sequence[uuid.UUID]) -> list[TenantDomain | None]:
        return await self.rows_by_id(TenantDomain, ids)

    async def _origins_of_tenants(self, tenant_ids: Sequence[uuid.UUID]) -> list[list[str]]:
        # At most MAX_ORIGINS_PER_TENANT each (services/identity/origins.py): no page needed.
        tenant_column: InstrumentedAttribute[Any] = TenantOrigin.tenant_id
        rows = await self.fetch_rows(
            select(tenant_column, TenantOrigin.origin)
            .where(tenant_column.in_(tenant_ids))
            .order_by(TenantOrigin.origin)
        )
        by_tenant: dict[uuid.UUID, list[str]] = defaultdict(list)
        for tenant_id, origin in rows:
            by_tenant[tenant_id].append(origin)
        return [by_tenant[tenant_id] for tenant_id in tenant_ids]
