"""Tenant quotas (maxUsers, maxProducts), checked inside the transaction that creates a user
(register, admin create, invite accept, OAuth sign-up) or a product, before the new row is added."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from core.errors import invalid
from loaders.tenant_profile import counted_user
from models.catalog import Product
from models.identity.accounts import Tenant, User
from services.identity.errors import IdentityErrorCode

# The most a quota may be (a 32-bit integer column).
MAX_QUOTA = 2**31 - 1


async def _check(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    limit_column: InstrumentedAttribute[int | None],
    counted: Any,
    *where: ColumnElement[bool],
    what: str,
) -> None:
    # The tenant row stays locked until the transaction ends (FOR NO KEY UPDATE: inserts that
    # reference it still go ahead), so two creations in one tenant take turns and the second one
    # counts the first one's row.
    limit = await session.scalar(
        select(limit_column).where(Tenant.id == tenant_id).with_for_update(key_share=True)
    )
    if limit is None:
        return
    count = await session.scalar(select(func.count()).select_from(counted).where(*where))
    if (count or 0) >= limit:
        raise invalid(
            None,
            IdentityErrorCode.QUOTA_EXCEEDED,
            f"The tenant may have at most {limit} {what}; ask the platform to raise its quota.",
        )


async def check_user_quota(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """QUOTA_EXCEEDED when the tenant has as many users (all but deleted ones) as its maxUsers
    allows: call it before adding one."""
    await _check(
        session, tenant_id, Tenant.max_users, User, User.tenant_id == tenant_id, counted_user(), what="users"
    )


async def check_product_quota(session: AsyncSession, tenant_id: uuid.UUID | None) -> None:
    """QUOTA_EXCEEDED when the tenant has as many products (of any status) as its maxProducts
    allows: call it before adding one. No tenant (a write across tenants) has no quota."""
    if tenant_id is not None:
        await _check(
            session, tenant_id, Tenant.max_products, Product, Product.tenant_id == tenant_id, what="products"
        )
