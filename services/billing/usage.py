"""Usage metering (seed 000 /usage): record usage one event or a batch at a time, list it, sum it
per period.

A usage record is one event of a customer (a user of the tenant) using a metric (a short name that
one of the tenant's pricing rules prices, services/billing/pricing_rules.py): a whole-unit
quantity, when it happened (UTC, at most ``MAX_SKEW`` in the future) and a few dimensions (a small
flat JSON object). Service principals (scope ``usage:write``) and the tenant's billing staff record;
customers read their own usage, staff and services all of the tenant's.

Recording is idempotent by the client's event id, unique per tenant: a repeat with the same body
returns the first record (``replayed``), the same id with another body is USAGE_EVENT_CONFLICT. A
batch (at most ``MAX_BATCH``) is all or nothing. Once a customer's period is billed
(services/billing/usage_billing.py) it is closed: usage dated in it is PERIOD_CLOSED. Recording
takes a shared advisory lock per customer and period, billing an exclusive one, so no record slips
in beside a billing run."""

from __future__ import annotations

import enum
import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, InvalidInput, NotFound, invalid
from core.permissions import BILLING_STAFF
from core.principal import Principal
from loaders.pagination import Page, PageArgs, SortKey, paginate, where_given
from models.base import utcnow
from models.identity.accounts import User
from models.tenancy import system_scoped
from models.usage import PricingRule, UsageBill, UsageRecord
from services.billing.errors import BillingErrorCode
from services.context import ServiceContext

MAX_BATCH = 100
MAX_SKEW = timedelta(minutes=5)
MAX_QUANTITY = 10**12
MAX_DIMENSIONS = 16
MAX_DIMENSIONS_TEXT = 1000
MAX_EVENT_ID = 128
METRIC = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
EVENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
E = BillingErrorCode


def period_of(moment: datetime) -> str:
    """The billing period (calendar month, UTC) of ``moment``: YYYY-MM."""
    return f"{moment.year:04d}-{moment.month:02d}"


