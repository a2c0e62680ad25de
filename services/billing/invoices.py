"""Invoices: gapless numbers, lines and totals, the DRAFT/OPEN/PAID/VOID/OVERDUE life cycle,
sending by mail, statistics and the overdue job.

Numbers (INV-<year>-<6 digits>) are assigned when the invoice is CREATED, drafts included, from the
per-tenant counter ``invoice-<year>`` inside the creating transaction (services/counters.py): a
rolled-back creation gives its number back, and an invoice is never deleted (a mistaken one is
voided and keeps its number), so the numbers of a tenant's year run 1, 2, 3, ... without a gap or
a repeat, even under concurrent creation.

Amounts are integer minor units. A line's total is ``quantity x unit_amount - discount + tax``;
the invoice's subtotal is the sum of the lines' net amounts (total - tax), its tax the sum of their
taxes, and total = subtotal + tax. Lines made from an order copy the order items' amounts, which
services/orders/pricing.py computed (discount and tax already allocated per line), plus a shipping line,
so the invoice total equals the order total."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, InvalidInput, NotFound, invalid
from core.permissions import BILLING_ADMINS, BILLING_STAFF, SERVICE_ONLY
from core.scope import TenantScope
from models.base import utcnow
from models.billing import Invoice, InvoiceLine, InvoiceStatus, MailMessage
from models.db import Database, locked_or_not_found
from models.orders import Order, OrderItem, OrderStatus
from services.billing.errors import BillingErrorCode
from services.billing.invoice_pdf import format_money, invoice_document
from services.billing.mail import queue_mail
from services.context import ServiceContext
from services.counters import next_value
from services.events import record_event
from services.identity.accounts import email_problem, valid_email
from services.orders.pricing import line_subtotal

log = logging.getLogger(__name__)


INVOICE_STATUS_CHANGED = "invoice.status_changed"
INVOICE_SENT = "invoice.sent"
DEFAULT_DUE_DAYS = 14

S = InvoiceStatus
INVOICE_MOVES: dict[InvoiceStatus, frozenset[InvoiceStatus]] = {
    S.DRAFT: frozenset({S.OPEN, S.VOID}),
    S.OPEN: frozenset({S.PAID, S.VOID, S.OVERDUE}),
    S.OVERDUE: frozenset({S.PAID, S.VOID}),
    S.PAID: frozenset(),
    S.VOID: frozenset(),
}
PAYABLE = (S.OPEN, S.OVERDUE)


def invoice_number(year: int, value: int) -> str:
    return f"INV-{year}-{value:06d}"


# ---- lines and totals -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineSpec:
    description: str
    quantity: int
    unit_amount: int
    tax_amount: int = 0
    discount_amount: int = 0

    @property
    def net(self) -> int:
        return self.quantity * self.unit_amount - self.discount_amount

    @property
    def total(self) -> int:
        return self.net + self.tax_amount


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: int
    tax_total: int
    total: int


def invoice_totals(lines: Sequence[LineSpec]) -> Totals:
    subtotal = sum(line.net for line in lines)
    tax = sum(line.tax_amount for line in lines)
    return Totals(subtotal=subtotal, tax_total=tax, total=subtotal + tax)


def lines_of_order(order: Order, items: Sequence[OrderItem]) -> list[LineSpec]:
    """The order's items as invoice lines (their priced amounts copied), then shipping; a rounding
    difference to the order's total, which services/orders/pricing.py rules out, would be shown as an
    adjustment line rather than silently changing the total."""
    lines = [
        LineSpec(
            description=f"{item.name} ({item.sku})",
            quantity=item.quantity,
            unit_amount=item.unit_price,
            tax_amount=item.tax_amount,
            discount_amount=line_subtotal(item.unit_price, item.quantity) + item.tax_amount - item.total,
        )
        for item in items
    ]
    if order.shipping_total:
        lines.append(LineSpec("Shipping", 1, order.shipping_total))
    difference = order.total - invoice_totals(lines).total
    if difference:
        log.warning("order %s: lines differ from the order total by %d", order.id, difference)
        lines.append(LineSpec("Adjustment", 1, difference))
    return lines


# ---- creation and the life cycle --------------------------------------------------------------


def _status_changed(session: AsyncSession, invoice: Invoice, previous: InvoiceStatus | None) -> None:
    record_event(
        session,
        topic=INVOICE_STATUS_CHANGED,
        tenant_id=invoice.tenant_id,
        payload={
            "invoiceId": str(invoice.id),
            "number": invoice.number,
            "customerId": str(invoice.customer_id),
            "from": previous.value if previous else None,
            "to": invoice.status.value,
        },
    )


def move_invoice(session: AsyncSession, invoice: Invoice, target: InvoiceStatus) -> None:
    """Move ``invoice`` (locked by the caller) along INVOICE_MOVES; illegal -> INVALID_TRANSITION."""
    if target not in INVOICE_MOVES[invoice.status]:
        raise invalid(
            None,
            BillingErrorCode.INVALID_TRANSITION,
            f"An invoice cannot go from {invoice.status.value} to {target.value}.",
        )
    previous, invoice.status = invoice.status, target
    now = utcnow()
    if target == S.OPEN:
        invoice.issued_at = now
        if invoice.due_at is None or invoice.due_at < now:
            invoice.due_at = now + timedelta(days=DEFAULT_DUE_DAYS)
    elif target == S.PAID:
        invoice.paid_at = now
    elif target == S.VOID:
        invoice.voided_at = now
    _status_changed(session, invoice, previous)


async def new_invoice(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    customer_id: uuid.UUID,
    currency: str,
    lines: Sequence[LineSpec],
    order_id: uuid.UUID | None = None,
    subscription_id: uuid.UUID | None = None,
    due_at: datetime | None = None,
    issue: bool = False,
    now: datetime | None = None,
) -> Invoice:
    """A DRAFT invoice (OPEN when ``issue``) with the tenant's next number, in the caller's transaction."""
    now = now or utcnow()
    number = invoice_number(now.year, await next_value(session, tenant_id, f"invoice-{now.year}"))
    totals = invoice_totals(lines)
    invoice = Invoice(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        number=number,
        customer_id=customer_id,
        order_id=order_id,
        subscription_id=subscription_id,
        status=S.DRAFT,
        currency=currency,
        subtotal=totals.subtotal,
        tax_total=totals.tax_total,
        total=totals.total,
        amount_paid=0,
        due_at=due_at or now + timedelta(days=DEFAULT_DUE_DAYS),
        created_at=now,
    )
    session.add(invoice)
    session.add_all(
        InvoiceLine(
            tenant_id=tenant_id,
            invoice_id=invoice.id,
            position=position,
            description=line.description[:500],
            quantity=line.quantity,
            unit_amount=line.unit_amount,
            tax_amount=line.tax_amount,
            total=line.total,
        )
        for position, line in enumerate(lines, start=1)
    )
    _status_changed(session, invoice, None)
    if issue:
        move_invoice(session, invoice, S.OPEN)
    await session.flush()
    return invoice


async def new_order_invoice(
    session: AsyncSession,
    order: Order,
    *,
    due_at: datetime | None = None,
    issue: bool = False,
    now: datetime | None = None,
) -> Invoice:
    """``new_invoice`` for ``order``'s customer, of its items and shipping (``lines_of_order``)."""
    items = list(
        await session.scalars(
            select(OrderItem).where(OrderItem.order_id == order.id).order_by(OrderItem.position)
        )
    )
    return await new_invoice(
        session,
        tenant_id=order.tenant_id,
        customer_id=order.user_id,
        currency=order.currency,
        lines=lines_of_order(order, items),
        order_id=order.id,
        due_at=due_at,
        issue=issue,
        now=now,
    )


