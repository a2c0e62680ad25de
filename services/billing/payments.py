"""Payments for invoices through the PaymentProvider adapter, their outcomes, and payment methods.

A payment intent is created at the provider for what is due on an invoice (Payment
REQUIRES_PAYMENT with the provider's client secret for the browser). It succeeds or fails either
through ``confirm_payment`` (a server-side confirmation with a saved card: the tests and the demo
use it) or through the provider's webhook (services/billing/webhooks.py); both end in ``mark_succeeded``
/ ``mark_failed``, which are idempotent, so whichever arrives second changes nothing.

Payment methods: the first card of a user becomes the default; a user with cards always has
exactly one default (changes are serialised on the user's row)."""

from __future__ import annotations

import enum
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, invalid
from core.permissions import SERVICE_ONLY
from loaders.pagination import Page, PageArgs, SortKey, paginate, where_given
from models.base import utcnow
from models.billing import Invoice, Payment, PaymentMethod, PaymentStatus, ProviderCustomer
from models.identity.accounts import User
from models.orders import Order, OrderStatus
from services.billing.access import can_see, locked_to_change, visible
from services.billing.errors import BillingErrorCode
from services.billing.invoices import PAYABLE, apply_payment
from services.billing.payouts import schedule_transfers
from services.billing.provider import (
    CANCELED,
    PROCESSING,
    SUCCEEDED,
    PaymentProvider,
    ProviderError,
    ProviderIntent,
)
from services.context import ServiceContext
from services.events import record_event
from services.idempotency import run_once
from services.orders import states as order_states

log = logging.getLogger(__name__)

# A card token the provider handed the client (tok_visa, ...).
MAX_CARD_TOKEN_LENGTH = 255
PAYMENT_SUCCEEDED = "payment.succeeded"
PAYMENT_FAILED = "payment.failed"


def _provider_failed(exc: ProviderError, field: str | None = None) -> Exception:
    return invalid(
        field, BillingErrorCode.PAYMENT_PROVIDER_ERROR, f"The payment provider refused: {exc.message}"
    )


def _payment_event(session: AsyncSession, topic: str, payment: Payment, actor: str) -> None:
    record_event(
        session,
        topic=topic,
        tenant_id=payment.tenant_id,
        payload={
            "paymentId": str(payment.id),
            "invoiceId": str(payment.invoice_id) if payment.invoice_id else None,
            "orderId": str(payment.order_id) if payment.order_id else None,
            "userId": str(payment.user_id),
            "status": payment.status.value,
            "amount": payment.amount,
            "currency": payment.currency,
            "failureReason": payment.failure_reason,
            "actor": actor,
        },
    )


# ---- outcomes (confirmation and webhooks) -------------------------------------------------------


async def mark_succeeded(
    session: AsyncSession,
    payment: Payment,
    *,
    actor: str,
    actor_user_id: uuid.UUID | None = None,
    card_last4: str | None = None,
) -> bool:
    """Payment SUCCEEDED (locked by the caller), its invoice paid, its order PAID when it awaited
    payment, and a domain event. False (nothing changed) when it had already succeeded."""
    if payment.status == PaymentStatus.SUCCEEDED:
        return False
    payment.status = PaymentStatus.SUCCEEDED
    payment.succeeded_at = utcnow()
    payment.failure_reason = None
    payment.card_last4 = card_last4 or payment.card_last4
    if payment.invoice_id:
        invoice = await session.get(Invoice, payment.invoice_id, with_for_update=True)
        if invoice is not None:
            apply_payment(session, invoice, payment.amount)
    if payment.order_id:
        order = await session.get(Order, payment.order_id, with_for_update=True)
        if order is not None and order.status == OrderStatus.AWAITING_PAYMENT:
            order_states.move(
                session,
                order,
                OrderStatus.PAID,
                actor=actor,
                actor_user_id=actor_user_id,
                reason=f"payment {payment.provider_payment_id}",
            )
            await schedule_transfers(session, order, actor=actor)
    _payment_event(session, PAYMENT_SUCCEEDED, payment, actor)
    return True


