"""Order listing (the caller's orders; the tenant's staff see all of the tenant's) and order
statistics (counts per status, revenue per currency, UTC day and month)."""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadUserInput
from core.permissions import ORDER_STAFF, ORDER_STATISTICS_READERS, ORDERS_READ
from core.principal import Principal
from loaders.pagination import Page, PageArgs, SortKey, paginate, where_given
from models.orders import Order, OrderStatus
from services.context import ServiceContext
from services.orders import pricing

S = OrderStatus
# Orders in these states brought money in (minus what was refunded).
REVENUE_STATUSES = (S.PAID, S.PROVISIONING, S.COMPLETED, S.PARTIALLY_REFUNDED)
MAX_STATISTICS_DAYS = 400
_NEEDS_OFFSET = "Give times with a timezone offset, e.g. 2026-01-31T00:00:00Z."


class OrderSortField(enum.StrEnum):
    CREATED_AT = "CREATED_AT"
    TOTAL = "TOTAL"
    NUMBER = "NUMBER"


_SORT_COLUMNS = {
    OrderSortField.CREATED_AT: Order.created_at,
    OrderSortField.TOTAL: Order.total,
    OrderSortField.NUMBER: Order.number,
}


@dataclass(frozen=True, slots=True)
class OrderFilter:
    status: OrderStatus | None = None
    user_id: uuid.UUID | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    search: str | None = None


def _visible_orders(principal: Principal, order_filter: OrderFilter) -> Select[Order]:
    statement = select(Order)
    if not principal.allows(ORDERS_READ, *ORDER_STAFF):
        statement = statement.where(Order.user_id == principal.user_id)
    statement = where_given(
        statement, (Order.status, order_filter.status), (Order.user_id, order_filter.user_id)
    )
    if order_filter.created_after is not None:
        statement = statement.where(Order.created_at >= order_filter.created_after)
    if order_filter.created_before is not None:
        statement = statement.where(Order.created_at < order_filter.created_before)
    if order_filter.search and order_filter.search.strip():
        # Numbers are upper case (ORD-000042); % and _ in the search match themselves.
        statement = statement.where(
            Order.number.contains(order_filter.search.strip().upper(), autoescape=True)
        )
    return statement


async def list_orders(
    ctx: ServiceContext, order_filter: OrderFilter, sort: OrderSortField, descending: bool, page: PageArgs
) -> Page[Order]:
    """The caller's orders; the tenant's staff see all of the tenant's."""
    principal = ctx.require_principal()
    for moment in (order_filter.created_after, order_filter.created_before):
        if moment is not None and moment.tzinfo is None:
            raise BadUserInput(_NEEDS_OFFSET)
    column = _SORT_COLUMNS[sort]

    return await paginate(
        ctx.read, _visible_orders(principal, order_filter), SortKey(column, Order.id, descending), page
    )


# ---- statistics -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusCount:
    status: OrderStatus
    count: int


@dataclass(frozen=True, slots=True)
class RevenuePoint:
    """``period``: a UTC day (2026-01-31) or month (2026-01)."""

    period: str
    orders: int
    revenue: int


@dataclass(slots=True)
class CurrencyStatistics:
    currency: str
    orders: int = 0
    revenue: int = 0
    by_day: list[RevenuePoint] = field(default_factory=list)
    by_month: list[RevenuePoint] = field(default_factory=list)

    @property
    def average_order_value(self) -> int:
        return pricing.divide_half_even(self.revenue, self.orders)


@dataclass(frozen=True, slots=True)
class OrderStatistics:
    start: datetime
    end: datetime
    counts: list[StatusCount]
    currencies: list[CurrencyStatistics]


def _utc_day(session: AsyncSession) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", Order.created_at), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", Order.created_at)


async def order_statistics(ctx: ServiceContext, start: datetime, end: datetime) -> OrderStatistics:
    """Orders created in [start, end): counts per status, and per currency the revenue (orders
    that were paid, minus refunds) per UTC day and month and the average order value."""
    ctx.require_role(*ORDER_STATISTICS_READERS)
    if start.tzinfo is None or end.tzinfo is None:
        raise BadUserInput(_NEEDS_OFFSET)
    if not start < end <= start + timedelta(days=MAX_STATISTICS_DAYS):
        raise BadUserInput(f"`from` is before `to`, at most {MAX_STATISTICS_DAYS} days apart.")
    in_range = (Order.created_at >= start, Order.created_at < end)
    async with ctx.read() as session:
        counts = (
            await session.execute(select(Order.status, func.count()).where(*in_range).group_by(Order.status))
        ).all()
        day = _utc_day(session).label("day")
        days = (
            await session.execute(
                select(Order.currency, day, func.count(), func.sum(Order.total - Order.refunded_total))
                .where(*in_range, Order.status.in_(REVENUE_STATUSES))
                .group_by(Order.currency, day)
                .order_by(Order.currency, day)
            )
        ).all()
    by_currency: dict[str, CurrencyStatistics] = {}
    months: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for currency, period, orders, revenue in days:
        stats = by_currency.setdefault(currency, CurrencyStatistics(currency))
        point = RevenuePoint(str(period), int(orders), int(revenue or 0))
        stats.by_day.append(point)
        stats.orders += point.orders
        stats.revenue += point.revenue
        month = months[currency].setdefault(point.period[:7], [0, 0])
        month[0] += point.orders
        month[1] += point.revenue
    for currency, stats in by_currency.items():
        stats.by_month = [RevenuePoint(m, o, r) for m, (o, r) in sorted(months[currency].items())]
    found = {status: int(n) for status, n in counts}
    return OrderStatistics(
        start=start,
        end=end,
        counts=[StatusCount(status, found.get(status, 0)) for status in OrderStatus],
        currencies=[by_currency[c] for c in sorted(by_currency)],
    )
