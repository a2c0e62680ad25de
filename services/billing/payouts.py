"""Seller payouts (seed 001 ``/sell/*`` and ``/admin/transfers``, Stripe Connect).

- A product may have a seller (``Product.seller_id``, set by catalog staff). When a provider
  payment pays an order (``schedule_transfers``, called by services/billing/payments.py in that
  transaction), each seller of its lines gets one Transfer: what their lines earned after
  discounts and before tax (the tax is the platform's to remit), less the tenant's
  ``platformFeeBps`` (a setting, basis points, default 0) of it, rounded half to even.
- A seller connects once (``start_onboarding``): their connected account is created at the
  provider and a provider-hosted onboarding link returned each time they ask.
  ``seller_balance`` reads that account's balance from the provider.
- The billing job sends due transfers (``send_due_transfers``): a seller without a connected
  account waits (their transfers stay PENDING, not due, until they connect). The provider
  idempotency key is ``transfer-<id>`` (``-<n>`` after the n-th definite refusal), so an answer
  lost in transit is never paid twice. A transient error retries with backoff; after
  MAX_ATTEMPTS, or at once when refused, the transfer is FAILED, and an admin may retry it
  (``retry_transfer``), which sends it at once.
- A misconfigured ``platformFeeBps`` never blocks the payment: the transfer is recorded FAILED
  with the reason, and retrying it after the fix computes the split again.
- Not here yet: reversing a transfer when its order is refunded after the money went out.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, invalid
from core.permissions import BILLING_STAFF
from core.scope import TenantScope
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.base import utcnow
from models.catalog import Product
from models.db import Database, locked_or_not_found
from models.identity.accounts import Tenant, User
from models.orders import Order, OrderItem
from models.payouts import SellerAccount, Transfer, TransferStatus
from services.billing.errors import BillingErrorCode
from services.billing.provider import PaymentProvider, ProviderBalance, ProviderError
from services.billing.retries import CLAIM, MAX_ATTEMPTS, backoff
from services.context import ServiceContext
from services.events import record_event
from services.orders.pricing import BPS, round_half_even

log = logging.getLogger(__name__)

TRANSFER_UPDATED = "transfer.updated"
MAX_URL_CHARS = 2048

Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]


def idempotency_key(transfer: Transfer) -> str:
    base = f"transfer-{transfer.id}"
    return base if transfer.key_generation == 0 else f"{base}-{transfer.key_generation}"


def transfer_event(session: AsyncSession, transfer: Transfer, actor: str) -> None:
    record_event(
        session,
        topic=TRANSFER_UPDATED,
        tenant_id=transfer.tenant_id,
        payload={
            "transferId": str(transfer.id),
            "sellerId": str(transfer.seller_id),
            "orderId": str(transfer.order_id),
            "status": transfer.status.value,
            "amount": transfer.amount,
            "platformFee": transfer.platform_fee,
            "currency": transfer.currency,
            "actor": actor,
        },
    )


# ---- scheduling -------------------------------------------------------------------------------


def _fee_bps(tenant: Tenant | None) -> int | None:
    """The tenant's platformFeeBps; None when it is set but not 0 to 10000."""
    rate = (tenant.settings if tenant else {}).get("platformFeeBps", 0)
    if isinstance(rate, bool) or not isinstance(rate, int) or not 0 <= rate <= BPS:
        return None
    return rate


FEE_MISCONFIGURED = "The tenant's platformFeeBps is not 0 to 10000: fix it, then retry the transfer."


def _split(transfer: Transfer, earned: int, fee_bps: int | None) -> None:
    """Sets ``transfer``'s fee and amount from what the seller ``earned``; FAILED when the fee
    setting is unusable."""
    fee = round_half_even(earned * fee_bps, BPS) if fee_bps is not None else 0
    transfer.platform_fee, transfer.amount = fee, earned - fee
    if fee_bps is None:
        transfer.status, transfer.next_retry_at, transfer.last_error = (
            TransferStatus.FAILED,
            None,
            FEE_MISCONFIGURED,
        )


