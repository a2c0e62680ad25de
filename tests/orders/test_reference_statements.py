"""The benchmark's reference operations (issue: speed): their SQL statements are counted here, and
none of them grows with the rows it returns. Sign-in checks (auth_sessions) and the outbox
dispatcher's polling are left out of the counts: they are not the operation's own."""

from __future__ import annotations

import uuid
from typing import Any

from core.permissions import Role
from core.scope import TenantScope
from models.catalog import Category, Product
from tests.billing.support import make_order
from tests.orders.conftest import SUBMIT_BRIEF, Shop, gid, line, order_input
from tests.support.graphql import StatementCounter, count_statements
from tests.support.identity import Account

Q1 = "query($id: ID!) { product(id: $id) { name category { name } } }"
Q2 = "{ products(first: 50) { edges { node { id sku name price { amount currency } } } } }"
Q3 = "{ orders(first: 20) { edges { node { number user { email } items { name product { name } } } } } }"
Q5 = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { name } } }"


def own(counter: StatementCounter) -> list[str]:
    return [s for s in counter.statements if "outbox_events" not in s and "FROM auth_sessions" not in s]


async def _products(shop: Shop, count: int) -> list[uuid.UUID]:
    category = Category(
        id=uuid.uuid4(), tenant_id=shop.tenant_id, name="Routers", slug=f"r-{uuid.uuid4().hex[:8]}"
    )
    async with shop.db.transaction(TenantScope.of(shop.tenant_id)) as session:
        session.add(category)
    ids = [await shop.product(name=f"Router {n}") for n in range(count)]
    async with shop.db.transaction(TenantScope.of(shop.tenant_id)) as session:
        for product_id in ids:
            (await session.get(Product, product_id)).category_id = category.id  # type: ignore[union-attr]
    return ids


async def _run(
    shop: Shop, account: Account, query: str, variables: dict[str, Any] | None = None
) -> tuple[Any, list[str]]:
    with count_statements(shop.db.engine) as counter:
        data = (await shop.gql(query, variables, token=account.token)).ok()
    return data, own(counter)


async def test_reads_cost_statements_by_depth_not_rows(shop: Shop) -> None:
    manager = await shop.account(Role.MANAGER)
    few, many = await _products(shop, 2), await _products(shop, 60)

    for ids in (few, many):
        data, sql = await _run(shop, manager, Q1, {"id": gid("Product", ids[0])})
        assert data["product"]["category"] == {"name": "Routers"}
        assert len(sql) == 2, sql  # product, category

    data, sql = await _run(shop, manager, Q2)
    assert len(data["products"]["edges"]) == 50
    assert len(sql) == 1, sql  # the page

    buyers = [await shop.account() for _ in range(10)]
    for n, buyer in enumerate(buyers):
        for _ in range(2 + n % 3):
            await make_order(shop.runtime, buyer, [("SKU-X", "Router", 1000, 1), ("SKU-Y", "Cable", 500, 2)])
    data, sql = await _run(shop, manager, Q3)
    orders = [edge["node"] for edge in data["orders"]["edges"]]
    assert len(orders) == 20
    assert {order["user"]["email"] for order in orders} <= {buyer.email for buyer in buyers}
    assert all([item["name"] for item in order["items"]] == ["Router", "Cable"] for order in orders)
    assert len(sql) == 3, sql  # orders page, users, items (no product: the items name none)

    aliased = " ".join(
        f'u{n}: user(id: "{buyer.gid}") {{ orders(first: 5) {{ edges {{ node {{ number }} }} }} }}'
        for n, buyer in enumerate(buyers)
    )
    # Reading other users by id is the admin's (seed 004).
    data, sql = await _run(shop, shop.admin, "{ " + aliased + " }")
    assert [len(data[f"u{n}"]["orders"]["edges"]) for n in range(10)] == [2 + n % 3 for n in range(10)]
    assert len(sql) == 2, sql  # users, the orders of all ten

    representations = [{"__typename": "Product", "id": gid("Product", i)} for i in many[:50] + few]
    data, sql = await _run(shop, manager, Q5, {"r": representations})
    assert len(data["_entities"]) == 52 and data["_entities"][-1]["name"] == "Router 1"
    assert len(sql) == 1, sql  # one batch for every representation


async def test_checkout_mix_statements_do_not_grow_with_lines(shop: Shop) -> None:
    """addToCart costs the same each time once the cart exists; createOrder and submitOrder cost
    the same for one line as for five (items are written and read in batches)."""
    buyer = await shop.account()
    products = [await shop.product() for _ in range(6)]
    adds: list[int] = []

    async def checkout(items: list[uuid.UUID], key: str) -> tuple[int, int]:
        for product_id in items:
            with count_statements(shop.db.engine) as counter:
                added = await shop.gql(
                    "mutation($i: AddToCartInput!) { addToCart(input: $i) { userErrors { code } } }",
                    {"i": {"productId": gid("Product", product_id), "quantity": 1}},
                    token=buyer.token,
                )
            assert added.ok()["addToCart"]["userErrors"] == []
            adds.append(len(own(counter)))
        with count_statements(shop.db.engine) as created_counter:
            created = await shop.create_order(
                buyer, order_input(*(line(p, 1) for p in items)), headers={"Idempotency-Key": key}
            )
        order = created.ok()["createOrder"]["order"]
        with count_statements(shop.db.engine) as submitted_counter:
            submitted = await shop.move(SUBMIT_BRIEF, buyer, order["id"])
        assert submitted["order"]["status"] == "AWAITING_PAYMENT"
        return len(own(created_counter)), len(own(submitted_counter))

    one_line = await checkout(products[:1], "mix-1")
    five_lines = await checkout(products[1:6], "mix-5")
    assert one_line == five_lines, (one_line, five_lines)
    assert len(set(adds[1:])) == 1 and adds[0] <= adds[1], adds  # the first add made the cart
