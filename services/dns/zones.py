"""Zones: create (optionally from a template), change the SOA timers and default TTL, delete, list;
the cross-tenant list and statistics for platform admins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from core.errors import FieldProblem, InvalidInput, invalid
from loaders.pagination import Page, PageArgs, SortKey, paginate, where_given
from models.db import locked_or_not_found
from models.dns import DnsRecord, DnsRecordType, DnsZone, DnsZoneStatus, DnsZoneTemplate
from services.context import ServiceContext
from services.dns.access import admin_scope, read_scope, write_scope, zone_changed
from services.dns.errors import DnsErrorCode
from services.dns.names import BadName, zone_name
from services.dns.records import (
    MAX_TTL,
    MIN_TTL,
    RecordDraft,
    RecordValue,
    normalise,
    raise_problems,
    set_problems,
)

MAX_ZONE_INPUT = 300  # characters of a zone name as typed (Unicode names grow in punycode)
# SOA timer bounds (seconds), RFC 1912's advice widened.
SOA_BOUNDS = {
    "refresh": (1200, 86400 * 7),
    "retry": (180, 86400),
    "expire": (86400, 86400 * 60),
    "minimum": (60, 86400),
}
SOA_DEFAULTS = {"refresh": 7200, "retry": 900, "expire": 1209600, "minimum": 300}
DEFAULT_TTL = 3600


@dataclass(frozen=True, slots=True)
class ZoneSettings:
    """SOA timers and the default TTL; None: unchanged (or the default on create)."""

    default_ttl: int | None = None
    refresh: int | None = None
    retry: int | None = None
    expire: int | None = None
    minimum: int | None = None


def _settings_problems(settings: ZoneSettings) -> list[FieldProblem]:
    problems = []
    if settings.default_ttl is not None and not MIN_TTL <= settings.default_ttl <= MAX_TTL:
        problems.append(
            FieldProblem(
                ("input", "defaultTtl"), DnsErrorCode.INVALID_TTL, f"A TTL is {MIN_TTL} to {MAX_TTL} seconds."
            )
        )
    for field, (low, high) in SOA_BOUNDS.items():
        value = getattr(settings, field)
        if value is not None and not low <= value <= high:
            problems.append(
                FieldProblem(
                    ("input", field), DnsErrorCode.INVALID_SOA, f"The SOA {field} is {low} to {high} seconds."
                )
            )
    return problems


def _zone_taken() -> InvalidInput:
    # Whose it is stays untold: the tenant may be any.
    return invalid("name", DnsErrorCode.ZONE_TAKEN, "This zone is already hosted here.")


def _template_records(template: DnsZoneTemplate, zone: DnsZone) -> list[RecordValue]:
    values = []
    for item in template.records:
        draft = RecordDraft(
            type=DnsRecordType(item["type"]),
            name=item.get("name") or "@",
            content=item.get("content") or "",
            ttl=item.get("ttl"),
            priority=item.get("priority"),
            weight=item.get("weight"),
            port=item.get("port"),
            flags=item.get("flags"),
            tag=item.get("tag"),
        )
        found = normalise(draft, zone.name, zone.default_ttl, "templateId")
        if isinstance(found, list):
            raise invalid(
                "templateId", DnsErrorCode.INVALID_TEMPLATE, "The template's records do not fit this zone."
            )
        values.append(found)
    return values


def record_row(zone: DnsZone, value: RecordValue) -> DnsRecord:
    return DnsRecord(
        id=uuid.uuid4(),
        zone_id=zone.id,
        name=value.name,
        type=value.type,
        content=value.content,
        ttl=value.ttl,
        priority=value.priority,
        weight=value.weight,
        port=value.port,
        flags=value.flags,
        tag=value.tag,
    )


async def create_zone(
    ctx: ServiceContext, name: str, settings: ZoneSettings, template_id: uuid.UUID | None = None
) -> DnsZone:
    scope = write_scope(ctx)
    if len(name) > MAX_ZONE_INPUT:
        raise invalid("name", DnsErrorCode.TOO_LONG, f"A zone name is at most {MAX_ZONE_INPUT} characters.")
    try:
        fqdn = zone_name(name)
    except BadName as exc:
        raise invalid("name", DnsErrorCode.INVALID_ZONE_NAME, str(exc)) from exc
    raise_problems(_settings_problems(settings))
    nameservers = ctx.settings.dns_assigned_nameservers
    async with ctx.transaction(scope) as session:
        template = None
        if template_id is not None:
            template = await session.get(DnsZoneTemplate, template_id)
            if template is None:
                raise invalid("templateId", DnsErrorCode.NOT_FOUND, "No such zone template.")
        zone = DnsZone(
            id=uuid.uuid4(),
            name=fqdn,
            status=DnsZoneStatus.PENDING_VERIFICATION,
            nameservers=nameservers,
            soa_mname=(ctx.settings.dns_soa_mname or nameservers[0]).rstrip(".").lower(),
            soa_rname=ctx.settings.dns_soa_rname.rstrip(".").lower(),
            serial=0,  # zone_changed below makes it YYYYMMDD00
            default_ttl=settings.default_ttl or DEFAULT_TTL,
            template_id=template_id,
            check_nameservers=[],
            **{field: getattr(settings, field) or SOA_DEFAULTS[field] for field in SOA_DEFAULTS},
        )
        session.add(zone)
        try:
            await session.flush()
        except IntegrityError as error:  # the global unique index: another tenant may hold it
            raise _zone_taken() from error
        if template is not None:
            values = _template_records(template, zone)
            raise_problems(set_problems([("templateId", value) for value in values]))
            session.add_all(record_row(zone, value) for value in values)
        zone_changed(session, zone, "zone.created")
        return zone


async def update_zone(ctx: ServiceContext, zone_id: uuid.UUID, settings: ZoneSettings) -> DnsZone:
    scope = write_scope(ctx)
    raise_problems(_settings_problems(settings))
    async with ctx.transaction(scope) as session:
        zone = await locked_or_not_found(session, DnsZone, zone_id)
        for field in ("default_ttl", *SOA_DEFAULTS):
            value = getattr(settings, field)
            if value is not None:
                setattr(zone, field, value)
        zone_changed(session, zone, "zone.updated")
        return zone


async def set_zone_status(ctx: ServiceContext, zone_id: uuid.UUID, suspended: bool) -> DnsZone:
    """Platform admins suspend a zone (and lift it: back to waiting for the delegation check)."""
    admin_scope(ctx)
    async with ctx.transaction() as session:
        zone = await locked_or_not_found(session, DnsZone, zone_id)
        zone.status = DnsZoneStatus.SUSPENDED if suspended else DnsZoneStatus.PENDING_VERIFICATION
        zone_changed(session, zone, "zone.suspended" if suspended else "zone.unsuspended")
        return zone


async def delete_zone(ctx: ServiceContext, zone_id: uuid.UUID) -> uuid.UUID:
    scope = write_scope(ctx)
    async with ctx.transaction(scope) as session:
        zone = await locked_or_not_found(session, DnsZone, zone_id)
        zone_changed(session, zone, "zone.deleted")
        await session.delete(zone)
        return zone_id


@dataclass(frozen=True, slots=True)
class ZoneFilter:
    status: DnsZoneStatus | None = None
    search: str | None = None
    tenant_id: uuid.UUID | None = None  # the cross-tenant list only


def _filtered(zone_filter: ZoneFilter) -> Select[Any]:
    statement = where_given(select(DnsZone), (DnsZone.status, zone_filter.status))
    if zone_filter.search and zone_filter.search.strip():
        statement = statement.where(
            DnsZone.name.contains(zone_filter.search.strip().lower(), autoescape=True)
        )
    return statement


async def list_zones(ctx: ServiceContext, zone_filter: ZoneFilter, page: PageArgs) -> Page[DnsZone]:
    scope = read_scope(ctx)
    return await paginate(
        lambda: ctx.read(scope), _filtered(zone_filter), SortKey(DnsZone.name, DnsZone.id), page
    )


async def list_all_zones(ctx: ServiceContext, zone_filter: ZoneFilter, page: PageArgs) -> Page[DnsZone]:
    scope = admin_scope(ctx)
    statement = where_given(_filtered(zone_filter), (DnsZone.tenant_id, zone_filter.tenant_id))
    return await paginate(lambda: ctx.read(scope), statement, SortKey(DnsZone.name, DnsZone.id), page)


@dataclass(frozen=True, slots=True)
class DnsStatistics:
    zones_by_status: dict[DnsZoneStatus, int]
    records_by_type: dict[DnsRecordType, int]
    computed_at: datetime


async def statistics(ctx: ServiceContext) -> DnsStatistics:
    scope = admin_scope(ctx)
    async with ctx.read(scope) as session:
        zones = await session.execute(select(DnsZone.status, func.count()).group_by(DnsZone.status))
        records = await session.execute(select(DnsRecord.type, func.count()).group_by(DnsRecord.type))
        by_status = {status: 0 for status in DnsZoneStatus} | {s: int(n) for s, n in zones}
        by_type = {kind: 0 for kind in DnsRecordType} | {t: int(n) for t, n in records}
    return DnsStatistics(by_status, by_type, datetime.now(UTC))
