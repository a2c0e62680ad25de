"""The operations center (seed 003): a tenant's provisioning runs and DNS verifications as one
list, newest first, with one status vocabulary; who sees what; cursors across both sources; the
details of one; the retry of a failed one (and NOT_RETRYABLE for the rest); statement counts."""

from __future__ import annotations

import uuid
from typing import Any

from models.provisioning import ProvisioningStatus
from services.provisioning.worker import run_steps_once
from tests.billing.support import gid
from tests.dns.conftest import CREATE_ZONE
from tests.provisioning.conftest import Cloud
from tests.support.fake_dns import FakeDns
from tests.support.graphql import count_statements

S = ProvisioningStatus
OPERATIONS = """
query($filter: OperationFilterInput, $first: Int, $after: String, $last: Int, $before: String) {
  operations(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
    nodes {
      id kind status percent message retryable createdAt startedAt finishedAt
      target {
        __typename
        ... on ProvisioningRequest { id status steps { status } owner { email } }
        ... on DnsZone { id name zoneStatus: status lastCheck { delegated } }
      }
    }
  }
}
"""
OPERATION = """query($id: ID!) { operation(id: $id) {
  id kind status retryable target { ... on ProvisioningRequest { attempt auditTrail { to } } } } }"""
RETRY = """mutation($input: RetryOperationInput!) { retryOperation(input: $input) {
  operation { id kind status retryable message target { ... on DnsZone { zoneStatus: status } } }
  userErrors { field code message } } }"""
VERIFY = """mutation($input: DnsZoneIdInput!) {
  verifyDnsZoneDelegation(input: $input) { zone { status } userErrors { code } } }"""


async def _zone(cloud: Cloud, name: str) -> str:
    payload = (await cloud.gql(CREATE_ZONE, {"input": {"name": name}}, token=cloud.shop.admin.token)).ok()
    assert payload["createDnsZone"]["userErrors"] == [], payload
    zone_id: str = payload["createDnsZone"]["zone"]["id"]
    return zone_id


async def _list(cloud: Cloud, token: str, **variables: Any) -> dict[str, Any]:
    data: dict[str, Any] = (await cloud.gql(OPERATIONS, variables, token=token)).ok()["operations"]
    return data


async def test_one_list_of_runs_and_verifications_with_one_status(cloud: Cloud, dns_server: FakeDns) -> None:
    shop = cloud.shop
    owner, other = await shop.account(), await shop.account()
    pending = await cloud.request(owner)
    failed = await cloud.request(owner, status=S.FAILED)
    unchecked = await _zone(cloud, f"ops-{uuid.uuid4().hex[:8]}.example")
    checked_name = f"ops-{uuid.uuid4().hex[:8]}.example"
    checked = await _zone(cloud, checked_name)
    await shop.gql(VERIFY, {"input": {"id": checked}}, token=shop.admin.token)  # not delegated: FAILED
    active = await cloud.request(other, status=S.ACTIVE)

    staff = await _list(cloud, shop.admin.token)
    assert [(n["id"], n["kind"], n["status"], n["retryable"]) for n in staff["nodes"]] == [
        (active, "PROVISIONING", "SUCCEEDED", False),
        (checked, "DNS_VERIFICATION", "FAILED", True),
        (unchecked, "DNS_VERIFICATION", "QUEUED", False),
        (failed, "PROVISIONING", "FAILED", True),
        (pending, "PROVISIONING", "QUEUED", False),
    ]
    assert staff["totalCount"] == 5
    by_id = {n["id"]: n for n in staff["nodes"]}
    assert by_id[active]["percent"] == 100 and by_id[active]["finishedAt"]
    assert by_id[checked]["message"].startswith("No NS records found for " + checked_name)
    assert by_id[checked]["target"]["__typename"] == "DnsZone"
    assert by_id[checked]["target"]["lastCheck"] == {"delegated": False}
    assert by_id[failed]["target"]["owner"]["email"] == owner.email
    assert by_id[failed]["message"] == "set up by the test"

    # Not staff: your own provisioning runs, never DNS (staff only) or another user's runs.
    mine = await _list(cloud, owner.token)
    assert [n["id"] for n in mine["nodes"]] == [failed, pending] and mine["totalCount"] == 2
    # Filters by kind and by the common status.
    failures = await _list(cloud, shop.admin.token, filter={"status": "FAILED"})
    assert [n["id"] for n in failures["nodes"]] == [checked, failed]
    zones = await _list(cloud, shop.admin.token, filter={"kind": "DNS_VERIFICATION"})
    assert [n["id"] for n in zones["nodes"]] == [checked, unchecked] and zones["totalCount"] == 2
    assert (await _list(cloud, shop.admin.token, filter={"status": "RUNNING"}))["nodes"] == []


