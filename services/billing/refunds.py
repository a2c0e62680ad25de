"""Refunds of succeeded payments: the records and the rules every path shares.

A refund is recorded REQUESTED under its payment's row lock, its amount checked against what is
left (paid - refunded - refunds still REQUESTED or PROCESSING: ``refundable``), then processed
(services/billing/refund_processing.py: the provider, with the refund's id in its idempotency key,
or the buyer's wallet) and settled by ``apply_refund_status``: SUCCEEDED (amounts and the order
move), PROCESSING (the provider will tell through its webhook), or FAILED with the reason. If the
provider refunded without our knowing, its ``charge.refunded`` / ``refund.updated`` webhook records
that refund (services/billing/webhooks.py), so the books follow the provider. Disputes
(chargebacks, services/billing/disputes.py) hold their amount with a refund flagged ``disputed``."""

from __future__ import annotations

import enum
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidInput, NotFound, invalid
from loaders.pagination import Page, PageArgs, SortKey, paginate, where_given
from models.base import utcnow
from models.billing import Payment, PaymentStatus, Refund, RefundStatus
from models.orders import Order
from services.billing.access import can_see, visible
from services.billing.errors import BillingErrorCode
from services.billing.invoice_pdf import format_money
from services.billing.provider import CANCELED, FAILED, SUCCEEDED
from services.context import ServiceContext
from services.events import record_event
from services.orders import states as order_states

log = logging.getLogger(__name__)

REFUND_UPDATED = "refund.updated"
OPEN_REFUNDS = (RefundStatus.REQUESTED, RefundStatus.PROCESSING)
MAX_REASON = 500


def refund_event(session: AsyncSession, refund: Refund, actor: str) -> None:
    record_event(
        session,
        topic=REFUND_UPDATED,
        tenant_id=refund.tenant_id,
        payload={
            "refundId": str(refund.id),
            "paymentId": str(refund.payment_id),
            "orderId": str(refund.order_id) if refund.order_id else None,
            "status": refund.status.value,
            "amount": refund.amount,
            "currency": refund.currency,
            "disputed": refund.disputed,
            "actor": actor,
        },
    )


def new_refund(
    session: AsyncSession,
    payment: Payment,
    amount: int,
    status: RefundStatus,
    reason: str | None,
    *,
    requested_by: uuid.UUID | None = None,
    provider_refund_id: str | None = None,
    disputed: bool = False,
) -> Refund:
    """A refund of ``amount`` of ``payment`` (in its tenant, order and currency), added to the session."""
    refund = Refund(
        id=uuid.uuid4(),
        tenant_id=payment.tenant_id,
        payment_id=payment.id,
        order_id=payment.order_id,
        requested_by=requested_by,
        amount=amount,
        currency=payment.currency,
        reason=reason,
        status=status,
        provider_refund_id=provider_refund_id,
        disputed=disputed,
    )
    session.add(refund)
    return refund


async def refundable(session: AsyncSession, payment: Payment) -> int:
    """What may still be refunded: paid, minus refunded, minus refunds under way."""
    if payment.status != PaymentStatus.SUCCEEDED:
        return 0
    reserved = await session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.payment_id == payment.id, Refund.status.in_(OPEN_REFUNDS)
        )
    )
    return max(payment.amount - payment.amount_refunded - int(reserved or 0), 0)


async def amount_to_take(
    session: AsyncSession, payment: Payment, amount: int | None, *, field: str, verb: str
) -> int:
    """What a new refund or dispute of ``payment`` takes: ``amount``, or all that is left when
    None; a userError when the payment did not succeed (at ``field``) or less is left."""
    if payment.status != PaymentStatus.SUCCEEDED:
        raise invalid(
            field,
            BillingErrorCode.PAYMENT_NOT_REFUNDABLE,
            f"A {payment.status.value} payment cannot be {verb}.",
        )
    left = await refundable(session, payment)
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise invalid(
            "amount",
            BillingErrorCode.REFUND_EXCEEDS_PAYMENT,
            f"At most {format_money(left, payment.currency)} of this payment can be {verb}.",
        )
    return amount


