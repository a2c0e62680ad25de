"""Invoices: gapless numbers, lines and totals, the DRAFT/OPEN/PAID/VOID/OVERDUE life cycle, the PDF,
sending by mail, statistics, the overdue job and the demo data.

Numbers (INV-<year>-<6 digits>) are assigned when the invoice is CREATED, drafts included, from the
per-tenant counter ``invoice-<year>`` inside the creating transaction (services/counters.py): a
rolled-back creation gives its number back, and an invoice is never deleted (a mistaken one is
voided and keeps its number), so the numbers of a tenant's year run 1, 2, 3, ... without a gap or
a repeat, even under concurrent creation.

Amounts are integer minor units. A line's total is ``quantity x unit_amount - discount + tax``;
the invoice's subtotal is the sum of the lines' net amounts (total - tax), its tax the sum of their
taxes, and total = subtotal + tax. Lines made from an order copy the order items' amounts, which
services/pricing.py computed (discount and tax already allocated per line), plus a shipping line,
so the invoice total equals the order total."""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fpdf import FPDF
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, InvalidInput, NotFound, invalid
from core.permissions import BILLING_ADMINS, BILLING_STAFF
from core.principal import Principal
from core.scope import TenantScope
from loaders.pagination import Page, PageArgs, SortKey, Statement, paginate, where_given
from models.base import utcnow
from models.billing import Invoice, InvoiceLine, InvoiceStatus, MailMessage
from models.db import Database, Model, locked_or_not_found
from models.identity import Tenant, User
from models.orders import Order, OrderItem, OrderStatus
from services.context import ServiceContext
from services.counters import next_value
from services.events import record_event
from services.pricing import line_subtotal

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


def is_staff(principal: Principal) -> bool:
    return principal.has_any_role(*BILLING_STAFF)


def can_see(principal: Principal | None, owner_id: uuid.UUID) -> bool:
    """Billing records are read by their owner and by staff; to anyone else they do not exist."""
    return principal is not None and (principal.user_id == owner_id or is_staff(principal))


async def locked_to_change(
    session: AsyncSession,
    principal: Principal,
    model: type[Model],
    row_id: uuid.UUID,
    owner: str,
    forbidden: str,
) -> Model:
    """A billing row locked for a change by ``principal``: NotFound unless they may see it
    (``can_see`` of its ``owner`` attribute), Forbidden with ``forbidden`` unless it is theirs or
    they are an admin (staff read what they may not change)."""
    row = await session.get(model, row_id, with_for_update=True)
    owner_id = getattr(row, owner, None)
    if row is None or owner_id is None or not can_see(principal, owner_id):
        raise NotFound(model.__name__)
    if owner_id != principal.user_id and not principal.has_any_role(*BILLING_ADMINS):
        raise Forbidden(forbidden)
    return row


def visible(statement: Statement, owner: Any, principal: Principal) -> Statement:
    """``statement`` narrowed to the rows ``principal`` may see: staff all, others those whose
    ``owner`` (a user id column, or any expression of one) is theirs; ``can_see`` for a list."""
    return statement if is_staff(principal) else statement.where(owner == principal.user_id)


# ---- money formatting -----------------------------------------------------------------------

ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
THREE_DECIMAL = frozenset(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"])


def minor_digits(currency: str) -> int:
    if currency in ZERO_DECIMAL:
        return 0
    return 3 if currency in THREE_DECIMAL else 2


def format_money(amount: int, currency: str) -> str:
    """``123456, "EUR"`` -> ``"1,234.56 EUR"`` (integer arithmetic only)."""
    digits = minor_digits(currency)
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 10**digits)
    text = f"{major:,}" + (f".{minor:0{digits}d}" if digits else "")
    return f"{sign}{text} {currency}"


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
    difference to the order's total, which services/pricing.py rules out, would be shown as an
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
            None, "INVALID_TRANSITION", f"An invoice cannot go from {invoice.status.value} to {target.value}."
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
        raise invalid("dueAt", "INVALID_DUE_DATE", "The due date must be in the future.")
    async with ctx.transaction() as session:
        order = await session.get(Order, order_id, with_for_update=True)
        if order is None:
            raise NotFound("Order")
        if order.status == OrderStatus.CANCELLED:
            raise invalid("orderId", "ORDER_CANCELLED", "A cancelled order is not invoiced.")
        existing = await session.scalar(
            select(Invoice.number).where(Invoice.order_id == order.id, Invoice.status != S.VOID)
        )
        if existing:
            raise invalid("orderId", "ORDER_ALREADY_INVOICED", f"This order already has invoice {existing}.")
        return await new_order_invoice(session, order, due_at=due_at, issue=issue, now=now)


async def issue_invoice(ctx: ServiceContext, invoice_id: uuid.UUID) -> Invoice:
    ctx.require_role(*BILLING_STAFF)
    async with ctx.transaction() as session:
        invoice = await locked_or_not_found(session, Invoice, invoice_id)
        move_invoice(session, invoice, S.OPEN)
        return invoice


