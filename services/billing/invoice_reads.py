"""Invoice reads: the filtered, keyset-paginated list, one invoice by its number, and the
statistics per status and currency (split out of services/billing/invoices.py)."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select

from core.errors import NotFound
from core.permissions import BILLING_STAFF
from core.principal import Principal
from loaders.pagination import Page, PageArgs, SortKey, paginate, where_given
from models.base import utcnow
from models.billing import Invoice, InvoiceStatus
from models.orders import Order
from services.billing.access import can_see, visible
from services.context import ServiceContext

S = InvoiceStatus


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


def _filtered(invoice_filter: InvoiceFilter, principal: Principal) -> Select[Invoice]:
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


async def invoice_of_order(ctx: ServiceContext, order_id: uuid.UUID) -> Invoice | None:
    """The order's latest invoice that is not VOID, or None; the order must be the caller's (staff:
    the tenant's), else NOT_FOUND (another tenant's order is not visible at all)."""
    principal = ctx.require_principal()
    async with ctx.read() as session:
        owner = await session.scalar(select(Order.user_id).where(Order.id == order_id))
        if owner is None or not can_see(principal, owner):
            raise NotFound("Order")
        return await session.scalar(
            select(Invoice)
            .where(Invoice.order_id == order_id, Invoice.status != InvoiceStatus.VOID)
            .order_by(Invoice.created_at.desc(), Invoice.id.desc())
            .limit(1)
        )


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