async def create_invoice_for_order(
    ctx: ServiceContext, order_id: uuid.UUID, *, due_at: datetime | None = None, issue: bool = False
) -> Invoice:
    ctx.require_role(*BILLING_STAFF)
    now = utcnow()
    if due_at is not None and due_at <= now:
        raise invalid("dueAt", BillingErrorCode.INVALID_DUE_DATE, "The due date must be in the future.")
    async with ctx.transaction() as session:
        order = await session.get(Order, order_id, with_for_update=True)
        if order is None:
            raise NotFound("Order")
        if order.status == OrderStatus.CANCELLED:
            raise invalid("orderId", BillingErrorCode.ORDER_CANCELLED, "A cancelled order is not invoiced.")
        existing = await session.scalar(
            select(Invoice.number).where(Invoice.order_id == order.id, Invoice.status != S.VOID)
        )
        if existing:
            raise invalid(
                "orderId",
                BillingErrorCode.ORDER_ALREADY_INVOICED,
                f"This order already has invoice {existing}.",
            )
        return await new_order_invoice(session, order, due_at=due_at, issue=issue, now=now)


async def issue_invoice(ctx: ServiceContext, invoice_id: uuid.UUID) -> Invoice:
    ctx.require_role(*BILLING_STAFF)
    async with ctx.transaction() as session:
        invoice = await locked_or_not_found(session, Invoice, invoice_id)
        move_invoice(session, invoice, S.OPEN)
        return invoice


