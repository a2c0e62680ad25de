"""NS-delegation checks against a local nameserver over the real DNS protocol: delegated (ACTIVE),
not delegated, partly delegated, resolver unreachable (a recorded check result, never an error)."""

from __future__ import annotations

from typing import Any

from tests.dns.conftest import ERRORS, ZONE, Tenant, codes
from tests.support.fake_dns import FakeDns

VERIFY = f"""
mutation($input: DnsZoneIdInput!) {{
  verifyDnsZoneDelegation(input: $input) {{
    zone {{ {ZONE} }} check {{ checkedAt delegated foundNameservers message }} {ERRORS}
  }}
}}
"""


async def _verify(tenant: Tenant, zone_id: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await tenant.call(VERIFY, {"input": {"id": zone_id}}))[
        "verifyDnsZoneDelegation"
    ]
    return payload


async def test_a_delegated_zone_becomes_active(acme: Tenant, dns_server: FakeDns) -> None:
    zone = await acme.zone("delegated.example")
    dns_server.delegate("delegated.example", "ns2.tenantgraph.test", "ns1.tenantgraph.test")
    payload = await _verify(acme, zone["id"])
    assert payload["userErrors"] == []
    assert payload["check"]["delegated"] is True
    assert payload["check"]["foundNameservers"] == ["ns1.tenantgraph.test", "ns2.tenantgraph.test"]
    assert payload["zone"]["status"] == "ACTIVE" and payload["zone"]["verifiedAt"]
    assert payload["zone"]["lastCheck"] == payload["check"]
    assert "delegated.example" in dns_server.queries
    assert int(payload["zone"]["soa"]["serial"]) > int(zone["soa"]["serial"])


async def test_a_zone_not_delegated_stays_pending_with_the_check_recorded(
    acme: Tenant, dns_server: FakeDns
) -> None:
    zone = await acme.zone("nowhere.example")
    payload = await _verify(acme, zone["id"])
    assert payload["userErrors"] == []
    assert payload["check"]["delegated"] is False and payload["check"]["foundNameservers"] == []
    assert payload["zone"]["status"] == "PENDING_VERIFICATION"
    assert payload["zone"]["lastCheck"]["message"].startswith("No NS records found")
    # delegated elsewhere, or to only one of ours
    dns_server.delegate("nowhere.example", "ns1.tenantgraph.test", "ns.elsewhere.net")
    partly = await _verify(acme, zone["id"])
    assert partly["check"]["delegated"] is False
    assert partly["check"]["foundNameservers"] == ["ns.elsewhere.net", "ns1.tenantgraph.test"]
    assert "ns2.tenantgraph.test" in partly["check"]["message"]
    assert partly["zone"]["status"] == "PENDING_VERIFICATION"


async def test_an_unreachable_resolver_is_a_check_result(acme: Tenant, dns_server: FakeDns) -> None:
    zone = await acme.zone("silent.example")
    dns_server.silent.add("silent.example")
    payload = await _verify(acme, zone["id"])
    assert payload["userErrors"] == []
    assert payload["check"]["delegated"] is False
    assert "No resolver answered" in payload["check"]["message"]
    assert payload["zone"]["status"] == "PENDING_VERIFICATION"


async def test_another_tenants_zone_cannot_be_verified(
    acme: Tenant, globex: Tenant, dns_server: FakeDns
) -> None:
    zone = await acme.zone("private.example")
    result = await globex.gql(VERIFY, {"input": {"id": zone["id"]}}, token=globex.admin.token)
    assert result.error_codes == ["NOT_FOUND"]
    assert dns_server.queries == []


async def test_a_suspended_zone_is_not_verified(acme: Tenant, platform: Tenant, dns_server: FakeDns) -> None:
    zone = await acme.zone("paused.example")
    suspend = (
        "mutation($input: SetDnsZoneSuspendedInput!) "
        "{ setDnsZoneSuspended(input: $input) { zone { status } userErrors { code } } }"
    )
    suspended = (await platform.call(suspend, {"input": {"id": zone["id"], "suspended": True}}))[
        "setDnsZoneSuspended"
    ]
    assert suspended["zone"]["status"] == "SUSPENDED"
    payload = await _verify(acme, zone["id"])
    assert codes(payload) == ["ZONE_SUSPENDED"]
    record = await acme.create_record(zone["id"], type="A", name="x", content="192.0.2.1")
    assert codes(record) == ["ZONE_SUSPENDED"]
