"""Payments through redirect-style gateways (services/billing/gateways.py).

``start_gateway_payment``: the buyer names an invoice or an order and a gateway; the gateway opens
a payment for what is due, and we record a Payment (REQUIRES_PAYMENT, provider payment id = the
gateway's authority) with its GatewayPayment row; the answer carries the page to send the payer to.

``handle_callback``: the gateway sent the payer back with ``Authority`` and ``Status``. The row is
found by (provider, authority) across tenants and locked, then the work happens in the row's
tenant (the caller says nothing about tenants). Status=OK is only a claim: the payment is verified
with the gateway, server to server, for OUR amount, before it is marked paid through
``mark_succeeded`` (invoice and order updated there). The lock makes a repeated or concurrent
callback wait and then find the payment paid: it is paid once. Status=NOK fails it (a later,
verified OK callback still pays it: the gateway's word decides).

``settle_abandoned_gateway_payments`` (services/billing/jobs.py): a payer who never comes back
leaves a payment REQUIRES_PAYMENT; after ``gateway_payment_expiry_seconds`` the job asks the
gateway, as a callback would, so nothing waits forever."""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, invalid
from core.scope import TenantScope
from core.settings import Settings
from models.base import utcnow
from models.billing import Invoice, Payment, PaymentStatus
from models.db import Database
from models.gateways import GatewayPayment
from models.orders import Order, OrderStatus
from models.tenancy import SCOPE_KEY
from services.billing.access import can_see, locked_to_change
from services.billing.errors import BillingErrorCode
from services.billing.gateways import GatewayError, RedirectGateway, gateway_registry
from services.billing.invoices import PAYABLE
from services.billing.payments import mark_failed, mark_succeeded
from services.context import ServiceContext
from services.idempotency import run_once

log = logging.getLogger(__name__)

CALLBACK_PATH = "/payments/callback/{provider}"


class CallbackOutcome(enum.StrEnum):
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PENDING = "pending"  # the gateway could not be asked: nothing changed, the callback may come again
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class StartedGatewayPayment:
    payment: Payment
    gateway: GatewayPayment


@dataclass(frozen=True, slots=True)
class CallbackResult:
    outcome: CallbackOutcome
    payment_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class _Target:
    invoice_id: uuid.UUID | None
    order_id: uuid.UUID | None
    user_id: uuid.UUID
    amount: int
    currency: str
    label: str


def callback_url(base_url: str, provider: str) -> str:
    return base_url.rstrip("/") + CALLBACK_PATH.format(provider=provider)


