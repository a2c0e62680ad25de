"""Promotion codes (seed 002 discounts): a percentage or a fixed amount off, a validity window, use
limits in total and per user, and the products or plans it is for; and the uses, one per code and
order or billing subscription."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow
from models.identity.accounts import enum_column


class PromotionKind(enum.StrEnum):
    PERCENT = "PERCENT"
    FIXED = "FIXED"


class PromotionCode(TenantOwned, Base):
    """``code`` is stored upper-cased (codes are case-insensitive), unique in the tenant. PERCENT
    codes carry ``percent_bps``, FIXED ones ``amount`` and ``currency``. ``product_ids`` (ids as
    text) are the products it discounts, ``plan_ids`` the plans whose first period it discounts;
    both empty: whole orders (and no plan). ``uses_count`` counts the uses rows, kept under the
    row's lock where it is used."""

    __tablename__ = "promotion_codes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint("uses_count >= 0", name="uses_count_not_negative"),
        CheckConstraint(
            "(kind = 'PERCENT' AND percent_bps IS NOT NULL AND amount IS NULL AND currency IS NULL) OR "
            "(kind = 'FIXED' AND percent_bps IS NULL AND amount IS NOT NULL AND currency IS NOT NULL)",
            name="kind_values",
        ),
        CheckConstraint("percent_bps IS NULL OR (percent_bps BETWEEN 1 AND 10000)", name="percent_range"),
        CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        Index("ix_promotion_codes_tenant_created", "tenant_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[PromotionKind] = mapped_column(enum_column(PromotionKind))
    percent_bps: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    max_uses: Mapped[int | None] = mapped_column(Integer)
    max_uses_per_user: Mapped[int | None] = mapped_column(Integer)
    uses_count: Mapped[int] = mapped_column(Integer, default=0)
    product_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    plan_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PromotionCodeUse(TenantOwned, Base):
    """One code used by one order or one billing subscription (its first period): what it took off
    (minor units of that currency)."""

    __tablename__ = "promotion_code_uses"
    __table_args__ = (
        UniqueConstraint("code_id", "order_id"),
        UniqueConstraint("code_id", "subscription_id"),
        CheckConstraint("(order_id IS NULL) <> (subscription_id IS NULL)", name="one_target"),
        Index("ix_promotion_code_uses_code_user", "code_id", "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("promotion_codes.id", ondelete="CASCADE"))
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("billing_subscriptions.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    amount: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
