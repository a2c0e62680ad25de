"""Reading orders: who may see which order, the orders connection, statistics, and the SQL cost of
a list (constant in the number of rows)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from core.permissions import Role
from core.scope import TenantScope
from models.orders import Order, OrderStatus
from server.runtime import Runtime
from tests.orders.conftest import SUBMIT, SUBMIT_BRIEF, Shop, gid, line, new_shop, uuid_of
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import Account, Identity

NUMBER = "query($id: ID!) { order(id: $id) { number user { email } } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Order { number status } } }"
ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Order { id number total { amount currency } } }
}
"""
ORDERS = """
query Orders($filter: OrderFilterInput, $orderBy: OrderSortInput, $first: Int, $after: String) {
  orders(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { number status total { amount } user { email } }
  }
}
"""
STATISTICS = """
query Stats($from: DateTime!, $to: DateTime!) {
  orderStatistics(from: $from, to: $to) {
    from to
    countsByStatus { status count }
    currencies {
      currency paidOrders revenue { amount currency } averageOrderValue { amount currency }
      revenueByDay { period orders revenue { amount } }
      revenueByMonth { period orders revenue { amount } }
    }
  }
}
"""


async def _set_order(runtime: Runtime, order_gid: str, **values: Any) -> None:
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        await session.execute(update(Order).where(Order.id == uuid_of(order_gid)).values(**values))