async def period_lock(session: AsyncSession, customer_id: uuid.UUID, period: str, *, shared: bool) -> None:
    """A transaction-scoped advisory lock on a customer's period (PostgreSQL; SQLite has one writer)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    await session.execute(
        text(f"SELECT {function}(hashtext(:key))").execution_options(
            **system_scoped("an advisory lock touches no table")
        ),
        {"key": f"usage:{customer_id}:{period}"},
    )


@dataclass(frozen=True, slots=True)
class NewUsage:
    event_id: str
    customer_id: uuid.UUID
    metric: str
    quantity: int
    occurred_at: datetime | None = None
    dimensions: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    record: UsageRecord
    replayed: bool


def usage_digest(item: NewUsage) -> str:
    body = {
        "customer": str(item.customer_id),
        "metric": item.metric,
        "quantity": item.quantity,
        "at": item.occurred_at.isoformat() if item.occurred_at else None,
        "dimensions": item.dimensions or {},
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _dimensions_problem(dimensions: dict[str, Any]) -> str | None:
    if len(dimensions) > MAX_DIMENSIONS:
        return f"At most {MAX_DIMENSIONS} dimensions."
    for key, value in dimensions.items():
        if not isinstance(key, str) or not 0 < len(key) <= 64:
            return "Dimension names are 1 to 64 characters."
        if value is not None and not isinstance(value, str | int | float | bool):
            return "Dimension values are strings, numbers, booleans or null."
    if len(json.dumps(dimensions)) > MAX_DIMENSIONS_TEXT:
        return f"Dimensions take at most {MAX_DIMENSIONS_TEXT} characters of JSON."
    return None


def _checked(item: NewUsage, prefix: str, now: datetime) -> None:
    if not EVENT_ID.match(item.event_id):
        raise invalid(
            f"{prefix}eventId", E.INVALID_EVENT_ID, "An event id is 1 to 128 of A-Z, a-z, 0-9, '_.:-'."
        )
    if not METRIC.match(item.metric):
        raise invalid(
            f"{prefix}metric", E.INVALID_METRIC, "A metric is 1 to 64 of a-z, 0-9, '_.:-', starting a-z."
        )
    if not 0 <= item.quantity <= MAX_QUANTITY:
        raise invalid(f"{prefix}quantity", E.INVALID_USAGE_QUANTITY, "A quantity is a whole number >= 0.")
    if item.occurred_at is not None and item.occurred_at > now + MAX_SKEW:
        raise invalid(f"{prefix}occurredAt", E.INVALID_USAGE_TIME, "Usage cannot be dated in the future.")
    if item.dimensions is not None and (problem := _dimensions_problem(item.dimensions)):
        raise invalid(f"{prefix}dimensions", E.INVALID_DIMENSIONS, problem)


def require_recorder(ctx: ServiceContext) -> Principal:
    principal = ctx.require_principal()
    if not principal.is_service_or(*BILLING_STAFF):
        raise Forbidden("Only services and billing staff record usage.")
    return principal


async def _record_all(
    session: AsyncSession, principal: Principal, items: Sequence[NewUsage], batch: bool, now: datetime
) -> list[Recorded]:
    customers = {
        user.id: user
        for user in await session.scalars(select(User).where(User.id.in_({i.customer_id for i in items})))
    }
    results: list[Recorded] = []
    for index, item in enumerate(items):
        prefix = f"records.{index}." if batch else ""
        customer = customers.get(item.customer_id)
        if customer is None:
            raise NotFound("User")
        digest = usage_digest(item)
        existing = await session.scalar(
            select(UsageRecord).where(
                UsageRecord.tenant_id == customer.tenant_id, UsageRecord.event_id == item.event_id
            )
        )
        if existing is not None:
            if existing.body_digest != digest:
                raise invalid(
                    f"{prefix}eventId",
                    E.USAGE_EVENT_CONFLICT,
                    "This event id was recorded with other usage.",
                )
            results.append(Recorded(existing, True))
            continue
        rule = await session.scalar(
            select(PricingRule.id).where(
                PricingRule.tenant_id == customer.tenant_id,
                PricingRule.metric == item.metric,
                PricingRule.active.is_(True),
            )
        )
        if rule is None:
            raise invalid(f"{prefix}metric", E.UNKNOWN_METRIC, "No active pricing rule prices this metric.")
        occurred_at = item.occurred_at or now
        period = period_of(occurred_at)
        await period_lock(session, customer.id, period, shared=True)
        closed = await session.scalar(
            select(UsageBill.id).where(UsageBill.customer_id == customer.id, UsageBill.period == period)
        )
        if closed is not None:
            raise invalid(
                f"{prefix}occurredAt", E.PERIOD_CLOSED, f"The customer's usage of {period} is billed already."
            )
        record = UsageRecord(
            id=uuid.uuid4(),
            tenant_id=customer.tenant_id,
            event_id=item.event_id,
            body_digest=digest,
            customer_id=customer.id,
            metric=item.metric,
            quantity=item.quantity,
            occurred_at=occurred_at,
            period=period,
            dimensions=item.dimensions or {},
            recorded_by=principal.user_id,
            created_at=now,
        )
        session.add(record)
        await session.flush()
        results.append(Recorded(record, False))
    return results


async def record_usage(
    ctx: ServiceContext, items: Sequence[NewUsage], *, batch: bool = False
) -> list[Recorded]:
    """Record ``items`` (all or none); each repeat of an event id answers its first record."""
    principal = require_recorder(ctx)
    if not 1 <= len(items) <= MAX_BATCH:
        raise invalid("records", E.TOO_MANY_RECORDS, f"Record 1 to {MAX_BATCH} usage events at once.")
    now = utcnow()
    for index, item in enumerate(items):
        _checked(item, f"records.{index}." if batch else "", now)
    seen = [(i.customer_id, i.event_id) for i in items]
    if len(set(seen)) != len(seen):
        raise invalid("records", E.USAGE_EVENT_CONFLICT, "An event id appears twice in the batch.")
    for attempt in range(2):
        try:
            async with ctx.transaction() as session:
                return await _record_all(session, principal, items, batch, now)
        except IntegrityError:  # the same event id recorded at the same moment: read it the second time
            if attempt:
                raise
    raise InvalidInput()


# ---- reads ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UsageFilter:
    customer_id: uuid.UUID | None = None
    metric: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    billed: bool | None = None


def visible_usage_row(principal: Principal | None, customer_id: uuid.UUID) -> bool:
    """``visible_usage`` for one record of ``customer_id``."""
    return principal is not None and (
        principal.user_id == customer_id or principal.is_service_or(*BILLING_STAFF)
    )


def visible_usage(statement: Any, principal: Principal) -> Any:
    """Staff and services see the tenant's usage, a customer their own."""
    if principal.is_service_or(*BILLING_STAFF):
        return statement
    return statement.where(UsageRecord.customer_id == principal.user_id)