def mark_failed(session: AsyncSession, payment: Payment, reason: str, *, actor: str) -> bool:
    """Payment FAILED with ``reason``; the order is left as it is. A failure reported after a
    success (out-of-order delivery) changes nothing: False."""
    if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELLED):
        return False
    if payment.status == PaymentStatus.FAILED and payment.failure_reason == reason:
        return False
    payment.status = PaymentStatus.FAILED
    payment.failure_reason = reason[:500]
    payment.failed_at = utcnow()
    _payment_event(session, PAYMENT_FAILED, payment, actor)
    return True


async def apply_intent(
    session: AsyncSession,
    payment: Payment,
    intent: ProviderIntent,
    *,
    actor: str,
    actor_user_id: uuid.UUID | None,
) -> None:
    if intent.status == SUCCEEDED:
        await mark_succeeded(
            session, payment, actor=actor, actor_user_id=actor_user_id, card_last4=intent.card_last4
        )
    elif intent.failure_message or intent.failure_code:
        payment.card_last4 = intent.card_last4 or payment.card_last4
        mark_failed(
            session, payment, intent.failure_message or intent.failure_code or "declined", actor=actor
        )
    elif intent.status == PROCESSING:
        payment.status = PaymentStatus.PROCESSING
    elif intent.status == CANCELED:
        payment.status = PaymentStatus.CANCELLED


# ---- intents -----------------------------------------------------------------------------------


async def _own_method(session: AsyncSession, user_id: uuid.UUID, method_id: uuid.UUID) -> PaymentMethod:
    method = await session.get(PaymentMethod, method_id)
    if method is None or method.user_id != user_id:
        raise NotFound("PaymentMethod")
    return method


async def _default_method(session: AsyncSession, user_id: uuid.UUID) -> PaymentMethod:
    method = await session.scalar(
        select(PaymentMethod).where(PaymentMethod.user_id == user_id, PaymentMethod.is_default.is_(True))
    )
    if method is None:
        raise invalid("paymentMethodId", BillingErrorCode.PAYMENT_METHOD_REQUIRED, "Add a card or name one.")
    return method


async def create_payment_intent(
    ctx: ServiceContext,
    provider: PaymentProvider,
    invoice_id: uuid.UUID,
    *,
    payment_method_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
) -> Payment:
    """A payment for what is due on an OPEN or OVERDUE invoice: by its customer, or an admin."""
    principal = ctx.require_principal()

    async def perform(session: AsyncSession) -> uuid.UUID:
        invoice = await locked_to_change(
            session,
            principal,
            Invoice,
            invoice_id,
            "customer_id",
            "Only the customer or an admin pays an invoice.",
        )
        due = invoice.total - invoice.amount_paid
        if invoice.status not in PAYABLE or due <= 0:
            raise invalid(
                "invoiceId",
                BillingErrorCode.INVOICE_NOT_PAYABLE,
                f"A {invoice.status.value} invoice has nothing to pay.",
            )
        if payment_method_id is not None:
            await _own_method(session, invoice.customer_id, payment_method_id)
        payment_id = uuid.uuid4()
        try:
            intent = await provider.create_payment_intent(
                amount=due,
                currency=invoice.currency,
                metadata={
                    "tenant_id": str(invoice.tenant_id),
                    "invoice_id": str(invoice.id),
                    "invoice_number": invoice.number,
                    "payment_id": str(payment_id),
                },
                idempotency_key=f"pi-{payment_id}",
            )
        except ProviderError as exc:
            raise _provider_failed(exc) from exc
        session.add(
            Payment(
                id=payment_id,
                tenant_id=invoice.tenant_id,
                invoice_id=invoice.id,
                order_id=invoice.order_id,
                user_id=invoice.customer_id,
                payment_method_id=payment_method_id,
                provider=provider.name,
                provider_payment_id=intent.id,
                client_secret=intent.client_secret,
                status=PaymentStatus.REQUIRES_PAYMENT,
                amount=due,
                currency=invoice.currency,
            )
        )
        await session.flush()
        return payment_id

    request = {"invoiceId": str(invoice_id), "paymentMethodId": str(payment_method_id or "")}
    outcome = await run_once(ctx, "billing.createPaymentIntent", idempotency_key, request, perform)
    return await get_payment(ctx, outcome.entity_id)


