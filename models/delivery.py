"""Delivery of an order's items: what the buyer receives for one item (a license key, a download
link, instructions, a parcel's tracking), who set it and when, and the delivery e-mails sent."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow


class OrderItemDelivery(TenantOwned, Base):
    """At most one per order item; changed in place (the last writer is recorded)."""

    __tablename__ = "order_item_deliveries"
    __table_args__ = (CheckConstraint("send_count >= 0", name="send_count_not_negative"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    order_item_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("order_items.id", ondelete="CASCADE"), unique=True
    )
    content: Mapped[str | None] = mapped_column(Text)  # instructions, a license key, ...
    download_url: Mapped[str | None] = mapped_column(String(2000))
    carrier: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(200))
    tracking_url: Mapped[str | None] = mapped_column(String(2000))
    # "staff" or "service"; the user behind it (None for a service principal).
    set_by_actor: Mapped[str] = mapped_column(String(32))
    set_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    send_count: Mapped[int] = mapped_column(default=0)
    last_sent_at: Mapped[datetime | None]
    last_mail_message_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("mail_messages.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
