"""DNS loaders: zones, records and templates by id, and pages of each zone's records (filtered by
type and name), batched per request: one statement per distinct page window, however many zones."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import aliased

from core.scope import TenantScope
from loaders.base import LoaderSet
from loaders.pagination import (
    DEFAULT_PAGE_SIZE,
    Page,
    PageArgs,
    SortKey,
    _after,
    _order,
    encode_cursor,
)
from models.db import Reads
from models.dns import DnsRecord, DnsRecordType, DnsZone, DnsZoneTemplate

RECORDS_BY_NAME = SortKey(DnsRecord.name, DnsRecord.id)
_ANY_ZONE = uuid.UUID(int=0)


@dataclass(frozen=True, slots=True)
class RecordPageKey:
    """One zone's page of records, narrowed to a type and an (already normalised) name."""

    zone_id: uuid.UUID
    args: PageArgs
    type: DnsRecordType | None = None
    name: str | None = None


def _conditions(key: RecordPageKey) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if key.type is not None:
        conditions.append(DnsRecord.type == key.type)
    if key.name is not None:
        conditions.append(DnsRecord.name == key.name)
    return conditions


class DnsLoaders(LoaderSet):
    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        super().__init__(reads, scope)
        self.zone = self.loader(self._zones)
        self.record = self.loader(self._records)
        self.template = self.loader(self._templates)
        self.records_of_zone = self.loader(self._record_pages)
        self.record_count = self.loader(self._record_counts)
        self.all_records = self.loader(self._all_records)

    async def _zones(self, ids: Sequence[uuid.UUID]) -> list[DnsZone | None]:
        return await self.rows_by_id(DnsZone, ids)

    async def _records(self, ids: Sequence[uuid.UUID]) -> list[DnsRecord | None]:
        return await self.rows_by_id(DnsRecord, ids)

    async def _templates(self, ids: Sequence[uuid.UUID]) -> list[DnsZoneTemplate | None]:
        return await self.rows_by_id(DnsZoneTemplate, ids)

    async def _all_records(self, zone_ids: Sequence[uuid.UUID]) -> list[list[DnsRecord]]:
        """Every record of each zone (a zone holds at most MAX_RECORDS_PER_ZONE): the BIND export."""
        rows = await self.fetch(select(DnsRecord).where(DnsRecord.zone_id.in_(zone_ids)))
        found: dict[uuid.UUID, list[DnsRecord]] = defaultdict(list)
        for row in rows:
            found[row.zone_id].append(row)
        return [found[zone_id] for zone_id in zone_ids]

    async def _record_pages(self, keys: Sequence[RecordPageKey]) -> list[Page[DnsRecord]]:
        groups: dict[RecordPageKey, list[uuid.UUID]] = defaultdict(list)
        for key in keys:
            groups[replace(key, zone_id=_ANY_ZONE, args=key.args.validated())].append(key.zone_id)
        pages: dict[RecordPageKey, Page[DnsRecord]] = {}
        for window, zone_ids in groups.items():
            for zone_id, page in (await self._window(window, zone_ids)).items():
                pages[replace(window, zone_id=zone_id)] = page
        return [pages[replace(key, args=key.args.validated())] for key in keys]

    async def _window(
        self, window: RecordPageKey, zone_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, Page[DnsRecord]]:
        args = window.args
        forward = args.last is None
        size = args.first if forward else args.last
        size = DEFAULT_PAGE_SIZE if size is None else size
        rank = func.row_number().over(
            partition_by=DnsRecord.zone_id, order_by=_order(RECORDS_BY_NAME, forward)
        )
        ranked = select(DnsRecord, rank.label("child_rank")).where(
            DnsRecord.zone_id.in_(zone_ids), *_conditions(window)
        )
        if args.after:
            ranked = ranked.where(_after(RECORDS_BY_NAME, args.after, forward=True))
        if args.before:
            ranked = ranked.where(_after(RECORDS_BY_NAME, args.before, forward=False))
        subquery = ranked.subquery()
        row = aliased(DnsRecord, subquery)
        found: list[Any] = await self.fetch(
            select(row)
            .where(subquery.c.child_rank <= size + 1)
            .order_by(subquery.c.zone_id, subquery.c.child_rank)
        )
        by_zone: dict[uuid.UUID, list[DnsRecord]] = defaultdict(list)
        for record in found:
            by_zone[record.zone_id].append(record)
        pages = {}
        for zone_id in zone_ids:
            rows = by_zone[zone_id]
            has_more = len(rows) > size
            rows = rows[:size]
            if not forward:
                rows.reverse()
            pages[zone_id] = Page(
                rows=rows,
                cursors=[encode_cursor(r.name, r.id) for r in rows],
                has_next_page=has_more if forward else bool(args.before),
                has_previous_page=bool(args.after) if forward else has_more,
                count=partial(self.record_count.load, replace(window, zone_id=zone_id)),
            )
        return pages

    async def _record_counts(self, keys: Sequence[RecordPageKey]) -> list[int]:
        totals: dict[RecordPageKey, int] = {}
        groups: dict[RecordPageKey, list[uuid.UUID]] = defaultdict(list)
        for key in keys:
            groups[replace(key, zone_id=_ANY_ZONE)].append(key.zone_id)
        for narrowing, zone_ids in groups.items():
            statement = (
                select(DnsRecord.zone_id, func.count())
                .where(DnsRecord.zone_id.in_(zone_ids), *_conditions(narrowing))
                .group_by(DnsRecord.zone_id)
            )
            for zone_id, total in await self.fetch_rows(cast("Select[Any]", statement)):
                totals[replace(narrowing, zone_id=zone_id)] = int(total)
        return [totals.get(replace(key), 0) for key in keys]