async def confirm_payment(
    ctx: ServiceContext,
    provider: PaymentProvider,
    payment_id: uuid.UUID,
    *,
    payment_method_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
) -> Payment:
    """Confirm a payment at the provider with a saved card (the given one or the default)."""
    principal = ctx.require_principal()

    async def perform(session: AsyncSession) -> uuid.UUID:
        payment = await locked_to_change(
            session,
            principal,
            Payment,
            payment_id,
            "user_id",
            "Only the customer, a service principal or a platform admin confirms a payment.",
            admins=SERVICE_ONLY,
            services=True,
        )
        if payment.status not in (PaymentStatus.REQUIRES_PAYMENT, PaymentStatus.FAILED):
            raise invalid(
                "paymentId",
                BillingErrorCode.INVALID_TRANSITION,
                f"A {payment.status.value} payment cannot be confirmed.",
            )
        method = (
            await _own_method(session, payment.user_id, payment_method_id)
            if payment_method_id is not None
            else await _default_method(session, payment.user_id)
        )
        payment.payment_method_id = method.id
        try:
            intent = await provider.confirm_payment_intent(
                payment.provider_payment_id,
                payment_method=method.provider_method_id,
                idempotency_key=f"confirm-{payment.id}-{idempotency_key or uuid.uuid4().hex}",
            )
        except ProviderError as exc:
            raise _provider_failed(exc) from exc
        await apply_intent(session, payment, intent, actor="payment", actor_user_id=principal.person_id)
        return payment.id

    request = {"paymentId": str(payment_id), "paymentMethodId": str(payment_method_id or "")}
    outcome = await run_once(ctx, "billing.confirmPayment", idempotency_key, request, perform)
    return await get_payment(ctx, outcome.entity_id)


# ---- reads ------------------------------------------------------------------------------------


class PaymentOrderField(enum.StrEnum):
    CREATED_AT = "CREATED_AT"
    AMOUNT = "AMOUNT"


_ORDER_COLUMNS = {PaymentOrderField.CREATED_AT: Payment.created_at, PaymentOrderField.AMOUNT: Payment.amount}


@dataclass(frozen=True, slots=True)
class PaymentFilter:
    status: PaymentStatus | None = None
    invoice_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None


async def get_payment(ctx: ServiceContext, payment_id: uuid.UUID) -> Payment:
    principal = ctx.require_principal()
    async with ctx.read() as session:
        payment = await session.get(Payment, payment_id)
    if payment is None or not can_see(principal, payment.user_id):
        raise NotFound("Payment")
    return payment


async def list_payments(
    ctx: ServiceContext,
    payment_filter: PaymentFilter,
    order: PaymentOrderField,
    descending: bool,
    page: PageArgs,
) -> Page[Payment]:
    f = payment_filter
    statement = where_given(
        visible(select(Payment), Payment.user_id, ctx.require_principal()),
        (Payment.status, f.status),
        (Payment.invoice_id, f.invoice_id),
        (Payment.order_id, f.order_id),
        (Payment.user_id, f.user_id),
    )
    column = _ORDER_COLUMNS[order]

    return await paginate(ctx.read, statement, SortKey(column, Payment.id, descending), page)


# ---- payment methods --------------------------------------------------------------------------


async def _lock_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    # The user's row is the lock for their cards: one change at a time keeps one default.
    if await session.get(User, user_id, with_for_update=True) is None:
        raise NotFound("User")


async def _make_default(session: AsyncSession, method: PaymentMethod) -> None:
    await session.execute(
        update(PaymentMethod)
        .where(PaymentMethod.user_id == method.user_id, PaymentMethod.id != method.id)
        .values(is_default=False)
        .execution_options(synchronize_session="fetch")
    )
    method.is_default = True


async def _stored_customer(session: AsyncSession, user_id: uuid.UUID, provider: str) -> str | None:
    return await session.scalar(
        select(ProviderCustomer.provider_customer_id).where(
            ProviderCustomer.user_id == user_id, ProviderCustomer.provider == provider
        )
    )


