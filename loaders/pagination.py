"""Keyset (cursor) pagination over any ORM select: stable under inserts, cheap on large tables;
and the optional equality filters of list inputs (``where_given``).

A cursor is the opaque encoding of the row's sort value and id; the next page is "rows after
(value, id)" in the sort order, so no OFFSET scan is ever made."""

from __future__ import annotations

import base64
import json
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from core.errors import BadUserInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

Row = TypeVar("Row")
Statement = TypeVar("Statement", bound=Select[Any])


def where_given(statement: Statement, *filters: tuple[Any, object]) -> Statement:
    """``statement`` narrowed to ``column == value`` for each (column, value) whose value is given
    (not None): the equality filters of a list's ``filter`` input."""
    for column, value in filters:
        if value is not None:
            statement = statement.where(column == value)
    return statement


@dataclass(frozen=True, slots=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def validated(self) -> PageArgs:
        if self.first is not None and self.last is not None:
            raise BadUserInput("Pass either `first` or `last`, not both.")
        for name, size in (("first", self.first), ("last", self.last)):
            if size is not None and not 0 <= size <= MAX_PAGE_SIZE:
                raise BadUserInput(f"`{name}` must be between 0 and {MAX_PAGE_SIZE}.")
        return self


@dataclass(frozen=True, slots=True)
class SortKey:
    """Order by ``column``, then by ``id_column`` so that equal values still have one order."""

    column: InstrumentedAttribute[Any]
    id_column: InstrumentedAttribute[Any]
    descending: bool = False


@dataclass(slots=True)
class Page(Generic[Row]):
    rows: list[Row]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    count: Callable[[], Awaitable[int]]


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        if "u" in value:
            return uuid.UUID(value["u"])
    return value


def encode_cursor(sort_value: Any, row_id: uuid.UUID) -> str:
    raw = json.dumps([_encode_value(sort_value), str(row_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort_value, row_id = json.loads(base64.urlsafe_b64decode(padded))
        return _decode_value(sort_value), uuid.UUID(row_id)
    except (ValueError, TypeError) as exc:
        raise BadUserInput("The cursor is not valid.") from exc


# Sort-column types a cursor value round-trips to exactly; a value of another type came from a
# cursor of another ordering (or a forged one) and would fail in the database, not as bad input.
_CHECKED_TYPES = (str, int, float, datetime, uuid.UUID)


def _cursor_value(key: SortKey, cursor: str) -> tuple[Any, uuid.UUID]:
    value, row_id = decode_cursor(cursor)
    try:
        expected = key.column.type.python_type
    except NotImplementedError:
        return value, row_id
    if value is None or expected not in _CHECKED_TYPES:
        return value, row_id
    allowed = (int, float) if expected is float else expected  # JSON may turn 2.0 into 2
    if (
        isinstance(value, bool)
        or not isinstance(value, allowed)
        or (isinstance(value, datetime) and value.tzinfo is None)
    ):
        raise BadUserInput("The cursor is not valid.")
    return value, row_id


def _after(key: SortKey, cursor: str, forward: bool) -> Any:
    value, row_id = _cursor_value(key, cursor)
    ascending = forward != key.descending
    if ascending:
        return or_(key.column > value, and_(key.column == value, key.id_column > row_id))
    return or_(key.column < value, and_(key.column == value, key.id_column < row_id))


def _order(key: SortKey, forward: bool) -> tuple[Any, Any]:
    """The key's order, reversed for a backward page (``last``/``before``)."""
    if forward != key.descending:
        return key.column.asc(), key.id_column.asc()
    return key.column.desc(), key.id_column.desc()


SessionOpener = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def paginate(
    open_session: SessionOpener,
    statement: Select[Any],
    key: SortKey,
    args: PageArgs,
    *,
    whole_rows: bool = False,
    sort_value: Callable[[Any], Any] | None = None,
    row_id: Callable[[Any], uuid.UUID] | None = None,
) -> Page[Any]:
    """One page of ``statement`` in ``key`` order. Each query runs in a session of its own from
    ``open_session`` (e.g. ``ctx.read``); the total is counted only if asked for.

    Rows are entities whose sort value and id are read by the key's column names, unless
    ``whole_rows`` (the statement selects extra columns) with ``sort_value`` and ``row_id``."""
    args = args.validated()
    forward = args.last is None
    size = args.first if forward else args.last
    size = DEFAULT_PAGE_SIZE if size is None else size
    value_of = sort_value or (lambda row: getattr(row, key.column.key))
    id_of = row_id or (lambda row: row.id)

    windowed = statement
    if args.after:
        windowed = windowed.where(_after(key, args.after, forward=True))
    if args.before:
        windowed = windowed.where(_after(key, args.before, forward=False))
    async with open_session() as session:
        query = windowed.order_by(*_order(key, forward)).limit(size + 1)
        rows = list(await session.execute(query) if whole_rows else await session.scalars(query))
    has_more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()

    async def total() -> int:
        async with open_session() as session:
            counted = await session.scalar(
                select(func.count()).select_from(statement.order_by(None).subquery())
            )
        return int(counted or 0)

    return Page(
        rows=rows,
        cursors=[encode_cursor(value_of(r), id_of(r)) for r in rows],
        has_next_page=has_more if forward else bool(args.before),
        has_previous_page=bool(args.after) if forward else has_more,
        count=total,
    )


@dataclass(frozen=True, slots=True)
class ChildPageKey:
    """One parent's page of a relation (``Tenant.users``, ``User.orders``); ``only_id`` narrows the
    relation to one row (a caller who may see only itself)."""

    parent_id: uuid.UUID
    args: PageArgs
    only_id: uuid.UUID | None = None


async def child_pages(
    fetch: Callable[[Select[Any]], Awaitable[list[Any]]],
    parent_column: InstrumentedAttribute[Any],
    key: SortKey,
    keys: Sequence[ChildPageKey],
    count: Callable[[ChildPageKey], Awaitable[int]],
    where: ColumnElement[bool] | None = None,
) -> list[Page[Any]]:
    """The pages of many parents in one statement per distinct (page arguments, narrowing):
        every parent's rows are ranked in key order (``row_number() OVER (PARTITION BY parent)``) and
        the first ``size + 1`` of each are read, so the statements grow with the query's depth, not
        with its parents. Cursors keep the single-list format of ``paginate``. ``where`` narrows every
    parent's rows alike (e.g. only public comments)."""
    pages: dict[ChildPageKey, Page[Any]] = {}
    groups: dict[tuple[PageArgs, uuid.UUID | None], list[uuid.UUID]] = defaultdict(list)
    for page_key in keys:
        groups[(page_key.args.validated(), page_key.only_id)].append(page_key.parent_id)
    model = key.column.class_
    for (args, only_id), parent_ids in groups.items():
        forward = args.last is None
        size = args.first if forward else args.last
        size = DEFAULT_PAGE_SIZE if size is None else size
        order = _order(key, forward)
        rank = func.row_number().over(partition_by=parent_column, order_by=order).label("child_rank")
        ranked = select(model, rank).where(parent_column.in_(parent_ids))
        if where is not None:
            ranked = ranked.where(where)
        if only_id is not None:
            ranked = ranked.where(key.id_column == only_id)
        if args.after:
            ranked = ranked.where(_after(key, args.after, forward=True))
        if args.before:
            ranked = ranked.where(_after(key, args.before, forward=False))
        window = ranked.subquery()
        row = aliased(model, window)
        rows = await fetch(
            select(row)
            .where(window.c.child_rank <= size + 1)
            .order_by(window.c[parent_column.key], window.c.child_rank)
        )
        by_parent: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for found in rows:
            by_parent[getattr(found, parent_column.key)].append(found)
        for parent_id in parent_ids:
            found = by_parent[parent_id]
            has_more = len(found) > size
            found = found[:size]
            if not forward:
                found.reverse()
            page_key = ChildPageKey(parent_id, args, only_id)
            pages[page_key] = Page(
                rows=found,
                cursors=[encode_cursor(getattr(r, key.column.key), r.id) for r in found],
                has_next_page=has_more if forward else bool(args.before),
                has_previous_page=bool(args.after) if forward else has_more,
                count=partial(count, page_key),
            )
    return [pages[ChildPageKey(k.parent_id, k.args.validated(), k.only_id)] for k in keys]


async def child_counts(
    fetch_rows: Callable[[Select[Any]], Awaitable[list[Any]]],
    parent_column: InstrumentedAttribute[Any],
    id_column: InstrumentedAttribute[Any],
    keys: Sequence[ChildPageKey],
    where: ColumnElement[bool] | None = None,
) -> list[int]:
    """The total of each parent's relation (narrowed as its key says), one statement per narrowing."""
    totals: dict[tuple[uuid.UUID, uuid.UUID | None], int] = {}
    groups: dict[uuid.UUID | None, list[uuid.UUID]] = defaultdict(list)
    for page_key in keys:
        groups[page_key.only_id].append(page_key.parent_id)
    for only_id, parent_ids in groups.items():
        statement = (
            select(parent_column, func.count()).where(parent_column.in_(parent_ids)).group_by(parent_column)
        )
        if where is not None:
            statement = statement.where(where)
        if only_id is not None:
            statement = statement.where(id_column == only_id)
        for parent_id, total in await fetch_rows(statement):
            totals[(parent_id, only_id)] = int(total)
    return [totals.get((k.parent_id, k.only_id), 0) for k in keys]
