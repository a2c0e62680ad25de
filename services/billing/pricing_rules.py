"""Pricing rules (seed 000 /rating): how a product's metric is priced, written by billing staff and
read by anyone signed in; and ``calculate_rating``, the priced usage of a customer's period
(services/billing/rating.py does the arithmetic). A metric is priced by one rule of the tenant."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, invalid
from core.permissions import BILLING_STAFF
from models.base import utcnow
from models.catalog import Product
from models.identity.accounts import User
from models.usage import PricingModel, PricingRule, UsageRecord
from services.billing import rating
from services.billing.errors import BillingErrorCode
from services.billing.usage import METRIC, period_of
from services.context import ServiceContext

E = BillingErrorCode
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_PRICE_MICROS = 10**15
MAX_FLAT = 10**12
PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, slots=True)
class RuleSpec:
    model: PricingModel
    currency: str
    flat_amount: int = 0
    unit_price_micros: int = 0
    tiers: tuple[rating.Tier, ...] = ()


def rule_of(row: PricingRule) -> rating.Rule:
    return rating.Rule(
        model=rating.Model(row.model.value),
        flat_amount=row.flat_amount,
        unit_price_micros=row.unit_price_micros,
        tiers=tuple(rating.Tier(t.get("upTo"), int(t["unitPriceMicros"])) for t in row.tiers),
    )


def _checked(spec: RuleSpec) -> None:
    if not CURRENCY.match(spec.currency):
        raise invalid("currency", E.INVALID_PRICING_RULE, "A currency is an ISO 4217 code, e.g. EUR.")
    if not 0 <= spec.flat_amount <= MAX_FLAT:
        raise invalid("flatAmount", E.INVALID_PRICING_RULE, "The flat amount is 0 or more minor units.")
    if not 0 <= spec.unit_price_micros <= MAX_PRICE_MICROS:
        raise invalid("unitPriceMicros", E.INVALID_PRICING_RULE, "The unit price is 0 or more micros.")
    tiered = spec.model in (PricingModel.TIERED, PricingModel.VOLUME)
    if tiered:
        if problem := rating.tiers_problem(spec.tiers):
            raise invalid("tiers", E.INVALID_PRICING_RULE, problem)
        if any(t.unit_price_micros > MAX_PRICE_MICROS for t in spec.tiers):
            raise invalid("tiers", E.INVALID_PRICING_RULE, "A tier's unit price is too large.")
    elif spec.tiers:
        raise invalid("tiers", E.INVALID_PRICING_RULE, "Only TIERED and VOLUME rules have tiers.")


def _apply(row: PricingRule, spec: RuleSpec) -> None:
    row.model = spec.model
    row.currency = spec.currency
    row.flat_amount = spec.flat_amount if spec.model == PricingModel.FLAT else 0
    row.unit_price_micros = spec.unit_price_micros if spec.model == PricingModel.PER_UNIT else 0
    row.tiers = [{"upTo": t.up_to, "unitPriceMicros": t.unit_price_micros} for t in spec.tiers]


async def _flush_or_taken(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise invalid("metric", E.METRIC_TAKEN, "Another pricing rule prices this metric.") from exc


async def create_pricing_rule(
    ctx: ServiceContext, product_id: uuid.UUID, metric: str, spec: RuleSpec
) -> PricingRule:
    ctx.require_role(*BILLING_STAFF)
    if not METRIC.match(metric):
        raise invalid("metric", E.INVALID_METRIC, "A metric is 1 to 64 of a-z, 0-9, '_.:-', starting a-z.")
    _checked(spec)
    async with ctx.transaction() as session:
        if await session.get(Product, product_id) is None:
            raise NotFound("Product")
        taken = await session.scalar(select(PricingRule.id).where(PricingRule.metric == metric))
        if taken is not None:
            raise invalid("metric", E.METRIC_TAKEN, "Another pricing rule prices this metric.")
        row = PricingRule(id=uuid.uuid4(), product_id=product_id, metric=metric, active=True)
        _apply(row, spec)
        session.add(row)
        await _flush_or_taken(session)
        return row


async def update_pricing_rule(
    ctx: ServiceContext, rule_id: uuid.UUID, spec: RuleSpec | None, active: bool | None
) -> PricingRule:
    """A new price (from now on: rating uses the rule as it is when it runs) or (in)activation."""
    ctx.require_role(*BILLING_STAFF)
    if spec is not None:
        _checked(spec)
    async with ctx.transaction() as session:
        row = await session.get(PricingRule, rule_id, with_for_update=True)
        if row is None:
            raise NotFound("PricingRule")
        if spec is not None:
            _apply(row, spec)
        if active is not None:
            row.active = active
        row.updated_at = utcnow()
        await session.flush()
        return row


async def rules_of_product(ctx: ServiceContext, product_id: uuid.UUID) -> list[PricingRule]:
    ctx.require_principal()
    async with ctx.read() as session:
        return list(
            await session.scalars(
                select(PricingRule).where(PricingRule.product_id == product_id).order_by(PricingRule.metric)
            )
        )


# ---- rating -----------------------------------------------------------------------------------


def parse_period(text: str, now: datetime | None = None) -> str:
    """A billing period YYYY-MM, not after the current one."""
    if not PERIOD.match(text) or text > period_of(now or utcnow()):
        raise invalid("period", E.INVALID_PERIOD, "A period is a month YYYY-MM, not in the future.")
    return text


@dataclass(frozen=True, slots=True)
class RatedLine:
    metric: str
    quantity: int
    amount: int
    currency: str
    rule: PricingRule


@dataclass(frozen=True, slots=True)
class Rating:
    customer_id: uuid.UUID
    period: str
    lines: list[RatedLine]
    totals: dict[str, int] = field(default_factory=dict)  # currency -> minor units


async def rate_customer(
    session: AsyncSession, tenant_id: uuid.UUID | None, customer_id: uuid.UUID, period: str
) -> Rating:
    """The customer's usage of ``period`` (all of it, billed or not), priced by the rules."""
    conditions = [UsageRecord.customer_id == customer_id, UsageRecord.period == period]
    if tenant_id is not None:
        conditions.append(UsageRecord.tenant_id == tenant_id)
    quantities = list(
        await session.execute(
            select(UsageRecord.metric, func.sum(UsageRecord.quantity))
            .where(*conditions)
            .group_by(UsageRecord.metric)
        )
    )
    return await priced(session, customer_id, period, [(m, int(q or 0)) for m, q in quantities])


async def priced(
    session: AsyncSession, customer_id: uuid.UUID, period: str, quantities: Sequence[tuple[str, int]]
) -> Rating:
    metrics = [metric for metric, _ in quantities]
    rules = {
        r.metric: r for r in await session.scalars(select(PricingRule).where(PricingRule.metric.in_(metrics)))
    }
    rated = rating.rate(quantities, {metric: rule_of(row) for metric, row in rules.items()})
    lines = [
        RatedLine(r.metric, r.quantity, r.amount, rules[r.metric].currency, rules[r.metric]) for r in rated
    ]
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.currency] = totals.get(line.currency, 0) + line.amount
    return Rating(customer_id, period, lines, totals)


async def calculate_rating(ctx: ServiceContext, customer_id: uuid.UUID, period: str) -> Rating:
    """What the customer's usage of ``period`` costs (side-effect free): the customer or staff."""
    principal = ctx.require_principal()
    period = parse_period(period)
    if customer_id != principal.user_id and not principal.is_service_or(*BILLING_STAFF):
        raise NotFound("User")
    async with ctx.read() as session:
        if await session.get(User, customer_id) is None:
            raise NotFound("User")
        return await rate_customer(session, None, customer_id, period)
