"""User wallets (seed 002 GET /users/me/balance): balances moved only by appending ledger entries,
never below zero, and a per-user daily usage quota (renders, in the seed).

Service principals and platform admins post entries and count usage; a user reads their own
wallet (``me { wallet }``). Every change locks the wallet row first, so the balance and the
ledger move together in one transaction and concurrent posts queue up instead of overdrawing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, Forbidden, NotFound, invalid
from core.permissions import SERVICE_ONLY
from core.principal import Principal
from core.settings import Settings
from models.base import new_id, utcnow
from models.db import insert_unless_present
from models.identity.accounts import User, UserStatus
from models.identity.wallet import Wallet, WalletEntry, WalletKind
from services.context import ServiceContext
from services.identity.accounts import length_problem, reject
from services.identity.errors import IdentityErrorCode

MAX_REASON_LENGTH = 500
MAX_REFERENCE_LENGTH = 200
MAX_AMOUNT_MINOR = 10**12  # one entry
MAX_BALANCE_MINOR = 10**15  # far inside BIGINT, so no sum overflows
MAX_USAGE_COUNT = 1000  # one consumeDailyQuota call
MAX_DAILY_QUOTA = 1_000_000
MAX_PARALLEL_CEILING = 1000


@dataclass(frozen=True, slots=True)
class DailyQuota:
    limit: int
    used: int
    resets_at: datetime  # the next UTC midnight

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


@dataclass(frozen=True, slots=True)
class WalletState:
    """A wallet as read: a user without a row has zero balances and the default quota."""

    user_id: uuid.UUID
    currency: str
    balance_minor: int
    affiliate_balance_minor: int
    quota: DailyQuota
    parallel_ceiling: int
    updated_at: datetime | None


def wallet_state(settings: Settings, user_id: uuid.UUID, wallet: Wallet | None, now: datetime) -> WalletState:
    today = now.astimezone(UTC).date()
    resets_at = datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC)
    if wallet is None:
        quota = DailyQuota(settings.wallet_daily_quota, 0, resets_at)
        return WalletState(
            user_id, settings.wallet_currency, 0, 0, quota, settings.wallet_parallel_ceiling, None
        )
    limit = settings.wallet_daily_quota if wallet.daily_quota is None else wallet.daily_quota
    used = wallet.quota_used if wallet.quota_day == today else 0
    ceiling = settings.wallet_parallel_ceiling if wallet.parallel_ceiling is None else wallet.parallel_ceiling
    return WalletState(
        user_id,
        wallet.currency,
        wallet.balance_minor,
        wallet.affiliate_balance_minor,
        DailyQuota(limit, used, resets_at),
        ceiling,
        wallet.updated_at,
    )


def may_read_wallet(principal: Principal | None, user_id: uuid.UUID) -> bool:
    """Your own wallet; anyone's for service principals and platform admins."""
    return principal is not None and (
        principal.person_id == user_id or principal.is_service_or(*SERVICE_ONLY)
    )


def _poster(ctx: ServiceContext) -> Principal:
    principal = ctx.require_principal()
    if not principal.is_service_or(*SERVICE_ONLY):
        raise Forbidden("Only service principals and platform admins change wallets.")
    return principal


