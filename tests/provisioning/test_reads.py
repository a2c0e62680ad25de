"""Reading provisioning: lists with filters and cursors, one request with steps and audit trail,
an order's requests, statistics, active instances, metrics and provider health; owners see their
own, staff the tenant's, nobody another tenant's; list reads cost the same statements for 3 rows
as for 30."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.permissions import Role
from models.provisioning import ProvisioningStatus
from server.runtime import Runtime
from services.provisioning.worker import run_steps_once
from tests.orders.conftest import CONFIRM, SUBMIT, gid, line, new_shop, uuid_of
from tests.provisioning.conftest import ADVANCE, REQUEST_FIELDS, REQUEST_QUERY, Cloud, new_cloud
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import Identity

S = ProvisioningStatus
LIST = """
query($filter: ProvisioningRequestFilterInput, $first: Int, $after: String) {
  provisioningRequests(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id status owner { email } }
  }
}
"""
LIST_COST = f"""
query($first: Int) {{ provisioningRequests(first: $first) {{ nodes {{ {REQUEST_FIELDS} }} }} }}
"""
STATISTICS = """{ provisioningStatistics {
  total failureRate meanSecondsToActive countsByStatus { status count } } }"""
INSTANCES = "{ provisioningInstances(first: 10) { totalCount nodes { id status instanceId } } }"


def ids(data: dict[str, Any]) -> list[str]:
    return [n["id"] for n in data["provisioningRequests"]["nodes"]]


async def test_lists_filters_and_cursors(cloud: Cloud, identity: Identity) -> None:
    shop = cloud.shop
    alice, bob = await shop.account(), await shop.account()
    manager = await shop.account(Role.SUPPORT_AGENT)
    made = {
        "a1": await cloud.request(alice),
        "a2": await cloud.request(alice, status=S.FAILED),
        "b1": await cloud.request(bob, status=S.ACTIVE),
    }

    async def listed(account: Any, **variables: Any) -> dict[str, Any]:
        data: dict[str, Any] = (await shop.gql(LIST, variables, token=account.token)).ok()
        return data

    # Newest first; owners see their own, staff all of the tenant's.
    assert ids(await listed(alice)) == [made["a2"], made["a1"]]
    assert ids(await listed(manager)) == [made["b1"], made["a2"], made["a1"]]
    assert ids(await listed(manager, filter={"status": "FAILED"})) == [made["a2"]]
    assert ids(await listed(manager, filter={"ownerId": gid("User", bob.user_id)})) == [made["b1"]]
    assert ids(await listed(alice, filter={"ownerId": gid("User", bob.user_id)})) == []
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert ids(await listed(manager, filter={"createdAfter": future})) == []
    assert len(ids(await listed(manager, filter={"createdBefore": future}))) == 3
    page = (await listed(manager, first=2))["provisioningRequests"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    rest = await listed(manager, first=2, after=page["pageInfo"]["endCursor"])
    assert ids(rest) == [made["a1"]]
    # Another tenant's staff see none of it.
    other = await new_shop(shop.runtime, shop.gql, identity)
    assert ids(await listed(other.admin)) == []


async def test_one_request_with_its_steps_and_audit_trail(cloud: Cloud) -> None:
    owner = await cloud.shop.account()
    request = await cloud.request(owner, status=S.RUNNING)
    await cloud.act(ADVANCE, cloud.shop.operator, request, reason="checked")
    data = (await cloud.gql(REQUEST_QUERY, {"id": request}, token=owner.token)).ok()["provisioningRequest"]
    assert data["steps"][0] == {
        "position": 1,
        "name": "VALIDATE",
        "status": "COMPLETED",
        "startedAt": data["steps"][0]["startedAt"],
        "finishedAt": data["steps"][0]["finishedAt"],
        "message": "checked",
    }
    assert [(t["from"], t["to"], t["actor"]) for t in data["auditTrail"]] == [
        (None, "PENDING", "test"),
        ("PENDING", "RUNNING", "test"),
    ]
    assert data["product"] == {"name": "Managed database"} and data["owner"] == {"email": owner.email}


async def test_statistics_instances_metrics_and_health(cloud: Cloud) -> None:
    shop = cloud.shop
    owner = await shop.account()
    running = await cloud.request(owner, status=S.RUNNING)
    await cloud.request(owner, status=S.FAILED)
    await cloud.request(owner)
    assert await run_steps_once(cloud.worker())
    stats = (await shop.gql(STATISTICS, token=shop.admin.token)).ok()["provisioningStatistics"]
    counts = {c["status"]: c["count"] for c in stats["countsByStatus"]}
    assert (stats["total"], counts["ACTIVE"], counts["FAILED"], counts["PENDING"]) == (3, 1, 1, 1)
    assert abs(stats["failureRate"] - 1 / 3) < 1e-9 and stats["meanSecondsToActive"] >= 0
    instances = (await shop.gql(INSTANCES, token=owner.token)).ok()["provisioningInstances"]
    assert [(n["id"], n["status"]) for n in instances["nodes"]] == [(running, "ACTIVE")]
    assert instances["nodes"][0]["instanceId"].startswith("sim-")
    metrics_query = (
        "query($id: ID!) { provisioningRequest(id: $id) { metrics { cpuPercent uptimeSeconds } } }"
    )
    metrics = (await shop.gql(metrics_query, {"id": running}, token=owner.token)).ok()
    assert 0 <= metrics["provisioningRequest"]["metrics"]["cpuPercent"] <= 100
    health = "{ provisioningProviderHealth { name healthy } }"
    assert (await shop.gql(health, token=owner.token)).ok()["provisioningProviderHealth"] == {
        "name": "simulated",
        "healthy": True,
    }
    # A stranger's figures are their own (none).
    stranger = await shop.account()
    mine = (await shop.gql(STATISTICS, token=stranger.token)).ok()["provisioningStatistics"]
    assert mine["total"] == 0 and mine["failureRate"] == 0


async def test_list_reads_cost_the_same_statements_for_3_and_30_requests(
    runtime: Runtime, gql: GraphQLClient, identity: Identity
) -> None:
    cloud = await new_cloud(runtime, gql, identity)
    buyers = [await cloud.shop.account() for _ in range(3)]
    for n in range(30):
        await cloud.request(buyers[n % 3], status=S.RUNNING if n % 2 else S.PENDING)

    def statements(counter: Any) -> list[str]:
        return [s for s in counter.statements if "outbox_events" not in s and "provisioning_workers" not in s]

    costs = {}
    await gql.warm(cloud.shop.admin.token)
    for first in (3, 30):
        with count_statements(runtime.db.engine) as counter:
            data = (await gql(LIST_COST, {"first": first}, token=cloud.shop.admin.token)).ok()
        nodes = data["provisioningRequests"]["nodes"]
        assert len(nodes) == first and all(len(n["steps"]) == 5 for n in nodes)
        costs[first] = statements(counter)
    assert len(costs[3]) == len(costs[30]), (costs[3], costs[30])
    # The page, then one batch each for steps, trails, owners and products (orders: none here).
    assert len(costs[30]) <= 6, costs[30]


async def test_an_orders_requests_cost_one_batch(cloud: Cloud) -> None:
    shop = cloud.shop
    buyer = await shop.account()
    orders = []
    for _ in range(3):
        order = await shop.place(buyer, line(cloud.product_id, 1), line(cloud.product_id, 1))
        await shop.move(SUBMIT, buyer, order["id"])
        await shop.move(CONFIRM, shop.operator, order["id"])
        orders.append(order["id"])
    query = "{ orders(first: 10) { nodes { number provisioningRequests { status steps { status } } } } }"
    await shop.gql.warm(buyer.token)
    with count_statements(shop.runtime.db.engine) as counter:
        data = (await shop.gql(query, token=buyer.token)).ok()
    nodes = data["orders"]["nodes"]
    assert [len(n["provisioningRequests"]) for n in nodes] == [2, 2, 2]
    kept = [s for s in counter.statements if "outbox_events" not in s]
    assert len(kept) <= 3, kept  # orders, their requests, the requests' steps


async def test_federation_references_and_relay_nodes_keep_the_visibility_rule(cloud: Cloud) -> None:
    owner, stranger = await cloud.shop.account(), await cloud.shop.account()
    request = await cloud.request(owner)
    raw = str(uuid_of(request))
    entities = """query($reps: [_Any!]!) {
      _entities(representations: $reps) { ... on ProvisioningRequest { id status } } }"""
    reps = {"reps": [{"__typename": "ProvisioningRequest", "id": raw}]}
    found = (await cloud.gql(entities, reps, token=owner.token)).ok()["_entities"]
    assert found == [{"id": request, "status": "PENDING"}]
    assert (await cloud.gql(entities, reps, token=stranger.token)).error_codes == ["NOT_FOUND"]
    node = "query($id: ID!) { node(id: $id) { ... on ProvisioningRequest { status } } }"
    assert (await cloud.gql(node, {"id": request}, token=owner.token)).ok()["node"] == {"status": "PENDING"}
    assert (await cloud.gql(node, {"id": request}, token=stranger.token)).error_codes == ["NOT_FOUND"]
