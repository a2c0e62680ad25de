"""Per-tenant counters for human-readable numbers (orders, invoices): gapless and race-free because
the row is incremented inside the transaction that uses the number."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class TenantCounter(Base):
    __tablename__ = "tenant_counters"

    # Not TenantOwned on purpose: services/counters.py always names the tenant explicitly.
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