async def _owner(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("User")
    if user.status == UserStatus.DELETED:
        raise invalid("userId", IdentityErrorCode.USER_DELETED, "This user was deleted.")
    return user


async def locked_wallet(session: AsyncSession, user: User, settings: Settings) -> Wallet:
    """The user's wallet row, locked until the transaction ends; created on the first change."""
    statement = select(Wallet).where(Wallet.user_id == user.id).with_for_update()
    wallet = await session.scalar(statement)
    if wallet is not None:
        return wallet
    now = utcnow()
    await insert_unless_present(
        session,
        Wallet,
        [Wallet.user_id],
        id=new_id(),
        tenant_id=user.tenant_id,
        user_id=user.id,
        currency=settings.wallet_currency,
        balance_minor=0,
        affiliate_balance_minor=0,
        quota_used=0,
        created_at=now,
        updated_at=now,
    )
    return (await session.scalars(statement)).one()


@dataclass(frozen=True, slots=True)
class NewEntry:
    user_id: uuid.UUID
    kind: WalletKind
    amount_minor: int
    reason: str
    reference: str | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Posted:
    entry: WalletEntry
    wallet: WalletState
    replayed: bool  # the reference was posted before: nothing new was written


def _problem(field: str, code: IdentityErrorCode, message: str) -> FieldProblem:
    return FieldProblem(("input", field), code, message)


def _text_problem(field: str, value: str | None, limit: int, required: bool) -> FieldProblem | None:
    if value is None:
        return _problem(field, IdentityErrorCode.REQUIRED, f"Give `{field}`.") if required else None
    if not value.strip():
        return _problem(field, IdentityErrorCode.REQUIRED, f"`{field}` must not be blank.")
    return length_problem(field, value, limit)


def _entry_problems(new: NewEntry) -> list[FieldProblem | None]:
    amount: FieldProblem | None = None
    if new.amount_minor == 0 or abs(new.amount_minor) > MAX_AMOUNT_MINOR:
        message = f"`amountMinor` must be non-zero and at most {MAX_AMOUNT_MINOR} either way."
        amount = _problem("amountMinor", IdentityErrorCode.INVALID_AMOUNT, message)
    return [
        amount,
        _text_problem("reason", new.reason, MAX_REASON_LENGTH, required=True),
        _text_problem("reference", new.reference, MAX_REFERENCE_LENGTH, required=False),
    ]


async def post_entry(ctx: ServiceContext, new: NewEntry) -> Posted:
    """Appends a credit or debit and moves the balance with it; a debit beyond the balance is
    INSUFFICIENT_BALANCE. A repeated ``reference`` with the same kind and amount answers the first
    entry (a retried call posts once); with another kind or amount it is REFERENCE_REUSED."""
    principal = _poster(ctx)
    reject(*_entry_problems(new))
    reference = new.reference.strip() if new.reference is not None else None
    async with ctx.transaction(principal.scope) as session:
        user = await _owner(session, new.user_id)
        wallet = await locked_wallet(session, user, ctx.settings)
        if new.currency is not None and new.currency.upper() != wallet.currency:
            message = f"The wallet is kept in {wallet.currency}."
            raise invalid("currency", IdentityErrorCode.CURRENCY_MISMATCH, message)
        if reference is not None:
            earlier = await session.scalar(
                select(WalletEntry).where(WalletEntry.user_id == user.id, WalletEntry.reference == reference)
            )
            if earlier is not None:
                if (earlier.kind, earlier.amount_minor) != (new.kind, new.amount_minor):
                    message = "This reference was posted with another kind or amount."
                    raise invalid("reference", IdentityErrorCode.REFERENCE_REUSED, message)
                return Posted(earlier, wallet_state(ctx.settings, user.id, wallet, utcnow()), True)
        balance = wallet.balance_of(new.kind) + new.amount_minor
        if balance < 0:
            message = f"The {new.kind.value.lower()} balance is {wallet.balance_of(new.kind)}: too low."
            raise invalid("amountMinor", IdentityErrorCode.INSUFFICIENT_BALANCE, message)
        if balance > MAX_BALANCE_MINOR:
            message = f"A balance stays at most {MAX_BALANCE_MINOR}."
            raise invalid("amountMinor", IdentityErrorCode.INVALID_AMOUNT, message)
        now = utcnow()
        wallet.set_balance(new.kind, balance)
        wallet.updated_at = now
        entry = WalletEntry(
            tenant_id=user.tenant_id,
            user_id=user.id,
            kind=new.kind,
            amount_minor=new.amount_minor,
            currency=wallet.currency,
            balance_after_minor=balance,
            reason=new.reason.strip(),
            reference=reference,
            posted_by=principal.user_id,
            created_at=now,
        )
        session.add(entry)
        state = wallet_state(ctx.settings, user.id, wallet, now)
    return Posted(entry, state, False)


async def consume_quota(ctx: ServiceContext, user_id: uuid.UUID, count: int) -> WalletState:
    """Counts ``count`` uses against today's quota (UTC day), refused as DAILY_QUOTA_EXCEEDED
    beyond it; a negative count gives uses back (a failed render), never below zero."""
    principal = _poster(ctx)
    if count == 0 or abs(count) > MAX_USAGE_COUNT:
        message = f"`count` must be non-zero and at most {MAX_USAGE_COUNT} either way."
        raise invalid("count", IdentityErrorCode.INVALID_AMOUNT, message)
    async with ctx.transaction(principal.scope) as session:
        user = await _owner(session, user_id)
        wallet = await locked_wallet(session, user, ctx.settings)
        now = utcnow()
        quota = wallet_state(ctx.settings, user.id, wallet, now).quota
        if count > quota.remaining:
            message = f"{quota.remaining} of {quota.limit} left today."
            raise invalid("count", IdentityErrorCode.DAILY_QUOTA_EXCEEDED, message)
        wallet.quota_day = now.astimezone(UTC).date()
        wallet.quota_used = max(quota.used + count, 0)
        wallet.updated_at = now
        return wallet_state(ctx.settings, user.id, wallet, now)


def _bound_problem(field: str, value: int | None, limit: int) -> FieldProblem | None:
    if value is None or 0 <= value <= limit:
        return None
    return _problem(field, IdentityErrorCode.OUT_OF_RANGE, f"`{field}` must be 0..{limit}.")


async def set_quota(
    ctx: ServiceContext,
    user_id: uuid.UUID,
    *,
    daily_quota: int | None,
    parallel_ceiling: int | None,
    use_defaults: bool = False,
) -> WalletState:
    """Gives the user their own daily quota and parallel ceiling (the omitted ones stay);
    ``use_defaults`` puts both back to the settings' defaults first."""
    principal = _poster(ctx)
    reject(
        _bound_problem("dailyQuota", daily_quota, MAX_DAILY_QUOTA),
        _bound_problem("parallelRenderingCeiling", parallel_ceiling, MAX_PARALLEL_CEILING),
    )
    async with ctx.transaction(principal.scope) as session:
        user = await _owner(session, user_id)
        wallet = await locked_wallet(session, user, ctx.settings)
        if use_defaults:
            wallet.daily_quota = wallet.parallel_ceiling = None
        if daily_quota is not None:
            wallet.daily_quota = daily_quota
        if parallel_ceiling is not None:
            wallet.parallel_ceiling = parallel_ceiling
        wallet.updated_at = utcnow()
        return wallet_state(ctx.settings, user.id, wallet, wallet.updated_at)