def _conditions(f: UsageFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.occurred_from is not None:
        conditions.append(UsageRecord.occurred_at >= f.occurred_from)
    if f.occurred_to is not None:
        conditions.append(UsageRecord.occurred_at < f.occurred_to)
    if f.billed is not None:
        conditions.append(
            UsageRecord.invoice_id.is_not(None) if f.billed else UsageRecord.invoice_id.is_(None)
        )
    return conditions


async def list_usage(
    ctx: ServiceContext, usage_filter: UsageFilter, descending: bool, page: PageArgs
) -> Page[UsageRecord]:
    statement = where_given(
        visible_usage(select(UsageRecord), ctx.require_principal()),
        (UsageRecord.customer_id, usage_filter.customer_id),
        (UsageRecord.metric, usage_filter.metric),
    ).where(*_conditions(usage_filter))
    key = SortKey(UsageRecord.occurred_at, UsageRecord.id, descending)
    return await paginate(ctx.read, statement, key, page)


class Bucket(enum.StrEnum):
    DAY = "DAY"
    MONTH = "MONTH"


@dataclass(frozen=True, slots=True)
class SummaryRow:
    metric: str
    customer_id: uuid.UUID
    bucket: str  # YYYY-MM-DD or YYYY-MM
    quantity: int
    records: int


MAX_SUMMARY_ROWS = 1000
MAX_SUMMARY_DAYS = 400


async def usage_summary(ctx: ServiceContext, usage_filter: UsageFilter, bucket: Bucket) -> list[SummaryRow]:
    """Quantity and record count per metric, customer and day or month, in [from, to)."""
    principal = ctx.require_principal()
    f = usage_filter
    if f.occurred_from is None or f.occurred_to is None or not f.occurred_from < f.occurred_to:
        raise invalid("from", E.INVALID_PERIOD, "Give a time range: from before to.")
    if f.occurred_to - f.occurred_from > timedelta(days=MAX_SUMMARY_DAYS):
        raise invalid("to", E.INVALID_PERIOD, f"A summary spans at most {MAX_SUMMARY_DAYS} days.")
    async with ctx.read() as session:
        if bucket == Bucket.MONTH:
            key: Any = UsageRecord.period
        elif session.get_bind().dialect.name == "postgresql":
            key = func.to_char(func.timezone("UTC", UsageRecord.occurred_at), "YYYY-MM-DD")
        else:
            key = func.substr(UsageRecord.occurred_at, 1, 10)
        statement = where_given(
            visible_usage(
                select(
                    UsageRecord.metric,
                    UsageRecord.customer_id,
                    key.label("bucket"),
                    func.sum(UsageRecord.quantity),
                    func.count(),
                ),
                principal,
            ),
            (UsageRecord.customer_id, f.customer_id),
            (UsageRecord.metric, f.metric),
        ).where(*_conditions(f))
        rows = await session.execute(
            statement.group_by(UsageRecord.metric, UsageRecord.customer_id, key)
            .order_by(key, UsageRecord.metric, UsageRecord.customer_id)
            .limit(MAX_SUMMARY_ROWS)
        )
        return [SummaryRow(r[0], r[1], str(r[2]), int(r[3] or 0), int(r[4])) for r in rows]