async def test_cursors_walk_both_sources_forward_and_back(cloud: Cloud) -> None:
    shop = cloud.shop
    owner = await shop.account()
    expected = []
    for n in range(7):
        if n % 3 == 1:
            expected.append(await _zone(cloud, f"walk-{uuid.uuid4().hex[:8]}.example"))
        else:
            expected.append(await cloud.request(owner))
    expected.reverse()  # newest first
    seen: list[str] = []
    after = None
    while True:
        page = await _list(cloud, shop.admin.token, first=3, after=after)
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected
    back = await _list(cloud, shop.admin.token, last=3, before=None)
    assert [n["id"] for n in back["nodes"]] == expected[-3:] and back["pageInfo"]["hasPreviousPage"]
    before = await _list(cloud, shop.admin.token, last=2, before=back["pageInfo"]["startCursor"])
    assert [n["id"] for n in before["nodes"]] == expected[-5:-3]


async def test_details_and_visibility_of_one_operation(cloud: Cloud) -> None:
    shop = cloud.shop
    owner, stranger = await shop.account(), await shop.account()
    request = await cloud.request(owner, status=S.FAILED)
    zone = await _zone(cloud, f"one-{uuid.uuid4().hex[:8]}.example")
    found = (await shop.gql(OPERATION, {"id": request}, token=owner.token)).ok()["operation"]
    assert found == {
        "id": request,
        "kind": "PROVISIONING",
        "status": "FAILED",
        "retryable": True,
        "target": {"attempt": 1, "auditTrail": [{"to": "PENDING"}, {"to": "RUNNING"}, {"to": "FAILED"}]},
    }
    assert (await shop.gql(OPERATION, {"id": request}, token=stranger.token)).error_codes == ["NOT_FOUND"]
    assert (await shop.gql(OPERATION, {"id": zone}, token=owner.token)).error_codes == ["NOT_FOUND"]
    staff = (await shop.gql(OPERATION, {"id": zone}, token=shop.admin.token)).ok()["operation"]
    assert (staff["kind"], staff["status"]) == ("DNS_VERIFICATION", "QUEUED")
    # An id of another type, or of another tenant's operation, is NOT_FOUND as well.
    for other in (gid("Order", uuid.uuid4()), gid("DnsZone", uuid.uuid4())):
        assert (await shop.gql(OPERATION, {"id": other}, token=shop.admin.token)).error_codes == ["NOT_FOUND"]


async def test_retry_runs_a_failed_operation_again_and_refuses_the_rest(
    cloud: Cloud, dns_server: FakeDns
) -> None:
    shop = cloud.shop
    owner = await shop.account()
    failed = await cloud.request(owner, status=S.FAILED)
    retried = (await shop.gql(RETRY, {"input": {"id": failed}}, token=owner.token)).ok()["retryOperation"]
    assert retried["userErrors"] == []
    assert (retried["operation"]["status"], retried["operation"]["retryable"]) == ("RUNNING", False)
    assert (await cloud.row(failed)).attempt == 2
    again = (await shop.gql(RETRY, {"input": {"id": failed}}, token=owner.token)).ok()["retryOperation"]
    assert again["operation"] is None
    assert [(e["code"], e["field"]) for e in again["userErrors"]] == [("NOT_RETRYABLE", ["input", "id"])]
    assert (await cloud.row(failed)).attempt == 2  # nothing changed
    assert await run_steps_once(cloud.worker())
    assert (await cloud.row(failed)).status == S.ACTIVE

    name = f"retry-{uuid.uuid4().hex[:8]}.example"
    zone = await _zone(cloud, name)
    queued = (await shop.gql(RETRY, {"input": {"id": zone}}, token=shop.admin.token)).ok()["retryOperation"]
    assert [e["code"] for e in queued["userErrors"]] == ["NOT_RETRYABLE"]  # never checked yet
    await shop.gql(VERIFY, {"input": {"id": zone}}, token=shop.admin.token)
    dns_server.delegate(name, "ns1.tenantgraph.test", "ns2.tenantgraph.test")
    done = (await shop.gql(RETRY, {"input": {"id": zone}}, token=shop.admin.token)).ok()["retryOperation"]
    assert done["userErrors"] == [], done
    assert done["operation"]["status"] == "SUCCEEDED" and done["operation"]["target"] == {
        "zoneStatus": "ACTIVE"
    }
    assert done["operation"]["message"] == "Delegated to the assigned nameservers."
    # Another user cannot retry what they cannot see.
    stranger = await shop.account()
    other = await cloud.request(owner, status=S.FAILED)
    refused = await shop.gql(RETRY, {"input": {"id": other}}, token=stranger.token)
    assert refused.error_codes == ["NOT_FOUND"]


async def test_the_list_costs_the_same_statements_for_4_and_20_operations(cloud: Cloud) -> None:
    shop = cloud.shop
    owner = await shop.account()
    for n in range(20):
        if n % 4 == 0:
            await _zone(cloud, f"cost-{uuid.uuid4().hex[:8]}.example")
        else:
            await cloud.request(owner, status=S.RUNNING)
    await shop.gql.warm(shop.admin.token)
    costs = {}
    for first in (4, 20):
        with count_statements(shop.runtime.db.engine) as counter:
            page = await _list(cloud, shop.admin.token, first=first)
        assert len(page["nodes"]) == first and page["totalCount"] == 20
        costs[first] = [s for s in counter.statements if "outbox_events" not in s]
    assert len(costs[4]) == len(costs[20]), (costs[4], costs[20])
    # A page and a count per source, then one batch each for steps and owners.
    assert len(costs[20]) <= 6, costs[20]
