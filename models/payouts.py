"""Seller payouts (seed 001, Stripe Connect): a seller's connected account at the payment provider,
and the transfers of sellers' shares of paid orders to those accounts."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow
from models.identity.accounts import enum_column


class SellerAccount(TenantOwned, Base):
    """One seller's connected account (``provider_account_id``, e.g. acct_...)."""

    __tablename__ = "seller_accounts"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", "provider"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    provider_account_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TransferStatus(enum.StrEnum):
    PENDING = "PENDING"  # due: the billing job sends it (the seller may still have to connect)
    PAID = "PAID"  # the provider moved the money to the seller's account
    FAILED = "FAILED"  # refused, or failed MAX_ATTEMPTS times: an admin may retry it


class Transfer(TenantOwned, Base):
    """A seller's share of one paid order: what their lines earned (after discounts, before tax),
    less the platform's fee, in the order's currency."""

    __tablename__ = "transfers"
    __table_args__ = (
        UniqueConstraint("order_id", "seller_id"),
        CheckConstraint("amount >= 0 AND platform_fee >= 0", name="amounts_not_negative"),
        Index("ix_transfers_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_transfers_due", "status", "next_retry_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    seller_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    platform_fee: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[TransferStatus] = mapped_column(
        enum_column(TransferStatus), default=TransferStatus.PENDING
    )
    provider_transfer_id: Mapped[str | None] = mapped_column(String(255))
    retry_count: Mapped[int] = mapped_column(default=0)
    next_retry_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    # A retry after a definite refusal is a new request at the provider: a new idempotency key.
    key_generation: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    paid_at: Mapped[datetime | None]
