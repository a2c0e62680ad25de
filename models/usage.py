"""Usage metering and rating: usage records, pricing rules per product metric, and the usage bills
(one invoice per customer, period and currency) that close a period for a customer."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow
from models.identity.accounts import enum_column


class PricingModel(enum.StrEnum):
    FLAT = "FLAT"
    PER_UNIT = "PER_UNIT"
    TIERED = "TIERED"
    VOLUME = "VOLUME"


class PricingRule(TenantOwned, Base):
    """How one metric of a product is priced. Prices of units are integer micro-units of the minor
    unit (1 minor unit = 1_000_000 micros), so a unit may cost a fraction of a cent; the flat amount
    is whole minor units. ``tiers`` is a list of {"upTo": int | null, "unitPriceMicros": int}."""

    __tablename__ = "pricing_rules"
    __table_args__ = (
        UniqueConstraint("tenant_id", "metric"),
        CheckConstraint("flat_amount >= 0", name="flat_amount_not_negative"),
        CheckConstraint("unit_price_micros >= 0", name="unit_price_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    metric: Mapped[str] = mapped_column(String(64))
    model: Mapped[PricingModel] = mapped_column(enum_column(PricingModel))
    currency: Mapped[str] = mapped_column(String(3))
    flat_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    unit_price_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    tiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UsageRecord(TenantOwned, Base):
    __tablename__ = "usage_records"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event_id"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        Index("ix_usage_records_tenant_occurred", "tenant_id", "occurred_at", "id"),
        Index("ix_usage_records_customer_period", "tenant_id", "customer_id", "period"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_id: Mapped[str] = mapped_column(String(128))
    # A digest of what was recorded: a repeat of the event id with another body is a conflict.
    body_digest: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    metric: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime]
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM (UTC) of occurred_at
    dimensions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("invoices.id", ondelete="SET NULL"), index=True
    )
    billed_at: Mapped[datetime | None]


class UsageBill(TenantOwned, Base):
    """The usage invoice of a customer's period in one currency: at most one (the unique
    constraint), and once one exists the period is closed for the customer."""

    __tablename__ = "usage_bills"
    __table_args__ = (UniqueConstraint("tenant_id", "customer_id", "period", "currency"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    currency: Mapped[str] = mapped_column(String(3))
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
