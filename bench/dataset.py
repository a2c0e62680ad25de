"""The bench dataset, deterministic (seeded random ids, fixed timestamps), written through our own
models with SQLAlchemy Core ``insert(Model)`` batches; the platform admin through
services/identity/bootstrap.create_platform_admin. One argon2 hash is shared by every user."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.emails import email_skeleton
from core.permissions import Role
from core.scope import TenantScope
from models.catalog import Category, Product, ProductStatus
from models.db import Database
from models.identity.accounts import Tenant, TenantKind, TenantStatus, User, UserRole, UserStatus
from models.orders import Order, OrderItem, OrderStatus
from models.row_security import SCOPE_OPTION
from services.identity.bootstrap import PLATFORM_TENANT_SLUG, create_platform_admin
from services.identity.passwords import hash_password

PASSWORD = "bench-password-1"
ADMIN_EMAIL = "admin@platform.bench.example"
SEED = 20240601
BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)
BATCH = 5000
SHOPPERS = 8  # users of the first tenant that M1 signs in as

ADJECTIVES = ["Compact", "Rugged", "Silent", "Smart", "Classic", "Turbo", "Eco", "Pro", "Mini", "Ultra"]
NOUNS = ["Router", "Switch", "Camera", "Speaker", "Monitor", "Keyboard", "Drive", "Lamp", "Hub", "Sensor"]
CATEGORY_NAMES = ["Networking", "Audio", "Video", "Storage", "Lighting", "Input", "Power", "Cables"]


@dataclass(frozen=True)
class Sizes:
    tenants: int
    users: int
    products: int
    orders: int
    categories_per_tenant: int = 8

    @classmethod
    def reference(cls, scale: int) -> Sizes:
        """The issue's data set; ``scale`` multiplies everything but the 10 tenants."""
        return cls(tenants=10, users=2000 * scale, products=1000 * scale, orders=20000 * scale)

    @classmethod
    def smoke(cls) -> Sizes:
        return cls(tenants=1, users=50, products=50, orders=200, categories_per_tenant=4)


@dataclass
class Dataset:
    """What the operations need to name: ids in creation order, the shoppers of M1."""

    tenant_ids: list[uuid.UUID] = field(default_factory=list)
    tenant_slugs: list[str] = field(default_factory=list)
    product_ids: list[uuid.UUID] = field(default_factory=list)  # tenant 0 first, in creation order
    product_with_category: uuid.UUID | None = None
    user_ids: list[uuid.UUID] = field(default_factory=list)  # tenant 0, in creation order
    shopper_emails: list[str] = field(default_factory=list)
    shopper_products: list[uuid.UUID] = field(default_factory=list)  # ACTIVE, stock not tracked
    counts: dict[str, int] = field(default_factory=dict)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


