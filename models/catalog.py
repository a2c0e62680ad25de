"""Catalog: categories (a tree), brands, products and their reviews."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow
from models.identity.accounts import enum_column


class ProductStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


class Category(TenantOwned, Base):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(String(2000))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Brand(TenantOwned, Base):
    __tablename__ = "brands"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    logo_url: Mapped[str | None] = mapped_column(String(2000))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# The document full-text search ranks products by (PostgreSQL). Written out literally, with no bound
# parameters, so the planner matches it to the GIN expression index of the same text.
PRODUCT_SEARCH_DOCUMENT = (
    "to_tsvector('english', coalesce(products.name, '') || ' ' || coalesce(products.sku, '') || ' ' "
    "|| coalesce(products.description, ''))"
)


def product_search_document() -> Any:
    return literal_column(PRODUCT_SEARCH_DOCUMENT)


class Product(TenantOwned, Base):
    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sku"),
        CheckConstraint("base_price >= 0", name="base_price_not_negative"),
        CheckConstraint("sale_price IS NULL OR sale_price >= 0", name="sale_price_not_negative"),
        Index("ix_products_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_products_tenant_name", "tenant_id", "name", "id"),
        Index("ix_products_tenant_price", "tenant_id", "base_price", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    brand_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("brands.id", ondelete="SET NULL"), index=True
    )
    # Money: integer minor units of ``currency`` (ISO 4217).
    base_price: Mapped[int] = mapped_column(BigInteger)
    sale_price: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[ProductStatus] = mapped_column(enum_column(ProductStatus), default=ProductStatus.DRAFT)
    # None: stock is not tracked for this product (services, digital goods).
    stock_quantity: Mapped[int | None]
    # Digital goods ship nothing: an order of digital products only needs no shipping address.
    is_digital: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A service that must be set up once paid (services/provisioning): paying an order of it
    # opens a provisioning request per such line, and the order completes when they are ACTIVE.
    requires_provisioning: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A marketplace seller's product: their share of its paid lines is transferred to them
    # (services/billing/payouts.py); None: the tenant's own.
    seller_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    image_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Kept in the review's transaction so listing products never aggregates reviews.
    rating_count: Mapped[int] = mapped_column(default=0)
    rating_total: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def price(self) -> int:
        """What a buyer pays per unit now."""
        return self.sale_price if self.sale_price is not None else self.base_price


Index(
    "ix_products_search", text(PRODUCT_SEARCH_DOCUMENT.replace("products.", "")), postgresql_using="gin"
).ddl_if(dialect="postgresql")


class Review(TenantOwned, Base):
    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("product_id", "buyer_id"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_1_to_5"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    buyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    rating: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
