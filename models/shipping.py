"""Shipping methods of a tenant (seed 004 ``shipping_methods``): a price in one currency, free
from an order subtotal on, listed to buyers in ``position`` order while active."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow


class ShippingMethod(TenantOwned, Base):
    """``code`` is stored upper-cased, unique in the tenant. ``price`` and ``free_over`` are minor
    units of ``currency``; an order whose subtotal is at least ``free_over`` ships for 0. Methods
    are deactivated, never deleted: orders keep naming the method they shipped with."""

    __tablename__ = "shipping_methods"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("free_over IS NULL OR free_over > 0", name="free_over_positive"),
        Index("ix_shipping_methods_tenant_position", "tenant_id", "position", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    price: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    free_over: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