async def _insert(conn: AsyncConnection, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        await conn.execute(insert(model), rows[start : start + BATCH])


def _spread(total: int, parts: int, index: int) -> int:
    """How many of ``total`` items the ``index``-th of ``parts`` gets (the first ones get the rest)."""
    return total // parts + (1 if index < total % parts else 0)


class _Generator:
    def __init__(self, sizes: Sizes, password_hash: str) -> None:
        self.sizes = sizes
        self.rng = random.Random(SEED)
        self.password_hash = password_hash
        self.data = Dataset()
        self.rows: dict[str, list[dict[str, Any]]] = {
            name: [] for name in ("tenants", "categories", "products", "users", "roles", "orders", "items")
        }
        self.clock = 0

    def tick(self) -> datetime:
        """Strictly increasing creation times: every ordering by created_at is unambiguous."""
        self.clock += 1
        return BASE_TIME + timedelta(seconds=self.clock)

    def tenant(self, index: int) -> None:
        rng, sizes, rows = self.rng, self.sizes, self.rows
        tenant_id, slug, created = _uuid(rng), f"bench-{index:03d}", self.tick()
        self.data.tenant_ids.append(tenant_id)
        self.data.tenant_slugs.append(slug)
        rows["tenants"].append(
            {"id": tenant_id, "slug": slug, "name": f"Bench tenant {index}", "kind": TenantKind.ENTERPRISE,
             "status": TenantStatus.ACTIVE, "contact_email": f"ops@{slug}.example", "settings": {},
             "created_at": created, "updated_at": created}
        )  # fmt: skip
        categories = []
        for c in range(sizes.categories_per_tenant):
            category_id, created = _uuid(rng), self.tick()
            categories.append(category_id)
            name = f"{CATEGORY_NAMES[c % len(CATEGORY_NAMES)]} {c}"
            rows["categories"].append(
                {"id": category_id, "tenant_id": tenant_id, "parent_id": None, "name": name,
                 "slug": f"cat-{c}", "description": None, "image_url": None, "active": True,
                 "created_at": created, "updated_at": created}
            )  # fmt: skip
        products = self.products(tenant_id, index, categories)
        users = self.users(tenant_id, index)
        self.orders(tenant_id, index, users, products)

    def products(self, tenant_id: uuid.UUID, index: int, categories: list[uuid.UUID]) -> list[dict[str, Any]]:
        rng, made = self.rng, []
        for p in range(_spread(self.sizes.products, self.sizes.tenants, index)):
            product_id, created = _uuid(rng), self.tick()
            base = rng.randrange(500, 200_000)
            status = ProductStatus.ACTIVE if rng.random() < 0.9 else ProductStatus.DRAFT
            stock = None if rng.random() < 0.5 else rng.randrange(100, 5000)
            category = rng.choice(categories) if rng.random() < 0.9 else None
            name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {p}"
            row = {
                "id": product_id, "tenant_id": tenant_id, "sku": f"SKU-{index:03d}-{p:06d}", "name": name,
                "description": f"The {name.lower()} for everyday use.", "category_id": category,
                "brand_id": None, "base_price": base,
                "sale_price": base * 9 // 10 if rng.random() < 0.2 else None, "currency": "EUR",
                "status": status, "stock_quantity": stock, "attributes": {}, "image_urls": [],
                "rating_count": 0, "rating_total": 0, "created_at": created, "updated_at": created,
            }  # fmt: skip
            made.append(row)
            if index == 0:
                self.data.product_ids.append(product_id)
                if category is not None and self.data.product_with_category is None:
                    self.data.product_with_category = product_id
                if status == ProductStatus.ACTIVE and stock is None:
                    self.data.shopper_products.append(product_id)
        self.rows["products"].extend(made)
        return made

    def users(self, tenant_id: uuid.UUID, index: int) -> list[uuid.UUID]:
        rng, made = self.rng, []
        for u in range(_spread(self.sizes.users, self.sizes.tenants, index)):
            user_id, created = _uuid(rng), self.tick()
            email = f"user{u}@bench-{index:03d}.example"
            made.append(user_id)
            self.rows["users"].append(
                {"id": user_id, "tenant_id": tenant_id, "email": email,
                 "email_skeleton": email_skeleton(email),
                 "full_name": f"Bench User {index}-{u}", "password_hash": self.password_hash,
                 "status": UserStatus.ACTIVE, "email_verified": True, "created_at": created,
                 "updated_at": created, "last_login_at": None}
            )  # fmt: skip
            role = Role.TENANT_ADMIN if u == 0 else Role.MANAGER if u % 50 == 1 else Role.USER
            self.rows["roles"].append(
                {"tenant_id": tenant_id, "user_id": user_id, "role": role, "granted_at": created}
            )
            if index == 0:
                self.data.user_ids.append(user_id)
                if role == Role.USER and len(self.data.shopper_emails) < SHOPPERS:
                    self.data.shopper_emails.append(email)
        return made

    def orders(
        self, tenant_id: uuid.UUID, index: int, users: list[uuid.UUID], products: list[dict[str, Any]]
    ) -> None:
        rng = self.rng
        statuses = [OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.COMPLETED, OrderStatus.CANCELLED]
        for o in range(_spread(self.sizes.orders, self.sizes.tenants, index)):
            order_id, created = _uuid(rng), self.tick()
            subtotal = 0
            for position in range(1, rng.randint(1, 5) + 1):
                product, quantity = rng.choice(products), rng.randint(1, 3)
                unit = product["sale_price"] or product["base_price"]
                subtotal += unit * quantity
                self.rows["items"].append(
                    {"id": _uuid(rng), "tenant_id": tenant_id, "order_id": order_id,
                     "product_id": product["id"], "position": position, "sku": product["sku"],
                     "name": product["name"], "unit_price": unit, "quantity": quantity,
                     "discount_amount": 0, "tax_amount": 0, "total": unit * quantity, "attributes": {}}
                )  # fmt: skip
            status = rng.choices(statuses, weights=[2, 3, 4, 1])[0]
            paid = (
                created + timedelta(minutes=5)
                if status in (OrderStatus.PAID, OrderStatus.COMPLETED)
                else None
            )
            self.rows["orders"].append(
                {"id": order_id, "tenant_id": tenant_id, "number": f"ORD-{o + 1:07d}",
                 "user_id": rng.choice(users), "status": status, "currency": "EUR", "subtotal": subtotal,
                 "discount_total": 0, "tax_total": 0, "shipping_total": 0, "total": subtotal,
                 "refunded_total": 0, "notes": None, "created_at": created, "updated_at": created,
                 "paid_at": paid, "cancelled_at": created if status == OrderStatus.CANCELLED else None}
            )  # fmt: skip


async def fill(database_url: str, sizes: Sizes) -> Dataset:
    """Writes the data set into a migrated, empty database and returns what the operations name."""
    generator = _Generator(sizes, hash_password(PASSWORD))
    for index in range(sizes.tenants):
        generator.tenant(index)
    rows = generator.rows
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            # Every tenant's rows at once, past the ORM: platform scope for row-level security.
            await conn.execution_options(**{SCOPE_OPTION: TenantScope.all_tenants()})
            for model, name in (
                (Tenant, "tenants"), (Category, "categories"), (Product, "products"), (User, "users"),
                (UserRole, "roles"), (Order, "orders"), (OrderItem, "items"),
            ):  # fmt: skip
                await _insert(conn, model, rows[name])
        # Created after the bench tenants: the platform tenant sorts last by creation time.
        await create_platform_admin(db, ADMIN_EMAIL, "Bench Admin", PASSWORD)
    finally:
        await db.dispose()
    generator.data.counts = {name: len(values) for name, values in rows.items()}
    return generator.data


__all__ = ["ADMIN_EMAIL", "PASSWORD", "PLATFORM_TENANT_SLUG", "Dataset", "Sizes", "fill"]
