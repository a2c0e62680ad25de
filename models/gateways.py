"""Redirect-style payment gateways (ZarinPal-shaped): the gateway side of a Payment.

A payment through such a gateway is a ``Payment`` (provider = the gateway's name, provider payment
id = the gateway's authority) plus one ``GatewayPayment`` row with what only the gateway gives:
the page the payer is sent to, and after verification its reference id and masked card. The
callback finds the row by (provider, authority) across tenants and works in the row's tenant."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow


class GatewayPayment(TenantOwned, Base):
    __tablename__ = "gateway_payments"
    __table_args__ = (UniqueConstraint("provider", "authority"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(32))
    authority: Mapped[str] = mapped_column(String(255))
    redirect_url: Mapped[str] = mapped_column(String(1000))
    # Set by a successful verification: the gateway's reference id and the masked card number.
    ref_id: Mapped[str | None] = mapped_column(String(64))
    card_pan: Mapped[str | None] = mapped_column(String(32))
    # The last verification answer's code (100 verified, 101 already verified, negative: refused).
    verify_code: Mapped[int | None] = mapped_column(Integer)
    callbacks: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_at: Mapped[datetime | None]
