"""Relations as connections: Tenant.users and User.orders, paged per parent in one statement per
level, under the same visibility rules as the root lists."""

from __future__ import annotations

from typing import Any

from core.permissions import Role
from server.runtime import Runtime
from tests.billing.support import make_order
from tests.support.graphql import GraphQLClient, StatementCounter, count_statements
from tests.support.identity import Account, Identity

NESTED = """
{ tenants(first: 10) { edges { node { slug
    users(first: 10) { totalCount edges { node { email
      orders(first: 2) { totalCount pageInfo { hasNextPage } edges { node { number } } } } } } } } } }
"""

MY_ORDERS = """
query($first: Int, $after: String, $last: Int, $before: String) {
  me { orders(first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { number } } } } }
"""


def _sql(counter: StatementCounter) -> list[str]:
    return [s for s in counter.statements if "outbox_events" not in s]


async def _orders(runtime: Runtime, owner: Account, count: int) -> list[str]:
    return [(await make_order(runtime, owner)).number for _ in range(count)]


def _by_tenant(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    tenants = {edge["node"]["slug"]: edge["node"] for edge in data["tenants"]["edges"]}
    return {
        slug: {
            edge["node"]["email"]: edge["node"]["orders"]
            for edge in tenant["users"]["edges"]
            if not edge["node"]["email"].startswith("platform")
        }
        for slug, tenant in tenants.items()
        if slug in ("acme", "globex")
    }


async def test_tenants_users_orders_cost_one_statement_per_level(
    gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    admin = await identity.platform_admin()
    alice = await identity.account("acme", email="alice@acme.example")
    bob = await identity.account("acme", email="bob@acme.example")
    gina = await identity.account("globex", email="gina@globex.example")
    alice_orders = await _orders(runtime, alice, 3)
    gina_orders = await _orders(runtime, gina, 1)
    await gql.warm(admin.token)  # the session's access state in memory: both requests cost the same

    with count_statements(runtime.db.engine) as small:
        data = (await gql(NESTED, token=admin.token)).ok()
    seen = _by_tenant(data)
    assert seen["acme"]["alice@acme.example"] == {
        "totalCount": 3,
        "pageInfo": {"hasNextPage": True},
        "edges": [{"node": {"number": number}} for number in alice_orders[:2]],  # oldest first
    }
    assert seen["acme"]["bob@acme.example"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False},
        "edges": [],
    }
    assert seen["globex"] == {
        "gina@globex.example": {
            "totalCount": 1,
            "pageInfo": {"hasNextPage": False},
            "edges": [{"node": {"number": gina_orders[0]}}],
        }
    }
    # tenants page, users of every tenant, their counts, orders of every user, counts
    assert len(_sql(small)) == 5, _sql(small)
    assert (small.checkouts, small.transactions) == (1, 0)

    for n in range(4):  # more users and orders: the same statements
        await _orders(runtime, await identity.account("globex", email=f"more{n}@globex.example"), 3)
    await _orders(runtime, bob, 2)
    with count_statements(runtime.db.engine) as large:
        data = (await gql(NESTED, token=admin.token)).ok()
    assert len(_by_tenant(data)["globex"]) == 5
    assert _by_tenant(data)["acme"]["bob@acme.example"]["totalCount"] == 2
    assert len(_sql(large)) == len(_sql(small)), _sql(large)


async def test_user_orders_pages_forward_and_backward(
    gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    buyer = await identity.account("acme")
    numbers = await _orders(runtime, buyer, 3)

    first = (await gql(MY_ORDERS, {"first": 2}, token=buyer.token)).ok()["me"]["orders"]
    assert [e["node"]["number"] for e in first["edges"]] == numbers[:2]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (
        await gql(MY_ORDERS, {"first": 2, "after": first["pageInfo"]["endCursor"]}, token=buyer.token)
    ).ok()["me"]["orders"]
    assert [e["node"]["number"] for e in rest["edges"]] == numbers[2:]
    assert rest["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "endCursor": rest["pageInfo"]["endCursor"],
    }
    newest = (await gql(MY_ORDERS, {"last": 1}, token=buyer.token)).ok()["me"]["orders"]
    assert [e["node"]["number"] for e in newest["edges"]] == numbers[2:]
    assert newest["pageInfo"]["hasPreviousPage"] is True

    refused = await gql(MY_ORDERS, {"first": 101}, token=buyer.token)
    assert refused.error_codes == ["BAD_USER_INPUT"], refused.body


async def test_relations_show_only_what_the_caller_may_see(
    gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    user = await identity.account("acme", email="user@acme.example")
    other = await identity.account("acme", email="other@acme.example")
    auditor = await identity.account("acme", Role.AUDITOR, email="auditor@acme.example")
    # Reading every user is admin-only (seed 004): the admin, who is order staff too.
    manager = await identity.account("acme", Role.TENANT_ADMIN, email="manager@acme.example")
    stranger = await identity.account("globex", Role.TENANT_ADMIN)
    other_orders = await _orders(runtime, other, 2)
    query = "{ me { tenant { users { totalCount edges { node { email orders { totalCount } } } } } } }"

    def listed(account: Account, data: dict[str, Any]) -> dict[str, int]:
        users = data["me"]["tenant"]["users"]
        assert users["totalCount"] == len(users["edges"])
        return {e["node"]["email"]: e["node"]["orders"]["totalCount"] for e in users["edges"]}

    # A plain user sees only themselves through the tenant.
    assert listed(user, (await gql(query, token=user.token)).ok()) == {"user@acme.example": 0}
    # So does an auditor (reading every user is the admin's).
    as_auditor = listed(auditor, (await gql(query, token=auditor.token)).ok())
    assert as_auditor == {"auditor@acme.example": 0}
    # Order staff see everyone's orders; the per-user page is filtered by the tenancy guard too.
    with count_statements(runtime.db.engine) as counter:
        as_manager = listed(manager, (await gql(query, token=manager.token)).ok())
    assert as_manager["other@acme.example"] == len(other_orders)
    (ranked,) = [s for s in counter.statements if "row_number()" in s and "FROM orders" in s]
    assert "orders.tenant_id =" in ranked, ranked
    # Another tenant's admin sees none of acme's users.
    as_stranger = listed(stranger, (await gql(query, token=stranger.token)).ok())
    assert "other@acme.example" not in as_stranger
