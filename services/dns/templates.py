"""Zone templates (platform admins): a named set of records a new zone may start with
(``createDnsZone(templateId:)``). Names are relative to the zone they will be applied to."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.errors import invalid
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.db import locked_or_not_found
from models.dns import DnsZoneTemplate
from services.context import ServiceContext
from services.dns.access import admin_scope
from services.dns.errors import DnsErrorCode
from services.dns.records import RecordDraft, RecordValue, normalise, raise_problems, set_problems

MAX_TEMPLATE_NAME = 100
MAX_TEMPLATE_DESCRIPTION = 1000
MAX_TEMPLATE_RECORDS = 50
# Templates are checked against a stand-in zone (RFC 2606 reserves .test).
_SAMPLE_ZONE = "template.example.test"


def _stored(value: RecordValue) -> dict[str, object]:
    data = asdict(value)
    data["type"] = value.type.value
    return data


async def create_template(
    ctx: ServiceContext, name: str, description: str | None, records: list[RecordDraft]
) -> DnsZoneTemplate:
    scope = admin_scope(ctx)
    name = name.strip()
    if not name or len(name) > MAX_TEMPLATE_NAME:
        raise invalid(
            "name",
            DnsErrorCode.INVALID_TEMPLATE,
            f"A template's name is 1 to {MAX_TEMPLATE_NAME} characters.",
        )
    if description is not None and len(description) > MAX_TEMPLATE_DESCRIPTION:
        raise invalid("description", DnsErrorCode.TOO_LONG, f"At most {MAX_TEMPLATE_DESCRIPTION} characters.")
    if not 1 <= len(records) <= MAX_TEMPLATE_RECORDS:
        raise invalid(
            "records", DnsErrorCode.INVALID_TEMPLATE, f"A template has 1 to {MAX_TEMPLATE_RECORDS} records."
        )
    values: list[tuple[str, RecordValue]] = []
    problems = []
    for index, draft in enumerate(records):
        found = normalise(draft, _SAMPLE_ZONE, 3600, f"records.{index}")
        if isinstance(found, list):
            problems.extend(found)
        else:
            values.append((f"records.{index}", found))
    raise_problems(problems)
    raise_problems(set_problems(values))
    async with ctx.transaction(scope) as session:
        if await session.scalar(select(DnsZoneTemplate.id).where(DnsZoneTemplate.name == name)):
            raise invalid("name", DnsErrorCode.TEMPLATE_TAKEN, "Another template has this name.")
        template = DnsZoneTemplate(
            id=uuid.uuid4(), name=name, description=description, records=[_stored(v) for _, v in values]
        )
        session.add(template)
        try:
            await session.flush()
        except IntegrityError as error:
            raise invalid("name", DnsErrorCode.TEMPLATE_TAKEN, "Another template has this name.") from error
        return template


async def delete_template(ctx: ServiceContext, template_id: uuid.UUID) -> uuid.UUID:
    """Zones made from it keep their records (and lose the link)."""
    scope = admin_scope(ctx)
    async with ctx.transaction(scope) as session:
        template = await locked_or_not_found(session, DnsZoneTemplate, template_id)
        await session.delete(template)
        return template_id


async def list_templates(ctx: ServiceContext, page: PageArgs) -> Page[DnsZoneTemplate]:
    scope = admin_scope(ctx)
    statement = select(DnsZoneTemplate)
    return await paginate(
        lambda: ctx.read(scope), statement, SortKey(DnsZoneTemplate.name, DnsZoneTemplate.id), page
    )
