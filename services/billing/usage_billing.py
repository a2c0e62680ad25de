"""The usage billing step: a customer's unbilled usage of a period becomes one invoice per currency
(services/billing/invoices.py:new_invoice, one line per metric), exactly once.

Each (customer, period) is billed in its own transaction, which
1. takes the exclusive advisory lock of the customer's period (recording takes it shared, so no
   usage is recorded into the period meanwhile: services/billing/usage.py),
2. claims the period's unbilled records with FOR UPDATE SKIP LOCKED (a run that comes second finds
   them billed and does nothing),
3. prices their totals per metric (services/billing/pricing_rules.py, services/billing/rating.py),
   creates the invoices (OPEN; a zero total stays DRAFT), one ``UsageBill`` per currency (unique
   per customer, period and currency: the last guard) and marks every record billed with its
   invoice's id.
Re-running, or running in several processes at once, bills nothing twice. Once billed, the period
is closed for the customer. The periodic job bills the periods that have ended; ``billUsage``
(staff) bills a named period now, the current one included (which closes it)."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.permissions import BILLING_ADMINS
from core.scope import TenantScope
from models.base import utcnow
from models.billing import Invoice
from models.db import Database
from models.usage import PricingRule, UsageBill, UsageRecord
from services.billing.invoices import LineSpec, new_invoice
from services.billing.pricing_rules import parse_period, priced
from services.billing.usage import period_lock, period_of
from services.context import ServiceContext

log = logging.getLogger(__name__)
MAX_GROUPS = 200


@dataclass(slots=True)
class BillingResult:
    invoices: list[Invoice] = field(default_factory=list)
    records: int = 0


def _line(metric: str, quantity: int, amount: int, model: str) -> LineSpec:
    return LineSpec(f"Usage {metric}: {quantity} units ({model})", 1, amount)


async def _bill_group(
    db: Database, scope: TenantScope, tenant_id: uuid.UUID, customer_id: uuid.UUID, period: str, now: datetime
) -> BillingResult:
    result = BillingResult()
    async with db.transaction(scope) as session:
        await period_lock(session, customer_id, period, shared=False)
        records = list(
            await session.scalars(
                select(UsageRecord)
                .join(PricingRule, PricingRule.metric == UsageRecord.metric)
                .where(
                    UsageRecord.tenant_id == tenant_id,
                    PricingRule.tenant_id == tenant_id,
                    UsageRecord.customer_id == customer_id,
                    UsageRecord.period == period,
                    UsageRecord.invoice_id.is_(None),
                )
                .order_by(UsageRecord.occurred_at, UsageRecord.id)
                .with_for_update(of=UsageRecord, skip_locked=True)
            )
        )
        if not records:
            return result
        totals: dict[str, int] = defaultdict(int)
        for record in records:
            totals[record.metric] += record.quantity
        rating = await priced(session, customer_id, period, sorted(totals.items()))
        by_currency = defaultdict(list)
        for line in rating.lines:
            by_currency[line.currency].append(line)
        invoice_of_metric: dict[str, uuid.UUID] = {}
        for currency, lines in sorted(by_currency.items()):
            specs = [_line(x.metric, x.quantity, x.amount, x.rule.model.value) for x in lines]
            invoice = await new_invoice(
                session,
                tenant_id=tenant_id,
                customer_id=customer_id,
                currency=currency,
                lines=specs,
                issue=sum(s.total for s in specs) > 0,
                now=now,
            )
            session.add(
                UsageBill(
                    id=uuid.uuid4(),
                    tenant_id=tenant_id,
                    customer_id=customer_id,
                    period=period,
                    currency=currency,
                    invoice_id=invoice.id,
                    created_at=now,
                )
            )
            result.invoices.append(invoice)
            invoice_of_metric.update((x.metric, invoice.id) for x in lines)
        for record in records:
            record.invoice_id = invoice_of_metric[record.metric]
            record.billed_at = now
        result.records = len(records)
        await session.flush()
    return result


async def bill_usage(
    db: Database, scope: TenantScope | None = None, period: str | None = None, now: datetime | None = None
) -> BillingResult:
    """Bill the unbilled usage of ``period`` (default: every period that has ended), of every
    tenant unless ``scope``; returns the invoices made and how many records they bill."""
    now = now or utcnow()
    scope = scope or TenantScope.all_tenants()
    statement = (
        select(UsageRecord.tenant_id, UsageRecord.customer_id, UsageRecord.period)
        .join(PricingRule, PricingRule.metric == UsageRecord.metric)
        .where(UsageRecord.invoice_id.is_(None), PricingRule.tenant_id == UsageRecord.tenant_id)
        .where(UsageRecord.period == period if period else UsageRecord.period < period_of(now))
        .distinct()
        .order_by(UsageRecord.period, UsageRecord.tenant_id, UsageRecord.customer_id)
        .limit(MAX_GROUPS)
    )
    async with db.session(scope) as session:
        groups = list(await session.execute(statement))
    total = BillingResult()
    for tenant_id, customer_id, group_period in groups:
        try:
            done = await _bill_group(db, scope, tenant_id, customer_id, group_period, now)
        except IntegrityError:  # another run billed this period first (the UsageBill guard)
            log.info("usage of %s for %s billed by another run", customer_id, group_period)
            continue
        total.invoices.extend(done.invoices)
        total.records += done.records
    return total


async def bill_usage_now(ctx: ServiceContext, period: str) -> BillingResult:
    """``bill_usage`` of the caller's tenant for ``period``: billing admins and services."""
    principal = ctx.require_principal()
    if not principal.is_service_or(*BILLING_ADMINS):
        ctx.require_role(*BILLING_ADMINS)
    result = await bill_usage(ctx.db, ctx.scope, parse_period(period))
    if result.invoices:
        ctx.on_events_committed()
    return result
