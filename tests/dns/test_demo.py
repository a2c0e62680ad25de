"""Demo DNS: each demo tenant's zone <slug>.example with its records, seeded once, exportable."""

from __future__ import annotations

import dns.zone
from sqlalchemy import func, select

from core.scope import TenantScope
from demo import DEMO_PASSWORD, DEMO_TENANTS, seed_demo
from models.dns import DnsRecord
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient
from tests.support.identity import Identity

ZONES = "{ dnsZones { nodes { name status bindExport records(first: 20) { totalCount } } } }"


async def test_demo_zones_are_seeded_once(runtime: Runtime, gql: GraphQLClient, identity: Identity) -> None:
    await seed_demo(runtime.db)
    await seed_demo(runtime.db)
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        records = await session.scalar(select(func.count()).select_from(DnsRecord))
    assert records == 7 * len(DEMO_TENANTS)
    for slug, _, _ in DEMO_TENANTS:
        login = (await identity.login(slug, f"admin@{slug}.example", DEMO_PASSWORD)).ok()["login"]
        zones = (await gql(ZONES, token=login["accessToken"])).ok()["dnsZones"]["nodes"]
        assert [(z["name"], z["status"], z["records"]["totalCount"]) for z in zones] == [
            (f"{slug}.example", "PENDING_VERIFICATION", 7)
        ]
        parsed = dns.zone.from_text(zones[0]["bindExport"], origin=f"{slug}.example.")
        assert parsed.find_rdataset("www", "AAAA")[0].address == "2001:db8::10"
