"""Record writes: one record, or many at once (bulk, zone-file import), all or nothing.

Every write locks its zone, reads the zone's records, applies the changes in memory and checks
every changed record and the rules over the whole set as it would be; any problem leaves the zone
untouched and names the item at fault (``input.create.2.content``). Then the rows change, the
serial goes up and the change is recorded in the outbox, in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, NotFound, invalid
from models.db import locked_or_not_found
from models.dns import DnsRecord, DnsRecordType, DnsZone, DnsZoneStatus
from services.context import ServiceContext
from services.dns.access import write_scope, zone_changed
from services.dns.errors import DnsErrorCode
from services.dns.records import (
    MAX_RECORDS_PER_ZONE,
    STORED,
    RecordDraft,
    RecordValue,
    normalise,
    problem,
    raise_problems,
    set_problems,
)
from services.dns.zones import record_row

MAX_BULK_OPERATIONS = 100
_TYPED_FIELDS = ("priority", "weight", "port", "flags", "tag")


@dataclass(frozen=True, slots=True)
class RecordPatch:
    """Changes to a stored record; None: unchanged. A new type drops the old type's own fields."""

    type: DnsRecordType | None = None
    name: str | None = None
    content: str | None = None
    ttl: int | None = None
    priority: int | None = None
    weight: int | None = None
    port: int | None = None
    flags: int | None = None
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class Changes:
    """What one call does to a zone's records; each item's prefix names it in userErrors."""

    create: list[tuple[str, RecordDraft]] = field(default_factory=list)
    update: list[tuple[str, uuid.UUID, RecordPatch]] = field(default_factory=list)
    delete: list[tuple[str, uuid.UUID]] = field(default_factory=list)
    # Import with replace: every stored record goes first.
    replace_all: bool = False

    @property
    def size(self) -> int:
        return len(self.create) + len(self.update) + len(self.delete)


@dataclass(frozen=True, slots=True)
class Applied:
    zone: DnsZone
    created: list[DnsRecord]
    updated: list[DnsRecord]
    deleted: list[uuid.UUID]


def value_of(record: DnsRecord) -> RecordValue:
    return RecordValue(
        type=record.type,
        name=record.name,
        content=record.content,
        ttl=record.ttl,
        priority=record.priority,
        weight=record.weight,
        port=record.port,
        flags=record.flags,
        tag=record.tag,
    )


def _patched(record: DnsRecord, patch: RecordPatch) -> RecordDraft:
    kept = {} if patch.type not in (None, record.type) else {f: getattr(record, f) for f in _TYPED_FIELDS}
    given = {f: getattr(patch, f) for f in _TYPED_FIELDS if getattr(patch, f) is not None}
    return RecordDraft(
        type=patch.type or record.type,
        name=record.name if patch.name is None else patch.name,
        content=record.content if patch.content is None else patch.content,
        ttl=record.ttl if patch.ttl is None else patch.ttl,
        **(kept | given),
    )


def _assign(row: DnsRecord, value: RecordValue) -> None:
    for name in ("type", "name", "content", "ttl", *_TYPED_FIELDS):
        setattr(row, name, getattr(value, name))


async def _zone_for_writing(session: AsyncSession, zone_id: uuid.UUID) -> DnsZone:
    zone = await locked_or_not_found(session, DnsZone, zone_id)
    if zone.status == DnsZoneStatus.SUSPENDED:
        raise invalid(
            "zoneId", DnsErrorCode.ZONE_SUSPENDED, "The zone is suspended: its records cannot change."
        )
    return zone


async def _apply(session: AsyncSession, zone: DnsZone, changes: Changes) -> Applied:
    rows = {
        row.id: row for row in await session.scalars(select(DnsRecord).where(DnsRecord.zone_id == zone.id))
    }
    problems: list[FieldProblem] = []
    final: dict[uuid.UUID, tuple[str, RecordValue]] = {}
    if not changes.replace_all:
        final = {row_id: (STORED, value_of(row)) for row_id, row in rows.items()}
    deleted: list[uuid.UUID] = list(rows) if changes.replace_all else []
    for prefix, record_id in changes.delete:
        if record_id not in rows or record_id in deleted:
            parent, _, index = prefix.rpartition(".")
            problems.append(
                problem(parent, index or "id", DnsErrorCode.NOT_FOUND, "No such record in this zone.")
            )
            continue
        deleted.append(record_id)
        final.pop(record_id, None)
    updates: list[tuple[DnsRecord, RecordValue]] = []
    for prefix, record_id, patch in changes.update:
        row = rows.get(record_id)
        if row is None or record_id in deleted:
            problems.append(problem(prefix, "id", DnsErrorCode.NOT_FOUND, "No such record in this zone."))
            continue
        found = normalise(_patched(row, patch), zone.name, zone.default_ttl, prefix)
        if isinstance(found, list):
            problems.extend(found)
            continue
        final[record_id] = (prefix, found)
        updates.append((row, found))
    creates: list[RecordValue] = []
    for prefix, draft in changes.create:
        found = normalise(draft, zone.name, zone.default_ttl, prefix)
        if isinstance(found, list):
            problems.extend(found)
            continue
        final[uuid.uuid4()] = (prefix, found)
        creates.append(found)
    raise_problems([*problems, *set_problems(list(final.values()))])
    if len(final) > MAX_RECORDS_PER_ZONE:
        raise invalid(
            None, DnsErrorCode.TOO_MANY_RECORDS, f"A zone holds at most {MAX_RECORDS_PER_ZONE} records."
        )
    for record_id in deleted:
        await session.delete(rows[record_id])
    for row, value in updates:
        _assign(row, value)
    created = [record_row(zone, value) for value in creates]
    session.add_all(created)
    zone_changed(
        session, zone, "records.changed", created=len(created), updated=len(updates), deleted=len(deleted)
    )
    await session.flush()
    return Applied(zone, created, [row for row, _ in updates], deleted)


async def change_records(ctx: ServiceContext, zone_id: uuid.UUID, changes: Changes) -> Applied:
    scope = write_scope(ctx)
    async with ctx.transaction(scope) as session:
        zone = await _zone_for_writing(session, zone_id)
        return await _apply(session, zone, changes)


async def bulk_change(ctx: ServiceContext, zone_id: uuid.UUID, changes: Changes) -> Applied:
    if changes.size > MAX_BULK_OPERATIONS:
        raise invalid(
            None, DnsErrorCode.TOO_MANY_OPERATIONS, f"At most {MAX_BULK_OPERATIONS} operations in one call."
        )
    return await change_records(ctx, zone_id, changes)


async def _zone_of_record(ctx: ServiceContext, record_id: uuid.UUID) -> uuid.UUID:
    async with ctx.read(write_scope(ctx)) as session:
        zone_id = await session.scalar(select(DnsRecord.zone_id).where(DnsRecord.id == record_id))
    if zone_id is None:
        raise NotFound("DnsRecord")
    return zone_id


async def update_record(ctx: ServiceContext, record_id: uuid.UUID, patch: RecordPatch) -> Applied:
    """One record changed; userErrors name its fields below ``changes``."""
    zone_id = await _zone_of_record(ctx, record_id)
    return await change_records(ctx, zone_id, Changes(update=[("changes", record_id, patch)]))


async def delete_record(ctx: ServiceContext, record_id: uuid.UUID) -> Applied:
    zone_id = await _zone_of_record(ctx, record_id)
    return await change_records(ctx, zone_id, Changes(delete=[("", record_id)]))
