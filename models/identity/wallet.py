"""User wallets (seed 002 GET /users/me/balance): a balance and an affiliate balance kept by an
append-only ledger, and the user's daily usage quota."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow
from models.identity.accounts import enum_column


class WalletKind(enum.StrEnum):
    BALANCE = "BALANCE"
    AFFILIATE = "AFFILIATE"  # earned by referrals (the affiliate code given at registration)


class Wallet(TenantOwned, Base):
    """One user's balances, kept in step with the ledger in the transaction that appends to it
    (the row is locked first), and the usage counted against the daily quota. No row yet: both
    balances zero and the quota at the settings' defaults."""

    __tablename__ = "wallets"
    __table_args__ = (
        CheckConstraint("balance_minor >= 0", name="balance_not_negative"),
        CheckConstraint("affiliate_balance_minor >= 0", name="affiliate_balance_not_negative"),
        CheckConstraint("quota_used >= 0", name="quota_used_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    balance_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    affiliate_balance_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # None: the settings' default (wallet_daily_quota, wallet_parallel_ceiling).
    daily_quota: Mapped[int | None]
    parallel_ceiling: Mapped[int | None]
    # The UTC day quota_used counts; an older day means nothing used today.
    quota_day: Mapped[date | None]
    quota_used: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def balance_of(self, kind: WalletKind) -> int:
        return self.affiliate_balance_minor if kind is WalletKind.AFFILIATE else self.balance_minor

    def set_balance(self, kind: WalletKind, amount: int) -> None:
        if kind is WalletKind.AFFILIATE:
            self.affiliate_balance_minor = amount
        else:
            self.balance_minor = amount


class WalletEntry(TenantOwned, Base):
    """One credit (positive) or debit (negative) of a balance; never changed or deleted. A
    ``reference`` (the poster's own id for it) makes a repeated post answer the first entry."""

    __tablename__ = "wallet_entries"
    __table_args__ = (
        UniqueConstraint("user_id", "reference"),
        Index("ix_wallet_entries_user_created", "user_id", "created_at"),
        CheckConstraint("amount_minor <> 0", name="amount_not_zero"),
        CheckConstraint("balance_after_minor >= 0", name="balance_after_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[WalletKind] = mapped_column(enum_column(WalletKind))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # The balance of ``kind`` right after this entry.
    balance_after_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500))
    reference: Mapped[str | None] = mapped_column(String(200))
    # The service client or platform admin who posted it.
    posted_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerIsAppendOnly(RuntimeError):
    """A wallet entry was about to be changed or deleted."""


@event.listens_for(WalletEntry, "before_update")
@event.listens_for(WalletEntry, "before_delete")
def _refuse_change(_mapper: Any, _connection: Any, entry: WalletEntry) -> None:
    raise LedgerIsAppendOnly(f"wallet entry {entry.id} is append-only")