async def _invoice_target(session: AsyncSession, ctx: ServiceContext, invoice_id: uuid.UUID) -> _Target:
    invoice = await locked_to_change(
        session,
        ctx.require_principal(),
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
    return _Target(
        invoice.id, invoice.order_id, invoice.customer_id, due, invoice.currency, f"Invoice {invoice.number}"
    )


async def _order_target(session: AsyncSession, ctx: ServiceContext, order_id: uuid.UUID) -> _Target:
    order = await locked_to_change(
        session, ctx.require_principal(), Order, order_id, "user_id", "Only the buyer pays an order."
    )
    if order.status != OrderStatus.AWAITING_PAYMENT or order.total <= 0:
        raise invalid(
            "orderId", BillingErrorCode.ORDER_NOT_PAYABLE, f"A {order.status.value} order is not paid now."
        )
    invoice_id = await session.scalar(
        select(Invoice.id).where(Invoice.order_id == order.id, Invoice.status.in_(PAYABLE)).limit(1)
    )
    if invoice_id is not None:  # the order was invoiced: pay what is due on its invoice
        return await _invoice_target(session, ctx, invoice_id)
    return _Target(None, order.id, order.user_id, order.total, order.currency, f"Order {order.number}")


async def _target(
    session: AsyncSession, ctx: ServiceContext, invoice_id: uuid.UUID | None, order_id: uuid.UUID | None
) -> _Target:
    if invoice_id is not None:
        return await _invoice_target(session, ctx, invoice_id)
    if order_id is not None:
        return await _order_target(session, ctx, order_id)
    raise invalid("invoiceId", BillingErrorCode.INVOICE_OR_ORDER_REQUIRED, "Give an invoiceId or an orderId.")


async def start_gateway_payment(
    ctx: ServiceContext,
    gateway: RedirectGateway | None,
    provider: str,
    *,
    invoice_id: uuid.UUID | None,
    order_id: uuid.UUID | None,
    base_url: str,
    idempotency_key: str | None = None,
) -> StartedGatewayPayment:
    """A pending gateway payment for what is due on an invoice or an AWAITING_PAYMENT order."""
    principal = ctx.require_principal()
    if (invoice_id is None) == (order_id is None):
        raise invalid(
            "invoiceId", BillingErrorCode.INVOICE_OR_ORDER_REQUIRED, "Give an invoiceId or an orderId."
        )
    if gateway is None:
        raise invalid(
            "provider", BillingErrorCode.GATEWAY_NOT_CONFIGURED, f"The {provider} gateway is not configured."
        )
    chosen = gateway

    async def perform(session: AsyncSession) -> uuid.UUID:
        target = await _target(session, ctx, invoice_id, order_id)
        if target.currency not in chosen.currencies:
            raise invalid(
                "provider",
                BillingErrorCode.GATEWAY_CURRENCY_UNSUPPORTED,
                f"{chosen.name} takes {', '.join(sorted(chosen.currencies))}, not {target.currency}.",
            )
        payment_id = uuid.uuid4()
        try:
            opened = await chosen.request_payment(
                amount=target.amount,
                currency=target.currency,
                description=target.label,
                callback_url=callback_url(ctx.settings.public_url or base_url, chosen.name),
                metadata={"order_id": target.label, "payment_id": str(payment_id)},
            )
        except GatewayError as exc:
            raise invalid(
                "provider", BillingErrorCode.PAYMENT_PROVIDER_ERROR, f"The gateway refused: {exc.message}"
            ) from exc
        session.add(
            Payment(
                id=payment_id,
                invoice_id=target.invoice_id,
                order_id=target.order_id,
                user_id=target.user_id,
                provider=chosen.name,
                provider_payment_id=opened.authority,
                status=PaymentStatus.REQUIRES_PAYMENT,
                amount=target.amount,
                currency=target.currency,
            )
        )
        await session.flush()
        session.add(
            GatewayPayment(
                payment_id=payment_id,
                provider=chosen.name,
                authority=opened.authority,
                redirect_url=opened.redirect_url[:1000],
                callbacks=0,
            )
        )
        await session.flush()
        return payment_id

    request = {"invoiceId": str(invoice_id or ""), "orderId": str(order_id or ""), "provider": provider}
    outcome = await run_once(ctx, "billing.startGatewayPayment", idempotency_key, request, perform)
    async with ctx.read() as session:
        payment = await session.get(Payment, outcome.entity_id)
        row = await session.scalar(
            select(GatewayPayment).where(GatewayPayment.payment_id == outcome.entity_id)
        )
    if payment is None or row is None or not can_see(principal, payment.user_id):
        raise NotFound("Payment")
    return StartedGatewayPayment(payment, row)


def _last4(card_pan: str | None) -> str | None:
    digits = card_pan[-4:] if card_pan else ""
    return digits if len(digits) == 4 and digits.isdigit() else None


async def _verify(
    session: AsyncSession, gateway: RedirectGateway, row: GatewayPayment, payment: Payment, actor: str
) -> CallbackOutcome:
    try:
        verdict = await gateway.verify_payment(authority=row.authority, amount=payment.amount)
    except GatewayError as exc:
        log.warning("gateway %s: could not verify %s: %s", row.provider, row.authority, exc.message)
        return CallbackOutcome.PENDING
    row.verify_code = verdict.code
    if not verdict.verified:
        log.warning("gateway %s did not verify %s: %s", row.provider, row.authority, verdict.message)
        reason = f"Not verified by {row.provider} ({verdict.code}): {verdict.message}"
        mark_failed(session, payment, reason, actor=actor)
        return CallbackOutcome.FAILED
    row.ref_id, row.card_pan, row.verified_at = verdict.ref_id, verdict.card_pan, utcnow()
    await mark_succeeded(session, payment, actor=actor, card_last4=_last4(verdict.card_pan))
    return CallbackOutcome.PAID


async def _settle(
    session: AsyncSession, gateway: RedirectGateway, row: GatewayPayment, status_ok: bool
) -> CallbackResult:
    """Settles the locked ``row``'s payment in the row's tenant, once."""
    # From here on this session works in the payment's tenant, under the tenancy guard.
    session.info[SCOPE_KEY] = TenantScope.of(row.tenant_id)
    payment = await session.get(Payment, row.payment_id, with_for_update=True)
    if payment is None:
        return CallbackResult(CallbackOutcome.UNKNOWN)
    actor = f"gateway:{gateway.name}"
    if payment.status == PaymentStatus.SUCCEEDED:
        outcome = CallbackOutcome.PAID
    elif not status_ok:
        mark_failed(session, payment, f"Cancelled by the payer at {gateway.name}.", actor=actor)
        outcome = CallbackOutcome.CANCELLED
    else:
        outcome = await _verify(session, gateway, row, payment, actor)
    return CallbackResult(outcome, payment.id)


async def handle_callback(
    db: Database,
    gateway: RedirectGateway,
    authority: str,
    status_ok: bool,
    on_events_committed: Callable[[], None] = lambda: None,
) -> CallbackResult:
    """The payer is back from ``gateway`` with ``authority``: verify and settle it, exactly once."""
    async with db.transaction(TenantScope.all_tenants()) as session:
        row = await session.scalar(
            select(GatewayPayment)
            .where(GatewayPayment.provider == gateway.name, GatewayPayment.authority == authority)
            .with_for_update()
        )
        if row is None:
            log.warning("gateway %s callback for unknown authority %r", gateway.name, authority[:80])
            return CallbackResult(CallbackOutcome.UNKNOWN)
        row.callbacks += 1
        result = await _settle(session, gateway, row, status_ok)
    on_events_committed()
    return result


async def settle_abandoned_gateway_payments(
    db: Database, settings: Settings, now: datetime | None = None, limit: int = 20
) -> int:
    """Gateway payments still unpaid ``gateway_payment_expiry_seconds`` after they started (the
    payer never came back) are asked about, server to server: paid at the gateway -> paid here,
    refused -> FAILED, the gateway unreachable -> asked again next round. Rows a callback holds are
    skipped. Returns how many were settled."""
    gateways = gateway_registry(settings)
    if not gateways:
        return 0
    started_before = (now or utcnow()) - timedelta(seconds=settings.gateway_payment_expiry_seconds)
    async with db.session(TenantScope.all_tenants()) as session:
        abandoned = list(
            await session.scalars(
                select(GatewayPayment.id)
                .join(Payment, Payment.id == GatewayPayment.payment_id)
                .where(
                    GatewayPayment.provider.in_(gateways),
                    GatewayPayment.created_at < started_before,
                    Payment.status == PaymentStatus.REQUIRES_PAYMENT,
                )
                .order_by(GatewayPayment.created_at)
                .limit(limit)
            )
        )
    settled = 0
    for row_id in abandoned:  # one transaction each: a gateway call holds only its own row
        async with db.transaction(TenantScope.all_tenants()) as session:
            row = await session.scalar(
                select(GatewayPayment).where(GatewayPayment.id == row_id).with_for_update(skip_locked=True)
            )
            if row is None:
                continue
            result = await _settle(session, gateways[row.provider], row, status_ok=True)
            settled += result.outcome in (CallbackOutcome.PAID, CallbackOutcome.FAILED)
    return settled