async def apply_refund_status(
    session: AsyncSession,
    refund: Refund,
    payment: Payment,
    provider_status: str,
    *,
    actor: str,
    failure_reason: str | None = None,
) -> bool:
    """Record the provider's word on ``refund`` (refund and payment locked by the caller); True
    when something changed. Success adds to the payment's and the order's refunded amounts and
    moves the order to PARTIALLY_REFUNDED or REFUNDED."""
    if provider_status == SUCCEEDED:
        if refund.status == RefundStatus.SUCCEEDED:
            return False
        refund.status = RefundStatus.SUCCEEDED
        refund.processed_at = utcnow()
        refund.failure_reason = None
        payment.amount_refunded += refund.amount
        if refund.order_id:
            order = await session.get(Order, refund.order_id, with_for_update=True, populate_existing=True)
            if order is not None:
                try:
                    order_states.apply_refund(
                        session, order, refund.amount, actor=actor, reason=f"refund {refund.id}"
                    )
                except InvalidInput as exc:  # the money went back anyway; the order keeps its status
                    log.warning("order %s not moved by refund %s: %s", order.id, refund.id, exc)
    elif provider_status in (FAILED, CANCELED):
        if refund.status not in OPEN_REFUNDS:
            return False
        refund.status = RefundStatus.FAILED
        refund.processed_at = utcnow()
        refund.failure_reason = (failure_reason or provider_status)[:MAX_REASON]
    else:  # pending, requires_action, processing: the provider's webhook will settle it
        if refund.status != RefundStatus.REQUESTED:
            return False
        refund.status = RefundStatus.PROCESSING
    refund_event(session, refund, actor)
    return True


async def visible_payment(session: AsyncSession, ctx: ServiceContext, payment_id: uuid.UUID) -> Payment:
    payment = await session.get(Payment, payment_id, with_for_update=True)
    if payment is None or not can_see(ctx.principal, payment.user_id):
        raise NotFound("Payment")
    return payment


async def payment_of_order(session: AsyncSession, ctx: ServiceContext, order_id: uuid.UUID) -> Payment:
    order = await session.get(Order, order_id)
    if order is None or not can_see(ctx.principal, order.user_id):
        raise NotFound("Order")
    payments = list(
        await session.scalars(
            select(Payment)
            .where(Payment.order_id == order.id, Payment.status == PaymentStatus.SUCCEEDED)
            .order_by(Payment.created_at, Payment.id)
            .with_for_update()
        )
    )
    for payment in payments:
        if await refundable(session, payment) > 0:
            return payment
    if payments:
        return payments[0]  # nothing left: reported as REFUND_EXCEEDS_PAYMENT below
    raise invalid(
        "orderId", BillingErrorCode.PAYMENT_NOT_REFUNDABLE, "This order has no succeeded payment to refund."
    )


# ---- reads ------------------------------------------------------------------------------------


class RefundOrderField(enum.StrEnum):
    CREATED_AT = "CREATED_AT"
    AMOUNT = "AMOUNT"


_ORDER_COLUMNS = {RefundOrderField.CREATED_AT: Refund.created_at, RefundOrderField.AMOUNT: Refund.amount}


@dataclass(frozen=True, slots=True)
class RefundFilter:
    status: RefundStatus | None = None
    payment_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    disputed: bool | None = None


async def get_refund(ctx: ServiceContext, refund_id: uuid.UUID) -> Refund:
    principal = ctx.require_principal()
    async with ctx.read() as session:
        row = (
            await session.execute(
                select(Refund, Payment.user_id)
                .join(Payment, Payment.id == Refund.payment_id)
                .where(Refund.id == refund_id)
            )
        ).first()
    if row is None or not can_see(principal, row[1]):
        raise NotFound("Refund")
    return row[0]


async def list_refunds(
    ctx: ServiceContext,
    refund_filter: RefundFilter,
    order: RefundOrderField,
    descending: bool,
    page: PageArgs,
) -> Page[Refund]:
    f = refund_filter
    # A refund is its payment's owner's.
    owner = select(Payment.user_id).where(Payment.id == Refund.payment_id).scalar_subquery()
    statement = where_given(
        visible(select(Refund), owner, ctx.require_principal()),
        (Refund.status, f.status),
        (Refund.payment_id, f.payment_id),
        (Refund.order_id, f.order_id),
        (Refund.disputed, f.disputed),
    )
    column = _ORDER_COLUMNS[order]

    return await paginate(ctx.read, statement, SortKey(column, Refund.id, descending), page)
