"""DNS demo data: the zone ``<slug>.example`` of each demo tenant with a few records (web, mail,
SPF, CAA), waiting for its delegation. Re-runnable: the zone is found by name. It only calls
services and models."""

from __future__ import annotations

import uuid
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.dns import DnsRecordType, DnsZone, DnsZoneStatus
from models.identity.accounts import Tenant
from services.dns.access import next_serial
from services.dns.records import RecordDraft, normalise
from services.dns.zones import DEFAULT_TTL, SOA_DEFAULTS, record_row

DEMO_NAMESERVERS = ["ns1.tenantgraph.test", "ns2.tenantgraph.test"]
DEMO_RECORDS = (
    RecordDraft(DnsRecordType.A, "@", "192.0.2.10"),
    RecordDraft(DnsRecordType.A, "www", "192.0.2.10"),
    RecordDraft(DnsRecordType.AAAA, "www", "2001:db8::10"),
    RecordDraft(DnsRecordType.MX, "@", "mail.{zone}", priority=10),
    RecordDraft(DnsRecordType.A, "mail", "192.0.2.25"),
    RecordDraft(DnsRecordType.TXT, "@", "v=spf1 mx -all"),
    RecordDraft(DnsRecordType.CAA, "@", "letsencrypt.org", tag="issue"),
)


async def seed_demo_dns(session: AsyncSession, tenant: Tenant) -> None:
    name = f"{tenant.slug}.example"
    if await session.scalar(select(DnsZone.id).where(DnsZone.name == name)) is not None:
        return
    zone = DnsZone(
        id=uuid.uuid4(),
        tenant_id=tenant.id,
        name=name,
        status=DnsZoneStatus.PENDING_VERIFICATION,
        nameservers=DEMO_NAMESERVERS,
        soa_mname=DEMO_NAMESERVERS[0],
        soa_rname="hostmaster.tenantgraph.test",
        serial=next_serial(0),
        default_ttl=DEFAULT_TTL,
        check_nameservers=[],
        **SOA_DEFAULTS,
    )
    session.add(zone)
    await session.flush()
    for draft in DEMO_RECORDS:
        value = normalise(replace(draft, content=draft.content.format(zone=name)), name, DEFAULT_TTL)
        if not isinstance(value, list):
            row = record_row(zone, value)
            row.tenant_id = tenant.id
            session.add(row)