async def schedule_transfers(session: AsyncSession, order: Order, *, actor: str) -> list[Transfer]:
    """One PENDING transfer per seller of the paid ``order``'s lines (in the caller's transaction);
    none twice for an order and seller."""
    rows = await session.execute(
        select(Product.seller_id, OrderItem.total - OrderItem.tax_amount)
        .join(Product, Product.id == OrderItem.product_id)
        .where(OrderItem.order_id == order.id, Product.seller_id.is_not(None))
    )
    earned: dict[uuid.UUID, int] = defaultdict(int)
    for seller_id, net in rows:
        if seller_id is not None:
            earned[seller_id] += int(net)
    if not earned:
        return []
    already = set(await session.scalars(select(Transfer.seller_id).where(Transfer.order_id == order.id)))
    fee_bps = _fee_bps(await session.get(Tenant, order.tenant_id))
    now = utcnow()
    scheduled = []
    for seller_id, amount in sorted(earned.items()):
        if seller_id in already or amount <= 0:
            continue
        transfer = Transfer(
            id=uuid.uuid4(),
            tenant_id=order.tenant_id,
            seller_id=seller_id,
            order_id=order.id,
            currency=order.currency,
            status=TransferStatus.PENDING,
            retry_count=0,
            key_generation=0,
            created_at=now,
            updated_at=now,
        )
        _split(transfer, amount, fee_bps)
        if transfer.status == TransferStatus.PENDING:
            connected = await session.scalar(
                select(SellerAccount.id).where(SellerAccount.user_id == seller_id)
            )
            transfer.next_retry_at = now if connected else None  # not due until the seller connects
        session.add(transfer)
        transfer_event(session, transfer, actor)
        scheduled.append(transfer)
    return scheduled


# ---- sellers ----------------------------------------------------------------------------------


async def _account_of(
    session: AsyncSession, user_id: uuid.UUID, provider: PaymentProvider
) -> SellerAccount | None:
    found: SellerAccount | None = await session.scalar(
        select(SellerAccount).where(SellerAccount.user_id == user_id, SellerAccount.provider == provider.name)
    )
    return found


def _check_url(field: str, url: str) -> None:
    if not url.startswith(("https://", "http://")) or len(url) > MAX_URL_CHARS:
        raise invalid(
            field, BillingErrorCode.INVALID_URL, "An absolute http(s) URL, at most 2048 characters."
        )


async def start_onboarding(
    ctx: ServiceContext, provider: PaymentProvider, *, refresh_url: str, return_url: str
) -> str:
    """The caller's onboarding link at the provider; their connected account is created the first
    time (a concurrent first call reuses the same provider account through its idempotency key)."""
    principal = ctx.require_principal()
    _check_url("refreshUrl", refresh_url)
    _check_url("returnUrl", return_url)
    async with ctx.read() as session:
        account = await _account_of(session, principal.user_id, provider)
        user = await session.get(User, principal.user_id)
    if account is None:
        try:
            account_id = await provider.create_connected_account(
                reference=str(principal.user_id),
                email=user.email if user else None,
                idempotency_key=f"seller-{principal.tenant_id}-{principal.user_id}",
            )
        except ProviderError as exc:
            raise _provider_refused(exc) from exc
        async with ctx.transaction() as session:
            if await _account_of(session, principal.user_id, provider) is None:
                session.add(
                    SellerAccount(
                        user_id=principal.user_id, provider=provider.name, provider_account_id=account_id
                    )
                )
                # What they sold while not connected becomes due now.
                waiting = await session.scalars(
                    select(Transfer)
                    .where(
                        Transfer.seller_id == principal.user_id,
                        Transfer.status == TransferStatus.PENDING,
                        Transfer.next_retry_at.is_(None),
                    )
                    .with_for_update()
                )
                for transfer in waiting:
                    transfer.next_retry_at = utcnow()
    else:
        account_id = account.provider_account_id
    try:
        return await provider.create_account_link(account_id, refresh_url=refresh_url, return_url=return_url)
    except ProviderError as exc:
        raise _provider_refused(exc) from exc


def _provider_refused(exc: ProviderError) -> Exception:
    return invalid(
        None, BillingErrorCode.PAYMENT_PROVIDER_ERROR, f"The payment provider refused: {exc.message}"
    )


@dataclass(frozen=True, slots=True)
class SellerBalance:
    connected: bool
    balance: ProviderBalance


async def seller_balance(ctx: ServiceContext, provider: PaymentProvider) -> SellerBalance:
    """The caller's connected account balance at the provider (empty when not connected)."""
    principal = ctx.require_principal()
    async with ctx.read() as session:
        account = await _account_of(session, principal.user_id, provider)
    if account is None:
        return SellerBalance(False, ProviderBalance(available={}, pending={}))
    try:
        return SellerBalance(True, await provider.get_balance(account.provider_account_id))
    except ProviderError as exc:
        raise _provider_refused(exc) from exc


@dataclass(frozen=True, slots=True)
class TransferFilter:
    status: TransferStatus | None = None
    seller_id: uuid.UUID | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


