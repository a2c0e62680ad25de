"""Every DNS write records its outbox event and its audit entry in its own transaction; a refused
write records no event."""

from __future__ import annotations

from sqlalchemy import select

from core.scope import TenantScope
from models.audit import AuditEntry
from models.events import OutboxEvent
from server.runtime import Runtime
from services.dns.access import ZONE_CHANGED
from tests.dns.conftest import Tenant, codes


async def _events(runtime: Runtime) -> list[OutboxEvent]:
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        return list(await session.scalars(select(OutboxEvent).where(OutboxEvent.topic == ZONE_CHANGED)))


async def test_writes_record_events_and_audit_entries(acme: Tenant, runtime: Runtime) -> None:
    zone = await acme.zone("events.example")
    await acme.record(zone["id"], type="A", name="www", content="192.0.2.1")
    events = await _events(runtime)
    assert [e.payload["action"] for e in sorted(events, key=lambda e: e.payload["serial"])] == [
        "zone.created",
        "records.changed",
    ]
    assert all(e.tenant_id == acme.admin.tenant_id for e in events)
    refused = await acme.bulk(zone["id"], create=[{"type": "A", "name": "x", "content": "nope"}])
    assert codes(refused) == ["INVALID_ADDRESS"]
    assert len(await _events(runtime)) == 2
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        actions = set(await session.scalars(select(AuditEntry.action)))
    assert {"createDnsZone", "createDnsRecord", "bulkDnsRecords"} <= actions