async def void_invoice(ctx: ServiceContext, invoice_id: uuid.UUID) -> Invoice:
    """Service-only: service principals and platform admins (tenant admins no longer)."""
    if not ctx.require_principal().is_service_or(*SERVICE_ONLY):
        raise Forbidden("Only service principals and platform administrators void invoices.")
    async with ctx.transaction() as session:
        invoice = await locked_or_not_found(session, Invoice, invoice_id)
        if invoice.status == S.PAID:
            raise invalid(
                None,
                BillingErrorCode.INVALID_TRANSITION,
                "A paid invoice cannot be voided; refund it instead.",
            )
        move_invoice(session, invoice, S.VOID)
        return invoice


def apply_payment(session: AsyncSession, invoice: Invoice, amount: int) -> bool:
    """Count a succeeded payment towards ``invoice`` (locked by the caller); True when this made it
    PAID. A payment for a VOID or already PAID invoice is recorded on the payment only."""
    if invoice.status not in PAYABLE:
        return False
    invoice.amount_paid += amount
    if invoice.amount_paid >= invoice.total:
        move_invoice(session, invoice, S.PAID)
        return True
    return False


async def mark_overdue_invoices(
    db: Database, scope: TenantScope | None = None, now: datetime | None = None
) -> int:
    """OPEN invoices past their due date become OVERDUE (every tenant unless ``scope``); returns how
    many. Rows another process is handling are skipped, so any number of workers may run this."""
    now = now or utcnow()
    async with db.transaction(scope or TenantScope.all_tenants()) as session:
        due = list(
            await session.scalars(
                select(Invoice)
                .where(Invoice.status == S.OPEN, Invoice.due_at < now)
                .with_for_update(skip_locked=True)
            )
        )
        for invoice in due:
            move_invoice(session, invoice, S.OVERDUE)
        return len(due)


async def mark_overdue_in_tenant(ctx: ServiceContext) -> int:
    ctx.require_role(*BILLING_ADMINS)
    count = await mark_overdue_invoices(ctx.db, ctx.scope)
    if count:
        ctx.on_events_committed()
    return count


# ---- sending ----------------------------------------------------------------------------------

SENDABLE = (S.OPEN, S.OVERDUE, S.PAID)


async def send_invoice(
    ctx: ServiceContext, invoice_id: uuid.UUID, to: str | None = None
) -> tuple[Invoice, MailMessage]:
    """Queue the invoice e-mail (PDF attached when sent) in the same transaction as ``sent_at``."""
    ctx.require_role(*BILLING_STAFF)
    if to is not None and (problem := email_problem("to", to)):
        raise InvalidInput(problem)
    async with ctx.transaction() as session:
        invoice = await locked_or_not_found(session, Invoice, invoice_id)
        if invoice.status not in SENDABLE:
            raise invalid(
                None,
                BillingErrorCode.INVOICE_NOT_SENDABLE,
                f"A {invoice.status.value} invoice is not sent to customers.",
            )
        document = await invoice_document(session, invoice)
        recipient = valid_email(to) if to else document.customer_email
        due = max(invoice.total - invoice.amount_paid, 0)
        message = queue_mail(
            session,
            tenant_id=invoice.tenant_id,
            to=recipient,
            subject=f"Invoice {invoice.number} from {document.seller_name}",
            body=(
                f"Hello {document.customer_name},\n\n"
                f"please find attached invoice {invoice.number} "
                f"of {format_money(invoice.total, invoice.currency)}"
                + (
                    f", {format_money(due, invoice.currency)} due by {invoice.due_at:%Y-%m-%d}.\n"
                    if due and invoice.due_at
                    else ".\n"
                )
                + f"\n{document.seller_name}\n"
            ),
            attachments={"invoicePdf": str(invoice.id)},
        )
        invoice.sent_at = utcnow()
        record_event(
            session,
            topic=INVOICE_SENT,
            tenant_id=invoice.tenant_id,
            payload={"invoiceId": str(invoice.id), "mailMessageId": str(message.id), "to": recipient},
        )
        await session.flush()
        return invoice, message