async def void_invoice(ctx: ServiceContext, invoice_id: uuid.UUID) -> Invoice:
    ctx.require_role(*BILLING_ADMINS)
    async with ctx.transaction() as session:
        invoice = await locked_or_not_found(session, Invoice, invoice_id)
        if invoice.status == S.PAID:
            raise invalid(None, "INVALID_TRANSITION", "A paid invoice cannot be voided; refund it instead.")
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


# ---- reads ------------------------------------------------------------------------------------


class InvoiceOrderField(enum.StrEnum):
    CREATED_AT = "CREATED_AT"
    DUE_AT = "DUE_AT"
    NUMBER = "NUMBER"
    TOTAL = "TOTAL"


_ORDER_COLUMNS = {
    InvoiceOrderField.CREATED_AT: Invoice.created_at,
    InvoiceOrderField.DUE_AT: Invoice.due_at,
    InvoiceOrderField.NUMBER: Invoice.number,
    InvoiceOrderField.TOTAL: Invoice.total,
}


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    status: InvoiceStatus | None = None
    customer_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    subscription_id: uuid.UUID | None = None
    currency: str | None = None
    # OVERDUE, or still OPEN past the due date (the job may not have run yet).
    overdue: bool = False


def overdue_condition(now: datetime) -> Any:
    return or_(Invoice.status == S.OVERDUE, and_(Invoice.status == S.OPEN, Invoice.due_at < now))


def _filtered(invoice_filter: InvoiceFilter, principal: Principal) -> Select[tuple[Invoice]]:
    f = invoice_filter
    statement = where_given(
        visible(select(Invoice), Invoice.customer_id, principal),
        (Invoice.status, f.status),
        (Invoice.customer_id, f.customer_id),
        (Invoice.order_id, f.order_id),
        (Invoice.subscription_id, f.subscription_id),
    )
    if f.currency:
        statement = statement.where(Invoice.currency == f.currency.upper())
    if f.overdue:
        statement = statement.where(overdue_condition(utcnow()))
    return statement


async def list_invoices(
    ctx: ServiceContext,
    invoice_filter: InvoiceFilter,
    order: InvoiceOrderField,
    descending: bool,
    page: PageArgs,
) -> Page[Invoice]:
    principal = ctx.require_principal()
    column = _ORDER_COLUMNS[order]

    return await paginate(
        ctx.read, _filtered(invoice_filter, principal), SortKey(column, Invoice.id, descending), page
    )


async def get_invoice_by_number(ctx: ServiceContext, number: str) -> Invoice:
    principal = ctx.require_principal()
    async with ctx.read() as session:
        invoice = await session.scalar(select(Invoice).where(Invoice.number == number.strip().upper()))
    if invoice is None or not can_see(principal, invoice.customer_id):
        raise NotFound("Invoice")
    return invoice


@dataclass(frozen=True, slots=True)
class StatusFigures:
    status: InvoiceStatus
    currency: str
    count: int
    total: int
    amount_paid: int


async def invoice_statistics(ctx: ServiceContext) -> list[StatusFigures]:
    """Count, total and paid amount per status and currency (amounts never mix currencies)."""
    ctx.require_role(*BILLING_STAFF)
    async with ctx.read() as session:
        rows = (
            await session.execute(
                select(
                    Invoice.status,
                    Invoice.currency,
                    func.count(),
                    func.coalesce(func.sum(Invoice.total), 0),
                    func.coalesce(func.sum(Invoice.amount_paid), 0),
                )
                .group_by(Invoice.status, Invoice.currency)
                .order_by(Invoice.status, Invoice.currency)
            )
        ).all()
    return [StatusFigures(InvoiceStatus(s), c, int(n), int(t), int(p)) for s, c, n, t, p in rows]


# ---- the PDF ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    invoice: Invoice
    lines: list[InvoiceLine]
    customer_name: str
    customer_email: str
    seller_name: str


async def invoice_document(session: AsyncSession, invoice: Invoice) -> InvoiceDocument:
    lines = list(
        await session.scalars(
            select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id).order_by(InvoiceLine.position)
        )
    )
    customer = await session.get(User, invoice.customer_id)
    tenant = await session.get(Tenant, invoice.tenant_id)
    return InvoiceDocument(
        invoice=invoice,
        lines=lines,
        customer_name=customer.full_name if customer else "",
        customer_email=customer.email if customer else "",
        seller_name=tenant.name if tenant else "",
    )


def _latin1(text: str) -> str:
    # The PDF core fonts cover Latin-1; anything else is shown as "?" rather than failing.
    return text.encode("latin-1", "replace").decode("latin-1")


def pdf_filename(invoice: Invoice) -> str:
    return f"{invoice.number}.pdf"


