"""Zones against real PostgreSQL: names (IDNA, label and total lengths), assigned nameservers and
SOA, one name once across all tenants (without telling whose), settings, serials, isolation."""

from __future__ import annotations

from typing import Any

from tests.dns.conftest import ERRORS, ZONE, Tenant, codes

UPDATE = f"""
mutation($input: UpdateDnsZoneInput!) {{ updateDnsZone(input: $input) {{ zone {{ {ZONE} }} {ERRORS} }} }}
"""
DELETE = f"mutation($input: DnsZoneIdInput!) {{ deleteDnsZone(input: $input) {{ deletedZoneId {ERRORS} }} }}"
ZONES = """
query($filter: DnsZoneFilterInput, $first: Int, $after: String) {
  dnsZones(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { name status }
  }
}
"""
GET = f"query($id: ID!) {{ dnsZone(id: $id) {{ {ZONE} }} }}"


async def test_a_new_zone_waits_for_its_delegation_with_assigned_nameservers_and_soa(acme: Tenant) -> None:
    zone = await acme.zone("Example.COM.")
    assert zone["name"] == "example.com"
    assert zone["status"] == "PENDING_VERIFICATION"
    assert zone["nameservers"] == ["ns1.tenantgraph.test", "ns2.tenantgraph.test"]
    soa = zone["soa"]
    assert soa["mname"] == "ns1.tenantgraph.test" and soa["rname"] == "hostmaster.tenantgraph.test"
    assert len(soa["serial"]) == 10 and soa["serial"].endswith("00")
    assert (soa["refresh"], soa["retry"], soa["expire"], soa["minimum"]) == (7200, 900, 1209600, 300)
    assert zone["defaultTtl"] == 3600 and zone["lastCheck"] is None


async def test_unicode_names_are_idna_encoded(acme: Tenant) -> None:
    zone = await acme.zone("bücher.example")
    assert zone["name"] == "xn--bcher-kva.example"
    assert zone["displayName"] == "bücher.example"


async def test_bad_zone_names_are_user_errors(acme: Tenant) -> None:
    for name in (
        "com",
        "a..example",
        "-bad.example",
        "x" * 64 + ".example",
        ".".join(["a" * 63] * 4),
        "a b.com",
    ):
        payload = await acme.create_zone(name)
        assert codes(payload) == ["INVALID_ZONE_NAME"], (name, payload)
        assert payload["userErrors"][0]["field"] == ["input", "name"]
    assert codes(await acme.create_zone("z" * 301)) == ["TOO_LONG"]


async def test_a_zone_name_is_hosted_once_across_tenants_without_telling_whose(
    acme: Tenant, globex: Tenant
) -> None:
    await acme.zone("shared.example")
    again = await acme.create_zone("shared.example")
    other = await globex.create_zone("SHARED.example.")
    assert codes(again) == codes(other) == ["ZONE_TAKEN"]
    assert other["userErrors"][0]["message"] == again["userErrors"][0]["message"]
    assert "acme" not in other["userErrors"][0]["message"]
    # globex's list shows nothing of it
    listed = (await globex.call(ZONES))["dnsZones"]
    assert listed["totalCount"] == 0


async def test_settings_are_checked_and_every_change_raises_the_serial(acme: Tenant) -> None:
    zone = await acme.zone("timers.example", defaultTtl=600, refresh=3600)
    assert zone["defaultTtl"] == 600 and zone["soa"]["refresh"] == 3600
    bad = (await acme.call(UPDATE, {"input": {"id": zone["id"], "defaultTtl": 10, "retry": 5}}))[
        "updateDnsZone"
    ]
    assert sorted(codes(bad)) == ["INVALID_SOA", "INVALID_TTL"]
    serials = [int(zone["soa"]["serial"])]
    for ttl in (900, 1200, 1800):
        changed = (await acme.call(UPDATE, {"input": {"id": zone["id"], "defaultTtl": ttl}}))["updateDnsZone"]
        assert changed["userErrors"] == []
        serials.append(int(changed["zone"]["soa"]["serial"]))
    assert serials == sorted(set(serials)) and len(serials) == 4


async def test_list_filters_and_pages_by_name(acme: Tenant) -> None:
    for name in ("c.example", "a.example", "b.example", "other.test"):
        await acme.zone(name)
    first = (await acme.call(ZONES, {"first": 2}))["dnsZones"]
    assert [z["name"] for z in first["nodes"]] == ["a.example", "b.example"] and first["totalCount"] == 4
    rest = (await acme.call(ZONES, {"first": 5, "after": first["pageInfo"]["endCursor"]}))["dnsZones"]
    assert [z["name"] for z in rest["nodes"]] == ["c.example", "other.test"]
    found = await acme.call(ZONES, {"filter": {"search": "examp", "status": "PENDING_VERIFICATION"}})
    assert found["dnsZones"]["totalCount"] == 3


async def test_another_tenants_zone_is_not_found(acme: Tenant, globex: Tenant) -> None:
    zone = await acme.zone("mine.example")
    result = await globex.gql(GET, {"id": zone["id"]}, token=globex.admin.token)
    assert result.error_codes == ["NOT_FOUND"]
    for document, variables in (
        (UPDATE, {"input": {"id": zone["id"], "defaultTtl": 600}}),
        (DELETE, {"input": {"id": zone["id"]}}),
    ):
        refused = await globex.gql(document, variables, token=globex.admin.token)
        assert refused.error_codes == ["NOT_FOUND"], refused.body
    assert (await acme.call(GET, {"id": zone["id"]}))["dnsZone"]["name"] == "mine.example"


async def test_deleting_a_zone_frees_its_name(acme: Tenant, globex: Tenant) -> None:
    zone = await acme.zone("moving.example")
    deleted: dict[str, Any] = (await acme.call(DELETE, {"input": {"id": zone["id"]}}))["deleteDnsZone"]
    assert deleted == {"deletedZoneId": zone["id"], "userErrors": []}
    assert (await globex.create_zone("moving.example"))["userErrors"] == []