async def list_transfers(ctx: ServiceContext, f: TransferFilter, page: PageArgs) -> Page[Transfer]:
    """Newest first: a seller's own (seed 001 /sell/transfers), or anyone's for billing staff and
    services (/admin/transfers, filtered by seller)."""
    principal = ctx.require_principal()
    statement = select(Transfer)
    if not principal.is_service_or(*BILLING_STAFF):
        statement = statement.where(Transfer.seller_id == principal.user_id)
    if f.seller_id is not None:
        statement = statement.where(Transfer.seller_id == f.seller_id)
    if f.status is not None:
        statement = statement.where(Transfer.status == f.status)
    if f.created_from is not None:
        statement = statement.where(Transfer.created_at >= f.created_from)
    if f.created_to is not None:
        statement = statement.where(Transfer.created_at < f.created_to)
    return await paginate(
        ctx.read, statement, SortKey(Transfer.created_at, Transfer.id, descending=True), page
    )


# ---- sending ----------------------------------------------------------------------------------


async def retry_transfer(ctx: ServiceContext, provider: PaymentProvider, transfer_id: uuid.UUID) -> Transfer:
    """Sends a FAILED transfer again, now (seed 001 /admin/transfers/:id/retry): billing staff and
    services. Its split is computed again from the current fee setting."""
    principal = ctx.require_principal()
    if not principal.is_service_or(*BILLING_STAFF):
        raise Forbidden("Only billing staff and services retry transfers.")
    async with ctx.transaction() as session:
        transfer = await locked_or_not_found(session, Transfer, transfer_id)
        if transfer.status != TransferStatus.FAILED:
            raise invalid(
                "id",
                BillingErrorCode.TRANSFER_NOT_FAILED,
                f"Only FAILED transfers are retried; this is {transfer.status}.",
            )
        fee_bps = _fee_bps(await session.get(Tenant, transfer.tenant_id))
        transfer.status, transfer.retry_count, transfer.last_error = TransferStatus.PENDING, 0, None
        _split(transfer, transfer.amount + transfer.platform_fee, fee_bps)
        transfer.next_retry_at = utcnow() + CLAIM
        transfer_event(session, transfer, "admin-retry")
        if transfer.status == TransferStatus.FAILED:
            return transfer
    return await _send(ctx.transaction, provider, transfer_id, actor="admin-retry")


async def send_due_transfers(
    db: Database, provider: PaymentProvider, now: datetime | None = None, limit: int = 20
) -> int:
    """Sends the due PENDING transfers of every tenant (rows another worker holds are skipped);
    returns how many were sent or attempted."""
    now = now or utcnow()
    async with db.transaction(TenantScope.all_tenants()) as session:
        due = list(
            await session.scalars(
                select(Transfer)
                .where(Transfer.status == TransferStatus.PENDING, Transfer.next_retry_at <= now)
                .order_by(Transfer.next_retry_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        claimed = [(t.id, t.tenant_id) for t in due]
        for transfer in due:
            transfer.next_retry_at = now + CLAIM  # the claim: a worker that dies frees it then
    for transfer_id, tenant_id in claimed:
        await _send(
            partial(db.transaction, TenantScope.of(tenant_id)), provider, transfer_id, actor="payouts"
        )
    return len(claimed)


async def _send(
    transaction: Transaction, provider: PaymentProvider, transfer_id: uuid.UUID, *, actor: str
) -> Transfer:
    async with transaction() as session:
        transfer = await locked_or_not_found(session, Transfer, transfer_id)
        if transfer.status != TransferStatus.PENDING:
            return transfer
        account = await _account_of(session, transfer.seller_id, provider)
        if account is None:
            transfer.next_retry_at = None  # due again when the seller connects
            transfer.last_error = "The seller has not connected a payout account yet."
            return transfer
        amount, currency, key = transfer.amount, transfer.currency, idempotency_key(transfer)
        destination, group = account.provider_account_id, f"order-{transfer.order_id}"
    try:
        provider_id: str | None = await provider.create_transfer(
            amount=amount,
            currency=currency,
            destination=destination,
            transfer_group=group,
            idempotency_key=key,
        )
        error: ProviderError | None = None
    except ProviderError as exc:
        provider_id, error = None, exc
        log.warning("transfer %s failed at the provider: %s", transfer_id, exc)

    async with transaction() as session:
        transfer = await locked_or_not_found(session, Transfer, transfer_id)
        if transfer.status != TransferStatus.PENDING:
            return transfer
        now = utcnow()
        if error is None:
            transfer.status, transfer.provider_transfer_id, transfer.paid_at = (
                TransferStatus.PAID,
                provider_id,
                now,
            )
            transfer.next_retry_at, transfer.last_error = None, None
        else:
            transfer.retry_count += 1
            transfer.last_error = error.message[:500]
            if not error.transient or transfer.retry_count >= MAX_ATTEMPTS:
                transfer.status, transfer.next_retry_at = TransferStatus.FAILED, None
                if not error.transient:
                    transfer.key_generation += 1  # that request is over: a retry is a new one
            else:
                transfer.next_retry_at = now + backoff(transfer.retry_count)
        transfer_event(session, transfer, actor)
        return transfer