def render_invoice_pdf(document: InvoiceDocument) -> bytes:
    invoice = document.invoice
    money = lambda amount: format_money(amount, invoice.currency)  # noqa: E731
    date = lambda value: value.strftime("%Y-%m-%d") if value else "-"  # noqa: E731
    pdf = FPDF(format="A4")
    pdf.set_title(f"Invoice {invoice.number}")
    pdf.set_author(_latin1(document.seller_name))
    pdf.set_creator("tenantgraph")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, _latin1(f"Invoice {invoice.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for text in (
        f"From: {document.seller_name}",
        f"Bill to: {document.customer_name} <{document.customer_email}>",
        f"Status: {invoice.status.value}",
        f"Issued: {date(invoice.issued_at)}    Due: {date(invoice.due_at)}",
    ):
        pdf.cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (90, 20, 40, 40)
    pdf.set_font("Helvetica", "B", 10)
    for width, title, align in zip(
        widths, ("Description", "Qty", "Unit price", "Amount"), "LRRR", strict=True
    ):
        pdf.cell(width, 7, title, border="B", align=align)
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    for line in document.lines:
        cells = (
            _latin1(line.description[:60]),
            str(line.quantity),
            money(line.unit_amount),
            money(line.total),
        )
        for width, text, align in zip(widths, cells, "LRRR", strict=True):
            pdf.cell(width, 7, text, align=align)
        pdf.ln()
    pdf.ln(2)
    for label, amount, bold in (
        ("Subtotal", invoice.subtotal, False),
        ("Tax", invoice.tax_total, False),
        ("Total", invoice.total, True),
        ("Paid", invoice.amount_paid, False),
        ("Amount due", max(invoice.total - invoice.amount_paid, 0), True),
    ):
        pdf.set_font("Helvetica", "B" if bold else "", 10)
        pdf.cell(sum(widths[:3]), 7, label, align="R")
        pdf.cell(widths[3], 7, money(amount), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


async def invoice_pdf(db: Database, principal: Principal, invoice_id: uuid.UUID) -> tuple[str, bytes] | None:
    """(file name, PDF) of an invoice the principal may read; None otherwise."""
    async with db.session(principal.scope) as session:
        invoice = await session.get(Invoice, invoice_id)
        if invoice is None or not can_see(principal, invoice.customer_id):
            return None
        document = await invoice_document(session, invoice)
    return pdf_filename(invoice), render_invoice_pdf(document)


# ---- sending ----------------------------------------------------------------------------------

SENDABLE = (S.OPEN, S.OVERDUE, S.PAID)


async def send_invoice(
    ctx: ServiceContext, invoice_id: uuid.UUID, to: str | None = None
) -> tuple[Invoice, MailMessage]:
    """Queue the invoice e-mail (PDF attached when sent) in the same transaction as ``sent_at``."""
    from services.identity.accounts import email_problem, normalise_email
    from services.mailer import queue_mail

    ctx.require_role(*BILLING_STAFF)
    if to is not None and (problem := email_problem("to", to)):
        raise InvalidInput(problem)
    async with ctx.transaction() as session:
        invoice = await locked_or_not_found(session, Invoice, invoice_id)
        if invoice.status not in SENDABLE:
            raise invalid(
                None, "INVOICE_NOT_SENDABLE", f"A {invoice.status.value} invoice is not sent to customers."
            )
        document = await invoice_document(session, invoice)
        recipient = normalise_email(to) if to else document.customer_email
        assert recipient
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


# ---- demo data ------------------------------------------------------------------------------


async def seed_demo_billing(session: AsyncSession, tenant: Tenant) -> None:
    """Plans, the demo user's subscription with its OPEN invoice, and for the demo orders (if the
    orders demo made any): a PAID invoice with its payment for the PAID order and an OPEN invoice,
    queued for mailing, for an order not paid yet. Running it again adds nothing."""
    from models.billing import Payment, PaymentStatus
    from services.mailer import queue_mail
    from services.subscriptions_billing import seed_demo_plan

    unpaid = (OrderStatus.PENDING, OrderStatus.AWAITING_PAYMENT)

    await seed_demo_plan(session, tenant)
    orders = list(
        await session.scalars(
            select(Order)
            .where(
                Order.tenant_id == tenant.id,
                Order.status.in_([*unpaid, OrderStatus.PAID]),
            )
            .order_by(Order.created_at, Order.id)
        )
    )
    paid = next((o for o in orders if o.status == OrderStatus.PAID), None)
    awaiting = next((o for o in orders if o.status in unpaid), None)
    for order, target in ((paid, S.PAID), (awaiting, S.OPEN)):
        if order is None:
            continue
        if await session.scalar(select(Invoice.id).where(Invoice.order_id == order.id)):
            continue
        invoice = await new_order_invoice(session, order, issue=True)
        if target == S.PAID:
            session.add(
                Payment(
                    tenant_id=tenant.id,
                    invoice_id=invoice.id,
                    order_id=order.id,
                    user_id=order.user_id,
                    provider="demo",
                    provider_payment_id=f"pi_demo_{order.id.hex}",
                    status=PaymentStatus.SUCCEEDED,
                    amount=invoice.total,
                    currency=invoice.currency,
                    card_last4="4242",
                    succeeded_at=utcnow(),
                )
            )
            apply_payment(session, invoice, invoice.total)
        else:
            document = await invoice_document(session, invoice)
            queue_mail(
                session,
                tenant_id=tenant.id,
                to=document.customer_email,
                subject=f"Invoice {invoice.number} from {document.seller_name}",
                body=f"Please find attached invoice {invoice.number}.",
                attachments={"invoicePdf": str(invoice.id)},
            )
    await session.flush()