async def _provider_customer(ctx: ServiceContext, provider: PaymentProvider) -> str:
    """The caller's customer at the provider, created there with their first card."""
    principal = ctx.require_principal()
    async with ctx.read() as session:
        existing = await _stored_customer(session, principal.user_id, provider.name)
        email = await session.scalar(select(User.email).where(User.id == principal.user_id))
    if existing is not None:
        return existing
    # One key per tenant and user: a retry, or a concurrent first card, gets the same customer back.
    customer_id = await provider.create_customer(
        reference=str(principal.user_id),
        email=email,
        idempotency_key=f"cus-{principal.tenant_id}-{principal.user_id}",
    )
    try:
        # Not ctx.transaction: the call's audit entry belongs with the card's transaction.
        async with ctx.db.transaction(ctx.scope) as session:
            session.add(
                ProviderCustomer(
                    user_id=principal.user_id, provider=provider.name, provider_customer_id=customer_id
                )
            )
    except IntegrityError:
        # A concurrent first card stored its customer first: that one is used (read from the primary).
        async with ctx.db.session(ctx.scope) as session:
            winner = await _stored_customer(session, principal.user_id, provider.name)
        if winner is None:
            raise
        return winner
    return customer_id


async def add_payment_method(
    ctx: ServiceContext, provider: PaymentProvider, card_token: str, *, make_default: bool = False
) -> PaymentMethod:
    """Save a card from a provider token (e.g. ``tok_visa``) and attach it to the caller."""
    principal = ctx.require_principal()
    token = card_token.strip()
    if not token or len(token) > MAX_CARD_TOKEN_LENGTH:
        raise invalid(
            "cardToken", BillingErrorCode.INVALID_CARD_TOKEN, "Give the card token the provider returned."
        )
    try:
        customer = await _provider_customer(ctx, provider)
        card = await provider.create_payment_method(card_token=token, idempotency_key=f"pm-{uuid.uuid4()}")
        card = await provider.attach_payment_method(card.id, customer=customer)
    except ProviderError as exc:
        raise invalid(
            "cardToken", BillingErrorCode.CARD_REJECTED, f"The card was not accepted: {exc.message}"
        ) from exc
    async with ctx.transaction() as session:
        await _lock_user(session, principal.user_id)
        method = PaymentMethod(
            id=uuid.uuid4(),
            user_id=principal.user_id,
            provider=provider.name,
            provider_method_id=card.id,
            brand=card.brand,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            is_default=False,
        )
        session.add(method)
        has_default = await session.scalar(
            select(PaymentMethod.id).where(
                PaymentMethod.user_id == principal.user_id, PaymentMethod.is_default.is_(True)
            )
        )
        if make_default or has_default is None:
            await session.flush()
            await _make_default(session, method)
        return method


async def set_default_payment_method(ctx: ServiceContext, method_id: uuid.UUID) -> PaymentMethod:
    principal = ctx.require_principal()
    async with ctx.transaction() as session:
        await _lock_user(session, principal.user_id)
        method = await _own_method(session, principal.user_id, method_id)
        await _make_default(session, method)
        return method


async def remove_payment_method(
    ctx: ServiceContext, provider: PaymentProvider, method_id: uuid.UUID
) -> uuid.UUID:
    """Delete one of the caller's cards; when it was the default, the newest other card becomes it."""
    principal = ctx.require_principal()
    async with ctx.transaction() as session:
        await _lock_user(session, principal.user_id)
        method = await _own_method(session, principal.user_id, method_id)
        was_default, provider_method_id = method.is_default, method.provider_method_id
        await session.delete(method)
        await session.flush()
        if was_default:
            successor = await session.scalar(
                select(PaymentMethod)
                .where(PaymentMethod.user_id == principal.user_id)
                .order_by(PaymentMethod.created_at.desc(), PaymentMethod.id.desc())
                .limit(1)
            )
            if successor is not None:
                await _make_default(session, successor)
    try:
        await provider.detach_payment_method(provider_method_id)
    except ProviderError as exc:  # ours is gone either way; the provider's copy is unusable by us
        log.warning("could not detach %s at the provider: %s", provider_method_id, exc)
    return method_id


async def list_payment_methods(ctx: ServiceContext, page: PageArgs) -> Page[PaymentMethod]:
    principal = ctx.require_principal()

    return await paginate(
        ctx.read,
        select(PaymentMethod).where(PaymentMethod.user_id == principal.user_id),
        SortKey(PaymentMethod.created_at, PaymentMethod.id, descending=False),
        page,
    )
