"""Disputes (chargebacks): a card holder's bank takes a payment's money back unless the merchant's
evidence wins. The amount is held by a disputed Refund (models/billing.py) while it is open."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow
from models.identity.accounts import enum_column


class DisputeStatus(enum.StrEnum):
    OPEN = "OPEN"  # evidence is due
    UNDER_REVIEW = "UNDER_REVIEW"  # evidence submitted; the bank decides
    WON = "WON"  # the money stays with the merchant
    LOST = "LOST"  # the money went back to the card holder


CLOSED_DISPUTES = (DisputeStatus.WON, DisputeStatus.LOST)


class Dispute(TenantOwned, Base):
    __tablename__ = "disputes"
    __table_args__ = (
        UniqueConstraint("provider", "provider_dispute_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_disputes_tenant_created", "tenant_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"), index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    # The disputed refund holding the amount while open (SUCCEEDED when lost, FAILED when won).
    refund_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("refunds.id", ondelete="RESTRICT"), unique=True)
    provider: Mapped[str] = mapped_column(String(32))
    provider_dispute_id: Mapped[str] = mapped_column(String(255))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[DisputeStatus] = mapped_column(enum_column(DisputeStatus), default=DisputeStatus.OPEN)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    evidence_submitted_at: Mapped[datetime | None]
    due_by: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    opened_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
