"""Requesting and processing refunds: where the money goes, the provider call, retries.

A refund is recorded REQUESTED (``request_refund``), then processed, at once (the default) or
later by staff or a service (``process_refund``, seed 000 ``POST /refunds/:id/process``):

- ORIGINAL_METHOD: the provider refunds the card. Whoever processes first *claims* the refund
  (``claimed_until``, under its row lock): a second caller meanwhile gets the refund as it is and
  sends nothing. The provider idempotency key is ``refund-<id>`` (``-<n>`` after the n-th definite
  refusal), so a call whose answer was lost, repeated, is answered with the first refund. A
  transient error, or a refund the provider answers ``failed``, keeps the refund REQUESTED (its
  amount stays reserved) with ``retry_count``, ``last_error`` and ``next_retry_at`` (exponential
  backoff); ``retry_due_refunds`` (services/billing/jobs.py) sends it again, and after
  ``MAX_ATTEMPTS`` it is FAILED. A request the provider refuses outright (4xx) is FAILED at once.
- BALANCE: no provider call; the buyer's wallet (services/identity/wallet.py's ledger) is credited
  in the transaction that marks the refund SUCCEEDED, its entry referenced ``refund:<id>`` (unique
  per user: credited once).
- PLAN_CREDIT (seed 002 ``refund_to`` Plan): no provider call; the amount becomes credit on the
  buyer's live billing subscription of a plan in the payment's currency (the next to renew), taken
  off its next periods' invoices (services/billing/plans.py), in the transaction that marks the
  refund SUCCEEDED; a buyer without one is refused at the request."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from functools import partial

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, InvalidInput, NotFound, invalid
from core.permissions import BILLING_STAFF
from core.scope import TenantScope
from core.settings import Settings
from models.base import utcnow
from models.billing import Payment, Refund, RefundDestination, RefundStatus
from models.db import Database, locked_or_not_found
from models.identity.accounts import User
from models.identity.wallet import WalletEntry, WalletKind
from services.billing.errors import BillingErrorCode
from services.billing.plans import add_credit, subscription_to_credit
from services.billing.provider import CANCELED, FAILED, SUCCEEDED, PaymentProvider, ProviderError
from services.billing.refunds import (
    MAX_REASON,
    amount_to_take,
    apply_refund_status,
    new_refund,
    payment_of_order,
    refund_event,
    visible_payment,
)
from services.billing.retries import CLAIM, MAX_ATTEMPTS, backoff
from services.context import ServiceContext
from services.identity.wallet import locked_wallet
from services.money import amount_problem

log = logging.getLogger(__name__)

# Destinations paid here, without a provider call.
IN_HOUSE = (RefundDestination.BALANCE, RefundDestination.PLAN_CREDIT)
NO_PLAN_TO_CREDIT = (
    "The buyer has no live plan subscription to credit any more: ask again with another refundTo."
)

MAX_DETAILS = 2000

Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]


def idempotency_key(refund: Refund) -> str:
    base = f"refund-{refund.id}"
    return base if refund.key_generation == 0 else f"{base}-{refund.key_generation}"


async def request_refund(
    ctx: ServiceContext,
    provider: PaymentProvider,
    *,
    payment_id: uuid.UUID | None = None,
    order_id: uuid.UUID | None = None,
    amount: int | None = None,
    reason: str | None = None,
    details: str | None = None,
    refund_to: RefundDestination = RefundDestination.ORIGINAL_METHOD,
    process: bool = True,
) -> Refund:
    """Refund ``amount`` (default: all that is left) of a payment, or of an order's payment; by the
    payment's owner or staff. Processed at once unless ``process`` is false (it then waits for
    ``process_refund``)."""
    principal = ctx.require_principal()
    find: Callable[[AsyncSession, ServiceContext, uuid.UUID], Awaitable[Payment]]
    if payment_id is not None and order_id is None:
        field, find, target = "paymentId", visible_payment, payment_id
    elif order_id is not None and payment_id is None:
        field, find, target = "orderId", payment_of_order, order_id
    else:
        raise invalid(None, BillingErrorCode.PAYMENT_OR_ORDER_REQUIRED, "Name either a payment or an order.")
    if amount is not None and (problem := amount_problem("amount", amount, allow_zero=False)):
        raise InvalidInput(problem)
    reason = (reason or "").strip() or None  # at most MAX_REASON: the GraphQL layer refuses longer
    details = (details or "").strip()[:MAX_DETAILS] or None

    async with ctx.transaction() as session:
        payment = await find(session, ctx, target)
        amount = await amount_to_take(session, payment, amount, field=field, verb="refunded")
        if refund_to == RefundDestination.ORIGINAL_METHOD and payment.provider != provider.name:
            # Redirect gateways (services/billing/gateways.py) take no refunds through an API.
            raise invalid(
                "refundTo",
                BillingErrorCode.REFUND_DESTINATION_UNAVAILABLE,
                f"A payment through {payment.provider} cannot be refunded to it: refund to the balance.",
            )
        if refund_to == RefundDestination.PLAN_CREDIT and not await subscription_to_credit(
            session, payment.user_id, payment.currency
        ):
            raise invalid(
                "refundTo",
                BillingErrorCode.REFUND_DESTINATION_UNAVAILABLE,
                f"The buyer has no live plan subscription in {payment.currency} to credit.",
            )
        if refund_to == RefundDestination.BALANCE and payment.currency != ctx.settings.wallet_currency:
            raise invalid(
                "refundTo",
                BillingErrorCode.REFUND_CURRENCY_MISMATCH,
                f"Wallets are kept in {ctx.settings.wallet_currency}; this payment is in {payment.currency}.",
            )
        refund = new_refund(
            session, payment, amount, RefundStatus.REQUESTED, reason, requested_by=principal.user_id
        )
        refund.refund_to, refund.details = refund_to, details
        refund.retry_count, refund.key_generation = 0, 0
        if process:
            refund.claimed_until = utcnow() + CLAIM
            refund.processed_by = principal.user_id
        refund_event(session, refund, "refund")
    if not process:
        return refund
    return await _send(ctx.transaction, ctx.settings, provider, refund.id, actor="refund")


async def process_refund(ctx: ServiceContext, provider: PaymentProvider, refund_id: uuid.UUID) -> Refund:
    """Sends a REQUESTED refund (staff and services). One not REQUESTED, or being sent by another
    call right now, comes back as it is: nothing is sent twice."""
    principal = ctx.require_principal()
    if not principal.is_service_or(*BILLING_STAFF):
        raise Forbidden("Only billing staff and services process refunds.")
    async with ctx.transaction() as session:
        refund = await session.get(Refund, refund_id, with_for_update=True)
        if refund is None:
            raise NotFound("Refund")
        now = utcnow()
        if refund.status != RefundStatus.REQUESTED or (
            refund.claimed_until is not None and refund.claimed_until > now
        ):
            return refund
        refund.claimed_until = now + CLAIM
        refund.processed_by = principal.user_id
    return await _send(ctx.transaction, ctx.settings, provider, refund_id, actor="refund")


async def retry_due_refunds(
    db: Database, provider: PaymentProvider, settings: Settings, now: datetime | None = None, limit: int = 20
) -> int:
    """Sends again the refunds whose retry is due (and those whose call was cut off: claimed, the
    claim expired), in every tenant; rows another worker holds are skipped. Returns how many."""
    now = now or utcnow()
    async with db.transaction(TenantScope.all_tenants()) as session:
        due = list(
            await session.scalars(
                select(Refund)
                .where(
                    Refund.status == RefundStatus.REQUESTED,
                    func.coalesce(Refund.next_retry_at, Refund.claimed_until) <= now,
                    or_(Refund.claimed_until.is_(None), Refund.claimed_until <= now),
                )
                .order_by(Refund.next_retry_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        claimed = [(r.id, r.tenant_id) for r in due]
        for refund in due:
            refund.claimed_until = now + CLAIM
    for refund_id, tenant_id in claimed:
        scope = TenantScope.of(tenant_id)
        try:
            await _send(partial(db.transaction, scope), settings, provider, refund_id, actor="refund-retry")
        except (InvalidInput, NotFound) as exc:
            log.warning("refund %s retry not applied: %s", refund_id, exc)
    return len(claimed)


# ---- sending ----------------------------------------------------------------------------------


async def _send(
    transaction: Transaction,
    settings: Settings,
    provider: PaymentProvider,
    refund_id: uuid.UUID,
    *,
    actor: str,
) -> Refund:
    """Processes a refund this caller has claimed; returns it as stored afterwards."""
    async with transaction() as session:
        payment, refund = await _locked(session, refund_id)
        if refund.refund_to in IN_HOUSE:
            if refund.status == RefundStatus.REQUESTED:
                refund.claimed_until = refund.next_retry_at = None
                if refund.refund_to == RefundDestination.BALANCE:
                    await _credit_wallet(session, settings, refund, payment)
                elif not await _credit_plan(session, refund, payment):
                    await apply_refund_status(
                        session, refund, payment, FAILED, actor=actor, failure_reason=NO_PLAN_TO_CREDIT
                    )
                    return refund
                await apply_refund_status(session, refund, payment, SUCCEEDED, actor=actor)
            return refund
        payment_intent, key = payment.provider_payment_id, idempotency_key(refund)
        amount, reason = refund.amount, refund.reason

    try:
        answer = await provider.create_refund(
            payment_intent=payment_intent, amount=amount, reason=reason, idempotency_key=key
        )
        error: ProviderError | None = None
    except ProviderError as exc:
        answer, error = None, exc
        log.warning("refund %s failed at the provider: %s", refund_id, exc)

    async with transaction() as session:
        payment, refund = await _locked(session, refund_id)
        refund.claimed_until = None
        if refund.status != RefundStatus.REQUESTED:
            return refund  # a webhook settled it meanwhile
        if error is not None:
            await _attempt_failed(session, refund, payment, error.message, actor, final=not error.transient)
        elif answer is not None and answer.status in (FAILED, CANCELED):
            refund.provider_refund_id = answer.id
            refund.key_generation += 1  # that refund is over at the provider: the next is a new one
            await _attempt_failed(session, refund, payment, answer.failure_reason or answer.status, actor)
        elif answer is not None:
            refund.provider_refund_id = answer.id
            refund.next_retry_at, refund.last_error = None, None
            await apply_refund_status(session, refund, payment, answer.status, actor=actor)
        return refund


async def _locked(session: AsyncSession, refund_id: uuid.UUID) -> tuple[Payment, Refund]:
    """The refund and its payment, locked in the order every refund path locks them."""
    payment_id = await session.scalar(select(Refund.payment_id).where(Refund.id == refund_id))
    if payment_id is None:
        raise NotFound("Refund")
    payment = await locked_or_not_found(session, Payment, payment_id)
    return payment, await locked_or_not_found(session, Refund, refund_id)


async def _attempt_failed(
    session: AsyncSession, refund: Refund, payment: Payment, message: str, actor: str, final: bool = False
) -> None:
    refund.retry_count += 1
    refund.last_error = message[:MAX_REASON]
    if final or refund.retry_count >= MAX_ATTEMPTS:
        refund.next_retry_at = None
        await apply_refund_status(session, refund, payment, FAILED, actor=actor, failure_reason=message)
    else:
        refund.next_retry_at = utcnow() + backoff(refund.retry_count)
        refund_event(session, refund, actor)


async def _credit_plan(session: AsyncSession, refund: Refund, payment: Payment) -> bool:
    """The plan credit of a PLAN_CREDIT refund, in the caller's transaction (subscription locked);
    False when the buyer has no subscription to credit any more (cancelled since the request)."""
    subscription = await subscription_to_credit(session, payment.user_id, refund.currency)
    if subscription is None:
        return False
    add_credit(session, subscription, refund.amount, refund.currency)
    return True


async def _credit_wallet(session: AsyncSession, settings: Settings, refund: Refund, payment: Payment) -> None:
    """The wallet credit of a BALANCE refund, in the caller's transaction (wallet row locked)."""
    user = await session.get(User, payment.user_id)
    if user is None:
        raise NotFound("User")
    wallet = await locked_wallet(session, user, settings)
    if wallet.currency != refund.currency:
        raise invalid(
            "refundTo",
            BillingErrorCode.REFUND_CURRENCY_MISMATCH,
            f"The wallet is kept in {wallet.currency}; this refund is in {refund.currency}.",
        )
    reference = f"refund:{refund.id}"
    earlier = await session.scalar(
        select(WalletEntry.id).where(WalletEntry.user_id == user.id, WalletEntry.reference == reference)
    )
    if earlier is not None:
        return
    balance = wallet.balance_minor + refund.amount
    now = utcnow()
    wallet.set_balance(WalletKind.BALANCE, balance)
    wallet.updated_at = now
    session.add(
        WalletEntry(
            tenant_id=user.tenant_id,
            user_id=user.id,
            kind=WalletKind.BALANCE,
            amount_minor=refund.amount,
            currency=wallet.currency,
            balance_after_minor=balance,
            reason=f"Refund of payment {payment.id}"[:500],
            reference=reference,
            posted_by=refund.processed_by,
            created_at=now,
        )
    )
