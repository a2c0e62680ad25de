"""Wallet types (seed 002 GET /users/me/balance): balances, the ledger, the daily usage quota."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol, Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.scope import TenantScope
from loaders.pagination import ChildPageKey
from models.base import utcnow
from models.identity.wallet import WalletEntry as WalletEntryRow
from models.identity.wallet import WalletKind
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from schema.money import BigInt, Money
from schema.pagination import After, Before, Connection, First, Last, connection, page_args
from services.identity.wallet import DailyQuota as DailyQuotaState
from services.identity.wallet import WalletState, may_read_wallet, wallet_state

documented_enum(
    WalletKind,
    "Which of a wallet's two balances an entry moves.",
    {
        WalletKind.BALANCE: "The spendable balance (balanceMinor).",
        WalletKind.AFFILIATE: "What referrals earned (affiliateBalanceMinor).",
    },
)


@strawberry.type(description="A ledger entry: a credit (positive) or a debit (negative); never changed.")
class WalletEntry:
    id: strawberry.ID = strawberry.field(description="The entry's id.")
    kind: WalletKind = strawberry.field(description="The balance it moved.")
    amount_minor: BigInt = strawberry.field(description="Minor units added (negative: taken).")
    amount: Money = strawberry.field(description="The same amount with its currency.")
    balance_after_minor: BigInt = strawberry.field(description="That balance right after this entry.")
    reason: str = strawberry.field(description="Why, as the poster gave it.")
    reference: str | None = strawberry.field(
        description="The poster's own id of it (a repeated post with it answers this entry)."
    )
    created_at: datetime = strawberry.field(description="When it was posted (UTC).")

    @classmethod
    def from_model(cls, row: WalletEntryRow) -> Self:
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=row.kind,
            amount_minor=BigInt(row.amount_minor),
            amount=Money.of(row.amount_minor, row.currency),
            balance_after_minor=BigInt(row.balance_after_minor),
            reason=row.reason,
            reference=row.reference,
            created_at=row.created_at,
        )


@strawberry.type(
    description="A daily usage allowance (renders, in seed 002); it starts again at UTC midnight."
)
class DailyQuota:
    limit: int = strawberry.field(description="Uses allowed per UTC day (max_daily_render_count).")
    used_today: int = strawberry.field(description="Uses counted today.")
    remaining: int = strawberry.field(description="Uses left today (daily_remain_render_count).")
    resets_at: datetime = strawberry.field(description="When the count starts again (next UTC midnight).")

    @classmethod
    def of(cls, quota: DailyQuotaState) -> Self:
        return cls(
            limit=quota.limit, used_today=quota.used, remaining=quota.remaining, resets_at=quota.resets_at
        )


@strawberry.type(
    description="A user's balances (integer minor units, never negative) and usage quota. Balances "
    "move only by ledger entries, posted by service principals and platform admins."
)
class Wallet:
    currency: str = strawberry.field(description="ISO 4217 code of both balances.")
    balance_minor: BigInt = strawberry.field(description="The spendable balance in minor units.")
    affiliate_balance_minor: BigInt = strawberry.field(description="The affiliate balance in minor units.")
    balance: Money = strawberry.field(description="The spendable balance with its currency.")
    affiliate_balance: Money = strawberry.field(description="The affiliate balance with its currency.")
    daily_quota: DailyQuota = strawberry.field(description="Today's usage allowance.")
    parallel_rendering_ceiling: int = strawberry.field(description="How many uses may run at once.")
    updated_at: datetime | None = strawberry.field(
        description="When a balance or the quota last changed (UTC); null if never."
    )
    user_uuid: strawberry.Private[uuid.UUID]
    read_scope: strawberry.Private[TenantScope | None] = None

    @classmethod
    def of(cls, state: WalletState, read_scope: TenantScope | None = None) -> Self:
        return cls(
            currency=state.currency,
            balance_minor=BigInt(state.balance_minor),
            affiliate_balance_minor=BigInt(state.affiliate_balance_minor),
            balance=Money.of(state.balance_minor, state.currency),
            affiliate_balance=Money.of(state.affiliate_balance_minor, state.currency),
            daily_quota=DailyQuota.of(state.quota),
            parallel_rendering_ceiling=state.parallel_ceiling,
            updated_at=state.updated_at,
            user_uuid=state.user_id,
            read_scope=read_scope,
        )

    @strawberry.field(description="The ledger, newest first.")
    async def entries(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[WalletEntry]:
        key = ChildPageKey(self.user_uuid, page_args(first, after, last, before))
        page = await info.context.loaders_in(self.read_scope).wallet.entries_of_user.load(key)
        return connection(page, WalletEntry.from_model)


class WalletOwner(Protocol):
    """The User type, seen from here (schema/identity/accounts.py imports this module)."""

    user_id: str
    read_scope: TenantScope | None


async def load_wallet(info: Info, user_id: uuid.UUID, read_scope: TenantScope | None = None) -> Wallet:
    row = await info.context.loaders_in(read_scope).wallet.wallet_of_user.load(user_id)
    return Wallet.of(wallet_state(info.context.services.settings, user_id, row, utcnow()), read_scope)


async def user_wallet(root: WalletOwner, info: Info) -> Wallet | None:
    user_id = uuid.UUID(root.user_id)
    if not may_read_wallet(info.context.principal, user_id):
        return None
    return await load_wallet(info, user_id, root.read_scope)


# ---- inputs and payloads ----------------------------------------------------------------------


@strawberry.input(description="A credit or debit to append to a user's wallet.")
class PostWalletEntryInput:
    user_id: relay.GlobalID = strawberry.field(description="The user's global id.")
    kind: WalletKind = strawberry.field(default=WalletKind.BALANCE, description="The balance to move.")
    amount_minor: BigInt = strawberry.field(
        description="Minor units to add (negative: to take); non-zero, at most 10^12 either way."
    )
    reason: str = strawberry.field(description="Why (shown in the ledger).")
    reference: str | None = strawberry.field(
        default=None,
        description="Your own id of the entry: posting it again with the same kind and amount answers "
        "the first entry instead of posting twice (REFERENCE_REUSED otherwise).",
    )
    currency: str | None = strawberry.field(
        default=None, description="If given, must be the wallet's currency (CURRENCY_MISMATCH)."
    )


@strawberry.input(description="Uses to count against a user's daily quota.")
class ConsumeDailyQuotaInput:
    user_id: relay.GlobalID = strawberry.field(description="The user's global id.")
    count: int = strawberry.field(
        default=1, description="Uses to count (1..1000); negative gives uses back (a failed render)."
    )


@strawberry.input(description="A user's own usage quota; omitted fields stay as they are.")
class SetWalletQuotaInput:
    user_id: relay.GlobalID = strawberry.field(description="The user's global id.")
    daily_quota: int | None = strawberry.field(default=None, description="Uses per UTC day (0..1000000).")
    parallel_rendering_ceiling: int | None = strawberry.field(
        default=None, description="Uses at once (0..1000)."
    )
    use_defaults: bool = strawberry.field(
        default=False, description="First put both back to the server's defaults."
    )


@strawberry.type(description="The answer of postWalletEntry.")
class PostWalletEntryPayload:
    entry: WalletEntry | None = strawberry.field(
        default=None, description="The entry appended (or, for a repeated reference, the first one)."
    )
    wallet: Wallet | None = strawberry.field(default=None, description="The wallet after it.")
    replayed: bool = strawberry.field(
        default=False, description="True when the reference was posted before and nothing was written."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The answer of consumeDailyQuota and setWalletQuota.")
class WalletPayload:
    wallet: Wallet | None = strawberry.field(default=None, description="The wallet after the change.")
    user_errors: list[UserError] = user_errors_field()
