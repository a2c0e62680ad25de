"""Human-readable per-tenant numbers (ORD-000042, INV-2026-000042).

The counter row is incremented with one upsert inside the caller's transaction: it stays locked
until that transaction ends, so concurrent callers take turns, and a rolled-back transaction
gives its number back. Numbers are therefore gapless and never shared."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.counters import TenantCounter


async def next_value(session: AsyncSession, tenant_id: uuid.UUID, name: str) -> int:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(TenantCounter)
        .values(tenant_id=tenant_id, name=name, value=1)
        .on_conflict_do_update(
            index_elements=[TenantCounter.tenant_id, TenantCounter.name],
            set_={"value": TenantCounter.value + 1},
        )
        .returning(TenantCounter.value)
    )
    return int((await session.execute(statement)).scalar_one())
