"""Standalone invoices (``createInvoice``): lines given by billing staff or a service principal, not
copied from an order. Every line and the customer are checked before anything is written; the
invoice is created (and issued when asked) in one transaction under the idempotency key."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from core.permissions import BILLING_STAFF
from models.base import utcnow
from models.billing import Invoice
from models.identity.accounts import User
from services.billing.errors import BillingErrorCode
from services.billing.invoices import LineSpec, new_invoice
from services.context import ServiceContext
from services.idempotency import run_once
from services.money import currency_problem

MAX_LINES = 100
MAX_QUANTITY = 1_000_000
MAX_LINE_AMOUNT = 10**12
MAX_DESCRIPTION = 500


@dataclass(frozen=True, slots=True)
class NewInvoice:
    customer_id: uuid.UUID
    currency: str
    lines: Sequence[LineSpec]
    due_at: datetime | None = None
    issue: bool = False

    def request(self) -> dict[str, object]:
        return {
            "customerId": str(self.customer_id),
            "currency": self.currency,
            "lines": [[x.description, x.quantity, x.unit_amount, x.tax_amount] for x in self.lines],
            "dueAt": self.due_at.isoformat() if self.due_at else None,
            "issue": self.issue,
        }


def _problem(field: str, code: BillingErrorCode, message: str) -> FieldProblem:
    return FieldProblem(("input", *field.split(".")), code, message)


def line_problems(lines: Sequence[LineSpec]) -> list[FieldProblem]:
    if not 1 <= len(lines) <= MAX_LINES:
        return [_problem("lines", BillingErrorCode.INVALID_LINES, f"Give 1 to {MAX_LINES} lines.")]
    problems: list[FieldProblem] = []
    for index, line in enumerate(lines):
        at = f"lines.{index}"
        if not 1 <= len(line.description.strip()) <= MAX_DESCRIPTION:
            problems.append(
                _problem(
                    f"{at}.description",
                    BillingErrorCode.INVALID_LINE_DESCRIPTION,
                    f"A description is 1 to {MAX_DESCRIPTION} characters.",
                )
            )
        if not 1 <= line.quantity <= MAX_QUANTITY:
            problems.append(
                _problem(
                    f"{at}.quantity",
                    BillingErrorCode.INVALID_LINE_QUANTITY,
                    f"A quantity is 1 to {MAX_QUANTITY}.",
                )
            )
        for name, amount in (("unitAmount", line.unit_amount), ("taxAmount", line.tax_amount)):
            if not 0 <= amount <= MAX_LINE_AMOUNT:
                problems.append(
                    _problem(
                        f"{at}.{name}",
                        BillingErrorCode.INVALID_LINE_AMOUNT,
                        f"Line amounts are whole minor units from 0 to {MAX_LINE_AMOUNT}.",
                    )
                )
    return problems


def invoice_problems(new: NewInvoice, now: datetime) -> list[FieldProblem]:
    problems = line_problems(new.lines)
    currency = currency_problem("currency", new.currency)
    if currency is not None:
        problems.append(currency)
    if new.due_at is not None and new.due_at <= now:
        problems.append(
            _problem("dueAt", BillingErrorCode.INVALID_DUE_DATE, "The due date must be in the future.")
        )
    return problems


async def create_invoice(
    ctx: ServiceContext, new: NewInvoice, *, idempotency_key: str | None = None
) -> Invoice:
    """A standalone invoice for a user of the caller's tenant (billing staff or a service principal)."""
    principal = ctx.require_principal()
    if not principal.is_service_or(*BILLING_STAFF):
        raise Forbidden("Only billing staff and service principals create invoices.")
    now = utcnow()
    problems = invoice_problems(new, now)
    if problems:
        raise InvalidInput(*problems)

    async def perform(session: AsyncSession) -> uuid.UUID:
        customer = await session.scalar(
            select(User.id).where(User.id == new.customer_id, User.tenant_id == principal.tenant_id)
        )
        if customer is None:
            raise InvalidInput(
                _problem(
                    "customerId", BillingErrorCode.CUSTOMER_NOT_FOUND, "No such customer in this tenant."
                )
            )
        invoice = await new_invoice(
            session,
            tenant_id=principal.tenant_id,
            customer_id=new.customer_id,
            currency=new.currency,
            lines=[
                LineSpec(line.description.strip(), line.quantity, line.unit_amount, line.tax_amount)
                for line in new.lines
            ],
            due_at=new.due_at,
            issue=new.issue,
            now=now,
        )
        return invoice.id

    outcome = await run_once(ctx, "billing.createInvoice", idempotency_key, new.request(), perform)
    async with ctx.transaction() as session:
        invoice = await session.get(Invoice, outcome.entity_id)
    if invoice is None:
        raise NotFound("Invoice")
    return invoice
