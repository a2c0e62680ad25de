"""Catalog test helpers: shops (a tenant with a signed-in admin) and rows inserted with the models."""

from __future__ import annotations

import functools
import itertools
import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from models.catalog import Brand, Category, Product, ProductStatus
from models.db import Database
from models.identity import Role, TenantKind, User, UserRole
from models.orders import Order, OrderItem, OrderStatus
from models.tenancy import TenantScope
from server.auth.passwords import hash_password
from server.runtime import Runtime
from services.auth import start_session
from services.context import ServiceContext
from services.provisioning import ensure_tenant
from tests.support.identity import PASSWORD, Account, global_id

_numbers = itertools.count(1)
# Rows get distinct, increasing creation times so CREATED_AT orderings are deterministic.
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def gid(type_name: str, raw: uuid.UUID) -> str:
    return global_id(type_name, raw)


def raw_id(global_id: str) -> uuid.UUID:
    return uuid.UUID(relay.GlobalID.from_id(global_id).node_id)


@dataclass
class Shop:
    db: Database
    slug: str
    tenant_id: uuid.UUID
    admin: Account
    runtime: Runtime

    def _tx(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self.db.transaction(TenantScope.of(self.tenant_id))

    async def category(self, name: str, parent: uuid.UUID | None = None, active: bool = True) -> uuid.UUID:
        row = Category(
            id=uuid.uuid4(),
            name=name,
            slug=f"{name.lower().replace(' ', '-')}-{next(_numbers)}",
            parent_id=parent,
            active=active,
        )
        async with self._tx() as session:
            session.add(row)
        return row.id

    async def brand(self, name: str) -> uuid.UUID:
        row = Brand(id=uuid.uuid4(), name=name, slug=f"{name.lower().replace(' ', '-')}-{next(_numbers)}")
        async with self._tx() as session:
            session.add(row)
        return row.id

    async def product(
        self,
        name: str,
        price: int,
        *,
        sale: int | None = None,
        status: ProductStatus = ProductStatus.ACTIVE,
        description: str | None = None,
        category: uuid.UUID | None = None,
        brand: uuid.UUID | None = None,
        sku: str | None = None,
        currency: str = "EUR",
    ) -> uuid.UUID:
        n = next(_numbers)
        row = Product(
            id=uuid.uuid4(),
            sku=sku or f"SKU-{n}",
            name=name,
            description=description,
            category_id=category,
            brand_id=brand,
            base_price=price,
            sale_price=sale,
            currency=currency,
            status=status,
            attributes={},
            image_urls=[],
            rating_count=0,
            rating_total=0,
            created_at=_EPOCH + timedelta(minutes=n),
        )
        async with self._tx() as session:
            session.add(row)
        return row.id

    async def order(self, user_id: uuid.UUID, product_ids: list[uuid.UUID], status: OrderStatus) -> uuid.UUID:
        order = Order(
            id=uuid.uuid4(),
            number=f"ORD-{next(_numbers):08d}",
            user_id=user_id,
            status=status,
            currency="EUR",
            subtotal=1000 * len(product_ids),
            total=1000 * len(product_ids),
        )
        async with self._tx() as session:
            session.add(order)
            await session.flush()
            for position, product_id in enumerate(product_ids, start=1):
                session.add(
                    OrderItem(
                        order_id=order.id,
                        product_id=product_id,
                        position=position,
                        sku=f"SKU-{position}",
                        name="Bought",
                        unit_price=1000,
                        quantity=1,
                        total=1000,
                    )
                )
        return order.id

    async def account(self, *roles: Role, full_name: str | None = None) -> Account:
        return await signed_in(self.runtime, self.slug, *roles, full_name=full_name)


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


async def signed_in(runtime: Runtime, slug: str, *roles: Role, full_name: str | None = None) -> Account:
    """A user with ``roles`` in the tenant (created if missing) and a session of theirs, started by
    the auth service itself: like tests.support.identity's accounts, without two argon2 rounds."""
    n = next(_numbers)
    email = f"user{n}@{slug}.example"
    ctx = ServiceContext(db=runtime.db, settings=runtime.settings, rate_limiter=runtime.rate_limiter)
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        tenant = await ensure_tenant(session, slug, slug.title(), TenantKind.ENTERPRISE)
        user = User(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            email=email,
            full_name=full_name or f"User {n}",
            password_hash=_password_hash(),
            email_verified=True,
        )
        session.add(user)
        session.add_all(
            UserRole(tenant_id=tenant.id, user_id=user.id, role=role) for role in roles or (Role.USER,)
        )
        await session.flush()
        signed = await start_session(ctx, session, user)
    return Account(slug, tenant.id, user.id, email, PASSWORD, signed.access_token, signed.refresh_token)


async def open_shop(runtime: Runtime, slug: str) -> Shop:
    admin = await signed_in(runtime, slug, Role.TENANT_ADMIN)
    return Shop(runtime.db, slug, admin.tenant_id, admin, runtime)


@pytest.fixture
async def acme(runtime: Runtime) -> Shop:
    return await open_shop(runtime, "acme")


@pytest.fixture
async def globex(runtime: Runtime) -> Shop:
    return await open_shop(runtime, "globex")