async def test_an_order_is_read_by_its_owner_and_the_tenant_staff_only(
    shop: Shop, gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    buyer = await shop.account()
    order = await shop.place(buyer, line(await shop.product(1234), 1))
    oid = order["id"]
    readers = [buyer, shop.admin] + [await shop.account(role) for role in (Role.MANAGER, Role.SUPPORT_AGENT)]
    for reader in readers:
        assert (await gql(NUMBER, {"id": oid}, token=reader.token)).ok()["order"] == {
            "number": "ORD-000001",
            "user": {"email": buyer.email},
        }
        assert (await gql(NODE, {"id": oid}, token=reader.token)).ok()["node"] == {
            "id": oid,
            "number": "ORD-000001",
            "status": "PENDING",
        }
    other_shop = await new_shop(runtime, gql, identity)
    outsiders = [await shop.account(), await shop.account(Role.AUDITOR), other_shop.admin]
    unknown = gid("Order", uuid.uuid4())
    for outsider in outsiders:
        for order_id in (oid, unknown):
            for document in (NUMBER, NODE):
                result = await gql(document, {"id": order_id}, token=outsider.token)
                # Out of reach looks exactly like never existing.
                assert result.data is None and result.error_codes == ["NOT_FOUND"], result.body
                assert result.errors[0]["message"] == "Order not found."
    representation = {"__typename": "Order", "id": oid, "extra": "ignored"}
    entities = await gql(ENTITIES, {"representations": [representation]}, token=shop.admin.token)
    assert entities.ok()["_entities"] == [
        {"id": oid, "number": "ORD-000001", "total": {"amount": 1234, "currency": "EUR"}}
    ]
    hidden = await gql(ENTITIES, {"representations": [representation]}, token=other_shop.admin.token)
    assert hidden.error_codes == ["NOT_FOUND"]
    assert (await gql(NUMBER, {"id": oid})).error_codes == ["UNAUTHENTICATED"]


async def _orders(gql: GraphQLClient, account: Account, **variables: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await gql(ORDERS, variables, token=account.token)).ok()["orders"]
    return result


async def test_the_orders_connection_filters_sorts_and_pages(
    shop: Shop, gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    alice, bob = await shop.account(), await shop.account()
    manager = await shop.account(Role.MANAGER)
    product = await shop.product(100)
    placed = []
    for buyer, quantity in ((alice, 5), (bob, 2), (alice, 9), (bob, 1), (alice, 3)):
        placed.append(await shop.quick(buyer, line(product, quantity)))
    await shop.move(SUBMIT, alice, placed[2]["id"])
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for n, order in enumerate(placed):
        await _set_order(runtime, order["id"], created_at=start + timedelta(days=n))

    mine = await _orders(gql, alice)
    assert mine["totalCount"] == 3
    # Newest first by default.
    assert [o["number"] for o in mine["nodes"]] == ["ORD-000005", "ORD-000003", "ORD-000001"]
    assert {o["user"]["email"] for o in mine["nodes"]} == {alice.email}
    # A user's filter cannot reach another user's orders.
    assert (await _orders(gql, alice, filter={"userId": bob.gid}))["nodes"] == []

    everything = await _orders(gql, manager)
    assert everything["totalCount"] == 5
    assert [o["number"] for o in everything["nodes"]] == [f"ORD-00000{n}" for n in (5, 4, 3, 2, 1)]
    bobs = await _orders(gql, manager, filter={"userId": bob.gid})
    assert [o["number"] for o in bobs["nodes"]] == ["ORD-000004", "ORD-000002"]
    waiting = await _orders(gql, manager, filter={"status": "AWAITING_PAYMENT"})
    assert [(o["number"], o["status"]) for o in waiting["nodes"]] == [("ORD-000003", "AWAITING_PAYMENT")]
    searched = await _orders(gql, manager, filter={"search": "ord-000004"})
    assert [o["number"] for o in searched["nodes"]] == ["ORD-000004"]
    window = {
        "createdAfter": (start + timedelta(days=1)).isoformat(),
        "createdBefore": (start + timedelta(days=3)).isoformat(),
    }
    assert [o["number"] for o in (await _orders(gql, manager, filter=window))["nodes"]] == [
        "ORD-000003",
        "ORD-000002",
    ]
    by_total = await _orders(gql, manager, orderBy={"field": "TOTAL", "direction": "ASC"})
    assert [o["total"]["amount"] for o in by_total["nodes"]] == [100, 200, 300, 500, 900]
    by_number = await _orders(gql, manager, orderBy={"field": "NUMBER", "direction": "ASC"}, first=2)
    assert [o["number"] for o in by_number["nodes"]] == ["ORD-000001", "ORD-000002"]
    assert by_number["pageInfo"]["hasNextPage"] is True
    rest = await _orders(
        gql,
        manager,
        orderBy={"field": "NUMBER", "direction": "ASC"},
        first=5,
        after=by_number["pageInfo"]["endCursor"],
    )
    assert [o["number"] for o in rest["nodes"]] == ["ORD-000003", "ORD-000004", "ORD-000005"]
    assert rest["pageInfo"]["hasNextPage"] is False
    too_many = await gql(ORDERS, {"first": 101}, token=manager.token)
    assert too_many.error_codes == ["BAD_USER_INPUT"]

    # Another tenant's staff see none of it.
    other_shop = await new_shop(runtime, gql, identity)
    assert (await _orders(gql, other_shop.admin))["totalCount"] == 0


async def test_order_statistics(shop: Shop, gql: GraphQLClient, runtime: Runtime) -> None:
    buyer = await shop.account()
    manager = await shop.account(Role.MANAGER)
    euro = await shop.product(1000)
    dollar = await shop.product(2500, currency="USD")
    day = datetime(2026, 1, 30, 12, tzinfo=UTC)
    # (product, quantity, status, refunded, created)
    plan = [
        (euro, 1, OrderStatus.PAID, 0, day),
        (euro, 2, OrderStatus.COMPLETED, 0, day + timedelta(hours=3)),
        (euro, 3, OrderStatus.PARTIALLY_REFUNDED, 500, day + timedelta(days=2)),  # February 1st
        (euro, 4, OrderStatus.PENDING, 0, day + timedelta(days=2)),
        (euro, 5, OrderStatus.CANCELLED, 0, day),
        (euro, 6, OrderStatus.REFUNDED, 6000, day),
        (dollar, 1, OrderStatus.PROVISIONING, 0, day + timedelta(days=3)),
        (euro, 7, OrderStatus.PAID, 0, day - timedelta(days=40)),  # before the range
    ]
    for product, quantity, status, refunded, created in plan:
        order = await shop.quick(buyer, line(product, quantity))
        await _set_order(runtime, order["id"], status=status, refunded_total=refunded, created_at=created)

    variables = {"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}
    stats = (await gql(STATISTICS, variables, token=manager.token)).ok()["orderStatistics"]
    assert stats["from"] == "2026-01-01T00:00:00+00:00" and stats["to"] == "2026-03-01T00:00:00+00:00"
    counts = {c["status"]: c["count"] for c in stats["countsByStatus"]}
    assert counts == {
        "PENDING": 1,
        "AWAITING_PAYMENT": 0,
        "PAID": 1,
        "PROVISIONING": 1,
        "COMPLETED": 1,
        "CANCELLED": 1,
        "PARTIALLY_REFUNDED": 1,
        "REFUNDED": 1,
    }
    eur, usd = stats["currencies"]
    # Paid: 1000 + 2000 + (3000 - 500) = 5500 over three orders.
    assert eur == {
        "currency": "EUR",
        "paidOrders": 3,
        "revenue": {"amount": 5500, "currency": "EUR"},
        "averageOrderValue": {"amount": 1833, "currency": "EUR"},
        "revenueByDay": [
            {"period": "2026-01-30", "orders": 2, "revenue": {"amount": 3000}},
            {"period": "2026-02-01", "orders": 1, "revenue": {"amount": 2500}},
        ],
        "revenueByMonth": [
            {"period": "2026-01", "orders": 2, "revenue": {"amount": 3000}},
            {"period": "2026-02", "orders": 1, "revenue": {"amount": 2500}},
        ],
    }
    assert usd["currency"] == "USD" and usd["revenue"] == {"amount": 2500, "currency": "USD"}
    assert usd["revenueByDay"] == [{"period": "2026-02-02", "orders": 1, "revenue": {"amount": 2500}}]

    assert (await gql(STATISTICS, variables, token=shop.admin.token)).ok()["orderStatistics"]["currencies"][
        0
    ] == eur
    for account in (buyer, await shop.account(Role.SUPPORT_AGENT)):
        assert (await gql(STATISTICS, variables, token=account.token)).error_codes == ["FORBIDDEN"]
    too_long = {"from": "2026-01-01T00:00:00Z", "to": "2027-03-01T00:00:00Z"}
    assert (await gql(STATISTICS, too_long, token=manager.token)).error_codes == ["BAD_USER_INPUT"]
    backwards = {"from": variables["to"], "to": variables["from"]}
    assert (await gql(STATISTICS, backwards, token=manager.token)).error_codes == ["BAD_USER_INPUT"]


LIST_COST = """
query($first: Int) {
  orders(first: $first) {
    edges { node { number items { product { name } } user { email } statusHistory { to } } }
  }
}
"""


async def test_a_list_costs_the_same_statements_for_5_and_40_orders(
    shop: Shop, gql: GraphQLClient, runtime: Runtime
) -> None:
    buyers = [await shop.account() for _ in range(3)]
    products = [await shop.product(100 + n) for n in range(4)]
    for n in range(50):
        order = await shop.quick(buyers[n % 3], line(products[n % 4], 1), line(products[(n + 1) % 4], 2))
        if n % 5 == 0:
            submitted = await shop.move(SUBMIT_BRIEF, buyers[n % 3], order["id"])
            assert submitted["order"]["status"] == "AWAITING_PAYMENT"

    def statements(counter: Any) -> list[str]:
        # The outbox dispatcher polls the same engine meanwhile.
        return [s for s in counter.statements if "outbox_events" not in s]

    costs = {}
    await gql.warm(shop.admin.token)
    # 40, not 50: 50 orders of 100 items each would cost more than the default query budget.
    for first in (5, 40):
        with count_statements(runtime.db.engine) as counter:
            data = (await gql(LIST_COST, {"first": first}, token=shop.admin.token)).ok()
        edges = data["orders"]["edges"]
        assert len(edges) == first
        assert all(len(e["node"]["items"]) == 2 and e["node"]["items"][0]["product"]["name"] for e in edges)
        assert all(e["node"]["statusHistory"][0]["to"] == "PENDING" for e in edges)
        assert {e["node"]["user"]["email"] for e in edges} == {b.email for b in buyers}
        costs[first] = statements(counter)
    assert len(costs[5]) == len(costs[40]), (costs[5], costs[40])
    # The page, and one batch each for items, products, users and history (the session's access
    # state is held in memory).
    assert len(costs[40]) <= 7, costs[40]
