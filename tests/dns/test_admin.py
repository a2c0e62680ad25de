"""Platform-level DNS: the cross-tenant zone list and statistics, zone templates, IP allocations
and reverse DNS; all refused to everyone else. And the statement count of a zone list with records."""

from __future__ import annotations

from typing import Any

from server.runtime import Runtime
from tests.dns.conftest import ERRORS, Tenant, codes
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import global_id

ADMIN_ZONES = """
query($filter: AdminDnsZoneFilterInput) {
  adminDnsZones(filter: $filter, first: 50) { totalCount nodes { name status } }
}
"""
STATS = """
{ dnsStatistics { zones records zonesByStatus { status count } recordsByType { type count } } }
"""
CREATE_TEMPLATE = f"""
mutation($input: CreateDnsZoneTemplateInput!) {{
  createDnsZoneTemplate(input: $input) {{
    template {{ id name records {{ type name content priority }} }} {ERRORS}
  }}
}}
"""
TEMPLATES = "{ dnsZoneTemplates { totalCount nodes { id name } } }"
DELETE_TEMPLATE = f"""
mutation($input: DnsZoneTemplateIdInput!) {{
  deleteDnsZoneTemplate(input: $input) {{ deletedTemplateId {ERRORS} }}
}}
"""
ALLOCATE = f"""
mutation($input: AllocateIpAddressInput!) {{
  allocateIpAddress(input: $input) {{ reverseDns {{ ip reverseName ptr }} {ERRORS} }}
}}
"""
SET_PTR = f"""
mutation($input: SetReverseDnsInput!) {{
  setReverseDns(input: $input) {{ reverseDns {{ ip ptr }} {ERRORS} }}
}}
"""
REMOVE_PTR = f"""
mutation($input: ReverseDnsIpInput!) {{
  removeReverseDns(input: $input) {{ reverseDns {{ ip ptr }} {ERRORS} }}
}}
"""
GET_PTR = "query($ip: String!) { reverseDns(ip: $ip) { ip reverseName ptr } }"
ZONES_WITH_RECORDS = """
query($first: Int) {
  dnsZones(first: $first) {
    nodes { name records(first: 5) { totalCount nodes { name type content zone { name } } } }
  }
}
"""


async def test_cross_tenant_list_and_statistics_are_for_platform_admins(
    acme: Tenant, globex: Tenant, platform: Tenant
) -> None:
    a = await acme.zone("a.example")
    await globex.zone("g.example")
    await acme.record(a["id"], type="A", name="www", content="192.0.2.1")
    await acme.record(a["id"], type="TXT", name="@", content="hi")
    listed = (await platform.call(ADMIN_ZONES))["adminDnsZones"]
    assert [z["name"] for z in listed["nodes"]] == ["a.example", "g.example"]
    only = await platform.call(
        ADMIN_ZONES, {"filter": {"tenantId": global_id("Tenant", globex.admin.tenant_id)}}
    )
    assert [z["name"] for z in only["adminDnsZones"]["nodes"]] == ["g.example"]
    stats = (await platform.call(STATS))["dnsStatistics"]
    assert stats["zones"] == 2 and stats["records"] == 2
    assert {s["status"]: s["count"] for s in stats["zonesByStatus"]}["PENDING_VERIFICATION"] == 2
    by_type = {t["type"]: t["count"] for t in stats["recordsByType"]}
    assert by_type["A"] == 1 and by_type["TXT"] == 1 and by_type["MX"] == 0
    for document in (ADMIN_ZONES, STATS, TEMPLATES):
        refused = await acme.gql(document, token=acme.admin.token)
        assert refused.error_codes == ["FORBIDDEN"], refused.body


async def test_templates_seed_new_zones(acme: Tenant, platform: Tenant) -> None:
    records = [
        {"type": "MX", "name": "@", "content": "mx.provider.net", "priority": 10},
        {"type": "TXT", "name": "@", "content": "v=spf1 include:provider.net -all"},
        {"type": "CNAME", "name": "www", "content": "web.provider.net"},
    ]
    created = await platform.call(CREATE_TEMPLATE, {"input": {"name": "Mail", "records": records}})
    template = created["createDnsZoneTemplate"]["template"]
    assert [r["type"] for r in template["records"]] == ["MX", "TXT", "CNAME"]
    bad = await platform.call(
        CREATE_TEMPLATE,
        {"input": {"name": "Bad", "records": [{"type": "CNAME", "name": "@", "content": "x.net"}]}},
    )
    assert codes(bad["createDnsZoneTemplate"]) == ["CNAME_AT_APEX"]
    again = await platform.call(CREATE_TEMPLATE, {"input": {"name": "Mail", "records": records}})
    assert codes(again["createDnsZoneTemplate"]) == ["TEMPLATE_TAKEN"]
    refused = await acme.gql(
        CREATE_TEMPLATE, {"input": {"name": "Mine", "records": records}}, token=acme.admin.token
    )
    assert refused.error_codes == ["FORBIDDEN"]
    zone = await acme.zone("templated.example", templateId=template["id"])
    found = (await acme.records(zone["id"]))["records"]["nodes"]
    assert sorted((r["type"], r["name"]) for r in found) == [("CNAME", "www"), ("MX", "@"), ("TXT", "@")]
    listed = (await platform.call(TEMPLATES))["dnsZoneTemplates"]
    assert listed["totalCount"] == 1
    deleted = (await platform.call(DELETE_TEMPLATE, {"input": {"id": template["id"]}}))[
        "deleteDnsZoneTemplate"
    ]
    assert deleted["deletedTemplateId"] == template["id"]
    assert (await acme.records(zone["id"]))["records"]["totalCount"] == 3
    missing = await acme.create_zone("late.example", templateId=template["id"])
    assert codes(missing) == ["NOT_FOUND"]


