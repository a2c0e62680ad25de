"""Catalog test helpers: shops (a tenant with a signed-in admin) and rows inserted with the models."""

from __future__ import annotations

import itertools
import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from core.permissions import Role
from core.scope import TenantScope
from models.catalog import Brand, Category, Product, ProductStatus
from models.db import Database
from models.orders import Order, OrderItem, OrderStatus
from server.runtime import Runtime
from tests.support.identity import Account, global_id, quick_account

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
        return await quick_account(self.runtime, self.slug, *roles, full_name=full_name)


async def open_shop(runtime: Runtime, slug: str) -> Shop:
    admin = await quick_account(runtime, slug, Role.TENANT_ADMIN)
    return Shop(runtime.db, slug, admin.tenant_id, admin, runtime)


@pytest.fixture
async def acme(runtime: Runtime) -> Shop:
    return await open_shop(runtime, "acme")


@pytest.fixture
async def globex(runtime: Runtime) -> Shop:
    return await open_shop(runtime, "globex")
