"""Reading tickets: the list (the caller's; staff: the tenant's) with filters and keyset cursors,
and the staff's figures: statistics (open tickets per priority and status, mean first-response and
resolution times, per agent) and analytics (a per-day series over a bounded range)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select

from core.errors import BadUserInput
from core.permissions import TICKET_STAFF
from core.principal import Principal
from loaders.pagination import Page, PageArgs, SortKey, paginate, where_given
from models.tickets import Ticket, TicketPriority, TicketStatus
from services.context import ServiceContext
from services.tickets.states import RESOLVED
from services.tickets.tickets import is_staff

S = TicketStatus
NEWEST_FIRST = SortKey(Ticket.created_at, Ticket.id, descending=True)
MAX_ANALYTICS_DAYS = 92
MAX_AGENTS = 100
_NEEDS_OFFSET = "Give times with a timezone offset, e.g. 2026-01-31T00:00:00Z."


@dataclass(frozen=True, slots=True)
class TicketFilter:
    status: TicketStatus | None = None
    priority: TicketPriority | None = None
    assignee_id: uuid.UUID | None = None
    requester_id: uuid.UUID | None = None
    category: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def _visible(principal: Principal, ticket_filter: TicketFilter) -> Select[Ticket]:
    statement = select(Ticket)
    if not is_staff(principal):
        statement = statement.where(Ticket.requester_id == principal.user_id)
    statement = where_given(
        statement,
        (Ticket.status, ticket_filter.status),
        (Ticket.priority, ticket_filter.priority),
        (Ticket.assignee_id, ticket_filter.assignee_id),
        (Ticket.requester_id, ticket_filter.requester_id),
        (Ticket.category, ticket_filter.category),
    )
    for moment in (ticket_filter.created_after, ticket_filter.created_before):
        if moment is not None and moment.tzinfo is None:
            raise BadUserInput(_NEEDS_OFFSET)
    if ticket_filter.created_after is not None:
        statement = statement.where(Ticket.created_at >= ticket_filter.created_after)
    if ticket_filter.created_before is not None:
        statement = statement.where(Ticket.created_at < ticket_filter.created_before)
    return statement


async def list_tickets(ctx: ServiceContext, ticket_filter: TicketFilter, page: PageArgs) -> Page[Ticket]:
    """The caller's tickets, newest first; staff see all of the tenant's."""
    principal = ctx.require_principal()
    return await paginate(ctx.read, _visible(principal, ticket_filter), NEWEST_FIRST, page)


def first_response_seconds(ticket: Ticket) -> float | None:
    if ticket.first_response_at is None:
        return None
    return (ticket.first_response_at - ticket.created_at).total_seconds()


def resolution_seconds(ticket: Ticket) -> float | None:
    resolved = ticket.solved_at or ticket.closed_at
    return None if resolved is None else (resolved - ticket.created_at).total_seconds()


@dataclass(frozen=True, slots=True)
class AgentFigures:
    agent_id: uuid.UUID
    assigned: int  # tickets assigned to the agent now, in any status
    solved: int  # of these, SOLVED or CLOSED
    mean_resolution_seconds: float | None


@dataclass(frozen=True, slots=True)
class TicketStatistics:
    by_status: dict[TicketStatus, int]
    # Tickets not SOLVED or CLOSED, per priority.
    open_by_priority: dict[TicketPriority, int]
    total: int
    mean_first_response_seconds: float | None
    mean_resolution_seconds: float | None
    agents: list[AgentFigures]


def _seconds(dialect: str, start: Any, end: Any) -> Any:
    """Seconds from ``start`` to ``end`` in SQL (PostgreSQL, or SQLite for the embedded run)."""
    if dialect == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _day(dialect: str, column: Any) -> Any:
    """The UTC day of a time column in SQL."""
    if dialect == "postgresql":
        return func.date_trunc("day", func.timezone("UTC", column))
    return func.date(column)


async def statistics(ctx: ServiceContext) -> TicketStatistics:
    """Staff: the tenant's ticket figures, in three statements whatever the number of tickets."""
    ctx.require_role(*TICKET_STAFF)
    resolved_at = func.coalesce(Ticket.solved_at, Ticket.closed_at)
    async with ctx.read() as session:
        dialect = session.get_bind().dialect.name
        resolution = func.avg(_seconds(dialect, Ticket.created_at, resolved_at))
        counts = (
            await session.execute(
                select(Ticket.status, Ticket.priority, func.count()).group_by(Ticket.status, Ticket.priority)
            )
        ).all()
        means = (
            await session.execute(
                select(
                    func.avg(_seconds(dialect, Ticket.created_at, Ticket.first_response_at)),
                    resolution,
                )
            )
        ).one()
        per_agent = (
            await session.execute(
                select(
                    Ticket.assignee_id,
                    func.count(),
                    func.count().filter(Ticket.status.in_(RESOLVED)),
                    resolution.filter(Ticket.status.in_(RESOLVED)),
                )
                .where(Ticket.assignee_id.is_not(None))
                .group_by(Ticket.assignee_id)
                .order_by(func.count().desc(), Ticket.assignee_id)
                .limit(MAX_AGENTS)
            )
        ).all()
    by_status: dict[TicketStatus, int] = defaultdict(int)
    open_by_priority: dict[TicketPriority, int] = defaultdict(int)
    for status, priority, n in counts:
        by_status[TicketStatus(status)] += int(n)
        if TicketStatus(status) not in RESOLVED:
            open_by_priority[TicketPriority(priority)] += int(n)
    return TicketStatistics(
        by_status={status: by_status[status] for status in TicketStatus},
        open_by_priority={priority: open_by_priority[priority] for priority in TicketPriority},
        total=sum(by_status.values()),
        mean_first_response_seconds=None if means[0] is None else float(means[0]),
        mean_resolution_seconds=None if means[1] is None else float(means[1]),
        agents=[
            AgentFigures(agent, int(assigned), int(solved), None if mean is None else float(mean))
            for agent, assigned, solved, mean in per_agent
        ],
    )


@dataclass(frozen=True, slots=True)
class TicketDay:
    day: date
    created: int
    solved: int
    closed: int


async def analytics(ctx: ServiceContext, first_day: date, last_day: date) -> list[TicketDay]:
    """Staff: per UTC day from ``first_day`` to ``last_day`` (both included, at most
    MAX_ANALYTICS_DAYS): tickets created, solved and closed that day (by their current times)."""
    ctx.require_role(*TICKET_STAFF)
    if last_day < first_day:
        raise BadUserInput("`to` is before `from`.")
    days = (last_day - first_day).days + 1
    if days > MAX_ANALYTICS_DAYS:
        raise BadUserInput(f"A range covers at most {MAX_ANALYTICS_DAYS} days.")
    start = datetime.combine(first_day, time(), UTC)
    end = start + timedelta(days=days)
    series = {first_day + timedelta(days=n): [0, 0, 0] for n in range(days)}
    async with ctx.read() as session:
        dialect = session.get_bind().dialect.name
        for index, column in enumerate((Ticket.created_at, Ticket.solved_at, Ticket.closed_at)):
            day = _day(dialect, column)
            rows = await session.execute(
                select(day, func.count()).where(column >= start, column < end).group_by(day)
            )
            for found, n in rows:
                key = found.date() if isinstance(found, datetime) else date.fromisoformat(str(found))
                if key in series:
                    series[key][index] += int(n)
    return [TicketDay(day, *counts) for day, counts in series.items()]