async def test_reverse_dns_for_allocated_addresses_only(
    acme: Tenant, globex: Tenant, platform: Tenant
) -> None:
    tenant = global_id("Tenant", acme.admin.tenant_id)
    allocated = (await platform.call(ALLOCATE, {"input": {"tenantId": tenant, "ip": "192.0.2.55"}}))[
        "allocateIpAddress"
    ]
    assert allocated["reverseDns"] == {
        "ip": "192.0.2.55",
        "reverseName": "55.2.0.192.in-addr.arpa",
        "ptr": None,
    }
    taken = (await platform.call(ALLOCATE, {"input": {"tenantId": tenant, "ip": "192.0.2.55"}}))[
        "allocateIpAddress"
    ]
    assert codes(taken) == ["ADDRESS_TAKEN"]
    v6 = (await platform.call(ALLOCATE, {"input": {"tenantId": tenant, "ip": "2001:DB8::55"}}))[
        "allocateIpAddress"
    ]
    assert v6["reverseDns"]["ip"] == "2001:db8::55"
    refused = await acme.gql(
        ALLOCATE, {"input": {"tenantId": tenant, "ip": "192.0.2.56"}}, token=acme.admin.token
    )
    assert refused.error_codes == ["FORBIDDEN"]

    set_ptr = (await acme.call(SET_PTR, {"input": {"ip": "192.0.2.55", "ptr": "Host.Example.com."}}))[
        "setReverseDns"
    ]
    assert set_ptr["reverseDns"] == {"ip": "192.0.2.55", "ptr": "host.example.com"}
    assert (await acme.call(GET_PTR, {"ip": "192.0.2.55"}))["reverseDns"]["ptr"] == "host.example.com"
    bad = (await acme.call(SET_PTR, {"input": {"ip": "192.0.2.55", "ptr": "not a host"}}))["setReverseDns"]
    assert codes(bad) == ["INVALID_TARGET"]
    # another tenant: not its address
    other: dict[str, Any] = await globex.call(SET_PTR, {"input": {"ip": "192.0.2.55", "ptr": "evil.example"}})
    assert codes(other["setReverseDns"]) == ["ADDRESS_NOT_ALLOCATED"]
    assert (await globex.gql(GET_PTR, {"ip": "192.0.2.55"}, token=globex.admin.token)).error_codes == [
        "NOT_FOUND"
    ]
    unallocated = (await acme.call(SET_PTR, {"input": {"ip": "198.51.100.1", "ptr": "x.example"}}))[
        "setReverseDns"
    ]
    assert codes(unallocated) == ["ADDRESS_NOT_ALLOCATED"]
    removed = (await acme.call(REMOVE_PTR, {"input": {"ip": "192.0.2.55"}}))["removeReverseDns"]
    assert removed["reverseDns"]["ptr"] is None


async def test_a_zone_list_with_records_costs_the_same_for_any_number_of_zones(
    acme: Tenant, runtime: Runtime, gql: GraphQLClient
) -> None:
    for i in range(12):
        zone = await acme.zone(f"z{i:02d}.example")
        await acme.bulk(
            zone["id"],
            create=[{"type": "A", "name": f"h{j}", "content": f"192.0.2.{j + 1}"} for j in range(3)],
        )

    def statements(counter: Any) -> list[str]:
        return [s for s in counter.statements if "outbox_events" not in s]

    await gql.warm(acme.admin.token)
    costs = {}
    for first in (2, 12):
        with count_statements(runtime.db.engine) as counter:
            data = (await gql(ZONES_WITH_RECORDS, {"first": first}, token=acme.admin.token)).ok()
        zones = data["dnsZones"]["nodes"]
        assert len(zones) == first
        assert all(z["records"]["totalCount"] == 3 and len(z["records"]["nodes"]) == 3 for z in zones)
        assert all(r["zone"]["name"] == z["name"] for z in zones for r in z["records"]["nodes"])
        costs[first] = statements(counter)
    assert len(costs[2]) == len(costs[12]), (costs[2], costs[12])
    # the page of zones, one window of records, one count, one batch of the records' zones
    assert len(costs[12]) <= 4, costs[12]
