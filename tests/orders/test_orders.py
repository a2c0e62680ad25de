"""Placing orders and moving them through their life cycle, against PostgreSQL: totals from
pricing.py, snapshots, stock, numbers, userErrors that write nothing, transitions, history, events."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from core.errors import InvalidInput, NotFound
from core.permissions import Role
from core.scope import TenantScope
from models.catalog import ProductStatus
from models.orders import OrderStatus, OrderStatusChange
from server.runtime import Runtime
from services.orders import pricing
from services.orders.states import apply_refund, lock_order
from tests.orders.conftest import (
    ADDRESS,
    CANCEL,
    COMPLETE,
    CONFIRM,
    START_PROVISIONING,
    SUBMIT,
    Shop,
    amount,
    gid,
    line,
    new_shop,
    order_input,
    uuid_of,
)
from tests.support.graphql import GraphQLClient
from tests.support.identity import Identity

REFUNDS = "query($id: ID!) { order(id: $id) { refundedTotal { amount } statusHistory { to actor reason } } }"
ADD_TO_CART = """
mutation Add($input: AddToCartInput!) { addToCart(input: $input) { userErrors { code } } }
"""


def errors(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def test_an_order_from_items_is_priced_numbered_snapshotted_and_takes_stock(shop: Shop) -> None:
    buyer = await shop.account()
    await shop.settings(taxRateBps=1900, discountCodes={"WELCOME10": {"percentBps": 1000}})
    mug = await shop.product(1999, name="Mug", stock=10)
    tee = await shop.product(1500, sale=1050, name="Tee")  # stock not tracked

    order = await shop.place(
        buyer,
        line(mug, 3, {"colour": "blue"}),
        line(tee, 1),
        discountCode="welcome10",
        notes="  Leave at the door  ",
        billingAddress={**ADDRESS, "name": "Accounts", "country": "de"},
    )
    expected = pricing.price_order(
        [pricing.Line(1999, 3), pricing.Line(1050, 1)],
        discount=pricing.Discount(percent_bps=1000),
        tax_rate_bps=1900,
    )
    assert order["number"] == "ORD-000001"
    assert order["status"] == "PENDING"
    assert order["currency"] == "EUR"
    assert [
        amount(order[k]) for k in ("subtotal", "discountTotal", "taxTotal", "shippingTotal", "total")
    ] == [
        7047,
        705,
        1205,
        0,
        7547,
    ]
    assert expected.total == 7547
    assert order["refundedTotal"] == {"amount": 0, "currency": "EUR"}
    assert order["notes"] == "Leave at the door"
    assert order["shippingAddress"] == {
        **ADDRESS,
        "company": None,
        "line2": None,
        "state": None,
        "phone": None,
    }
    assert order["billingAddress"] == {**ADDRESS, "name": "Accounts", "country": "DE"}
    assert order["user"] == {"id": buyer.gid, "email": buyer.email}
    assert [
        (i["position"], i["name"], i["quantity"], amount(i["unitPrice"]), amount(i["subtotal"]))
        for i in order["items"]
    ] == [(0, "Mug", 3, 1999, 5997), (1, "Tee", 1, 1050, 1050)]
    assert [(amount(i["discount"]), amount(i["tax"]), amount(i["total"])) for i in order["items"]] == [
        (p.discount, p.tax, p.total) for p in expected.lines
    ]
    assert sum(amount(i["total"]) for i in order["items"]) == 7547
    assert order["items"][0]["attributes"] == {"colour": "blue"}
    assert order["items"][0]["product"] == {"id": gid("Product", mug), "name": "Mug"}
    assert [(h["from"], h["to"], h["actor"], h["actorUser"]) for h in order["statusHistory"]] == [
        (None, "PENDING", "user", {"id": buyer.gid})
    ]
    assert await shop.stock(mug) == 7
    assert await shop.stock(tee) is None

    # Items keep what was bought when the catalog changes later.
    await shop.set_product(mug, name="Renamed mug", base_price=5000)
    again = (
        await shop.gql(
            "query($id: ID!) { order(id: $id) { items { name unitPrice { amount } } } }",
            {"id": order["id"]},
            token=buyer.token,
        )
    ).ok()
    assert again["order"]["items"][0] == {"name": "Mug", "unitPrice": {"amount": 1999}}

    second = await shop.place(buyer, line(tee, 2))
    assert second["number"] == "ORD-000002"
    assert [amount(second[k]) for k in ("subtotal", "taxTotal", "total")] == [2100, 399, 2499]
    assert await shop.events() == [
        {
            "orderId": str(uuid_of(o["id"])),
            "userId": str(buyer.user_id),
            "from": None,
            "to": "PENDING",
            "actor": "user",
        }
        for o in (order, second)
    ]


async def test_numbers_are_per_tenant(shop: Shop, runtime: Runtime, identity: Identity) -> None:
    other = await new_shop(runtime, shop.gql, identity)
    ours = await shop.place(await shop.account(), line(await shop.product(), 1))
    theirs = await other.place(await other.account(), line(await other.product(), 1))
    assert ours["number"] == theirs["number"] == "ORD-000001"


async def test_an_order_from_the_cart_empties_it(shop: Shop, gql: GraphQLClient) -> None:
    buyer = await shop.account()
    a = await shop.product(800, stock=5)
    b = await shop.product(1200)
    empty = (await shop.create_order(buyer, {"fromCart": True, "shippingAddress": ADDRESS})).ok()[
        "createOrder"
    ]
    assert errors(empty) == [(["input", "fromCart"], "EMPTY_CART")] and empty["order"] is None
    for product, quantity in ((a, 2), (b, 1)):
        added = await gql(
            ADD_TO_CART,
            {
                "input": {
                    "productId": gid("Product", product),
                    "quantity": quantity,
                    "attributes": {"gift": True},
                }
            },
            token=buyer.token,
        )
        assert added.ok()["addToCart"]["userErrors"] == []

    payload = (await shop.create_order(buyer, {"fromCart": True, "shippingAddress": ADDRESS})).ok()[
        "createOrder"
    ]
    assert payload["userErrors"] == []
    order = payload["order"]
    assert order["number"] == "ORD-000001"  # the refused attempt used no number
    assert [(i["product"]["id"], i["quantity"], i["attributes"]) for i in order["items"]] == [
        (gid("Product", a), 2, {"gift": True}),
        (gid("Product", b), 1, {"gift": True}),
    ]
    assert amount(order["total"]) == 2800
    assert (await shop.counts())["cart_items"] == 0
    assert await shop.stock(a) == 3

    both = await shop.create_order(buyer, {"fromCart": True, **order_input(line(a, 1))})
    assert errors(both.ok()["createOrder"]) == [(["input", "items"], "INVALID_INPUT")]
    neither = await shop.create_order(buyer, {"shippingAddress": ADDRESS})
    assert errors(neither.ok()["createOrder"]) == [(["input", "items"], "REQUIRED")]


async def test_refused_orders_write_nothing(shop: Shop, gql: GraphQLClient) -> None:
    buyer = await shop.account()
    scarce = await shop.product(500, stock=2)
    plenty = await shop.product(700)
    dollars = await shop.product(700, currency="USD")
    archived = await shop.product(700, status=ProductStatus.ARCHIVED)
    await gql(ADD_TO_CART, {"input": {"productId": gid("Product", scarce), "quantity": 2}}, token=buyer.token)
    before = await shop.counts()

    async def refused(input: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
        payload = (await shop.create_order(buyer, input)).ok()["createOrder"]
        assert payload["order"] is None, payload
        return errors(payload)

    assert await refused(order_input(line(plenty, 1), line(scarce, 3))) == [
        (["input", "items", "1", "quantity"], "OUT_OF_STOCK")
    ]
    # Two lines of one product count together against its stock.
    assert await refused(order_input(line(scarce, 1), line(scarce, 2))) == [
        (["input", "items", "0", "quantity"], "OUT_OF_STOCK")
    ]
    assert await refused(order_input(line(plenty, 1), line(archived, 1), line(uuid.uuid4(), 1))) == [
        (["input", "items", "1", "productId"], "PRODUCT_UNAVAILABLE"),
        (["input", "items", "2", "productId"], "PRODUCT_UNAVAILABLE"),
    ]
    assert await refused(order_input(line(plenty, 1), line(dollars, 1))) == [
        (["input", "items"], "CURRENCY_MISMATCH")
    ]
    assert await refused(order_input(line(plenty, 0))) == [
        (["input", "items", "0", "quantity"], "INVALID_QUANTITY")
    ]
    assert await refused(order_input(line(plenty, 1), discountCode="NOPE")) == [
        (["input", "discountCode"], "INVALID_DISCOUNT_CODE")
    ]
    bad_address = {"name": " ", "line1": "1 Road", "city": "", "postalCode": "X" * 21, "country": "XX"}
    assert await refused(
        {
            "items": [line(plenty, 1)],
            "shippingAddress": bad_address,
            "billingAddress": {**ADDRESS, "country": "Germany"},
        }
    ) == [
        (["input", "shippingAddress", "name"], "REQUIRED"),
        (["input", "shippingAddress", "city"], "REQUIRED"),
        (["input", "shippingAddress", "postalCode"], "TOO_LONG"),
        (["input", "shippingAddress", "country"], "INVALID_COUNTRY"),
        (["input", "billingAddress", "country"], "INVALID_COUNTRY"),
    ]
    # The cart's stock problem: the cart stays as it was.
    await shop.set_product(scarce, stock_quantity=1)
    assert await refused({"fromCart": True, "shippingAddress": ADDRESS}) == [
        (["input", "fromCart"], "OUT_OF_STOCK")
    ]
    assert await shop.counts() == before
    assert await shop.stock(scarce) == 1


async def test_the_life_cycle_and_its_history(shop: Shop) -> None:
    buyer = await shop.account()
    manager = await shop.account(Role.MANAGER)
    order = await shop.place(buyer, line(await shop.product(2500), 2))
    oid = order["id"]

    submitted = await shop.move(SUBMIT, buyer, oid)
    assert submitted["userErrors"] == [] and submitted["order"]["status"] == "AWAITING_PAYMENT"

    # Confirming a payment, and starting and completing the fulfilment, are service-only: neither
    # staff nor the tenant's admin may.
    async def refused_to_staff(document: str) -> None:
        for account in (manager, shop.admin):
            forbidden = await shop.gql(document, {"input": {"id": oid}}, token=account.token)
            assert forbidden.error_codes == ["FORBIDDEN"]
            assert forbidden.errors[0]["extensions"]["reason"] == "SERVICE_ONLY"

    await refused_to_staff(CONFIRM)
    paid = await shop.move(CONFIRM, shop.operator, oid, reason="bank transfer 42")
    assert paid["order"]["status"] == "PAID" and paid["order"]["paidAt"] is not None
    await refused_to_staff(START_PROVISIONING)
    provisioning = await shop.move(START_PROVISIONING, shop.operator, oid)
    assert provisioning["order"]["status"] == "PROVISIONING"
    await refused_to_staff(COMPLETE)
    completed = await shop.move(COMPLETE, shop.operator, oid)
    assert [
        (h["from"], h["to"], h["actor"], h["reason"], h["actorUser"])
        for h in completed["order"]["statusHistory"]
    ] == [
        (None, "PENDING", "user", None, {"id": buyer.gid}),
        ("PENDING", "AWAITING_PAYMENT", "user", None, {"id": buyer.gid}),
        # A platform admin ran the service-only steps (seen here by that platform admin).
        ("AWAITING_PAYMENT", "PAID", "admin", "bank transfer 42", {"id": shop.operator.gid}),
        ("PAID", "PROVISIONING", "admin", None, {"id": shop.operator.gid}),
        ("PROVISIONING", "COMPLETED", "admin", None, {"id": shop.operator.gid}),
    ]
    # The owner and the tenant's admin see who acted only where they may see that user: not the
    # platform admin, a user of another tenant.
    for viewer in (buyer, shop.admin):
        as_viewer = await shop.gql(
            "query($id: ID!) { order(id: $id) { statusHistory { actorUser { id } } } }",
            {"id": oid},
            token=viewer.token,
        )
        assert [h["actorUser"] for h in as_viewer.ok()["order"]["statusHistory"]] == [
            {"id": buyer.gid},
            {"id": buyer.gid},
            None,
            None,
            None,
        ]
    assert [(e["from"], e["to"]) for e in await shop.events()] == [
        (None, "PENDING"),
        ("PENDING", "AWAITING_PAYMENT"),
        ("AWAITING_PAYMENT", "PAID"),
        ("PAID", "PROVISIONING"),
        ("PROVISIONING", "COMPLETED"),
    ]


async def test_an_order_can_be_submitted_as_it_is_created(shop: Shop) -> None:
    buyer = await shop.account()
    mug = await shop.product(1500, stock=3)
    order = await shop.place(buyer, line(mug, 2), submit=True)
    assert order["status"] == "AWAITING_PAYMENT"
    history = await shop.gql(
        "query($id: ID!) { order(id: $id) { statusHistory { from to actor } } }",
        {"id": order["id"]},
        token=buyer.token,
    )
    assert history.ok()["order"]["statusHistory"] == [
        {"from": None, "to": "PENDING", "actor": "user"},
        {"from": "PENDING", "to": "AWAITING_PAYMENT", "actor": "user"},
    ]
    assert [(e["from"], e["to"]) for e in await shop.events()] == [
        (None, "PENDING"),
        ("PENDING", "AWAITING_PAYMENT"),
    ]
    assert await shop.stock(mug) == 1
    # Refused input places nothing, submitted or not.
    before = await shop.counts()
    refused = (await shop.create_order(buyer, order_input(line(mug, 5), submit=True))).ok()["createOrder"]
    assert (refused["order"], [e["code"] for e in refused["userErrors"]]) == (None, ["OUT_OF_STOCK"])
    assert await shop.counts() == before


async def test_an_illegal_transition_is_a_user_error_and_changes_nothing(shop: Shop) -> None:
    buyer = await shop.account()
    order = await shop.place(buyer, line(await shop.product(1000, stock=4), 1))
    oid = order["id"]
    for document in (CONFIRM, START_PROVISIONING, COMPLETE):
        before = await shop.counts()
        row_before = await shop.order_row(oid)
        refused = await shop.move(document, shop.operator, oid)
        assert refused["order"] is None
        assert errors(refused) == [(None, "INVALID_TRANSITION")]
        assert "PENDING" in refused["userErrors"][0]["message"]
        row_after = await shop.order_row(oid)
        assert (row_after.status, row_after.paid_at, row_after.updated_at) == (
            OrderStatus.PENDING,
            None,
            row_before.updated_at,
        )
        assert await shop.counts() == before


async def test_cancelling_gives_the_stock_back_once(shop: Shop) -> None:
    buyer = await shop.account()
    support = await shop.account(Role.SUPPORT_AGENT)
    product = await shop.product(1000, stock=5)
    first = await shop.place(buyer, line(product, 2))
    second = await shop.place(buyer, line(product, 1))
    assert await shop.stock(product) == 2

    cancelled = await shop.move(CANCEL, buyer, first["id"], reason="changed my mind")
    assert cancelled["order"]["status"] == "CANCELLED" and cancelled["order"]["cancelledAt"] is not None
    assert await shop.stock(product) == 4
    again = await shop.move(CANCEL, buyer, first["id"])
    assert errors(again) == [(None, "INVALID_TRANSITION")]
    assert await shop.stock(product) == 4

    await shop.move(SUBMIT, buyer, second["id"])
    by_staff = await shop.move(CANCEL, support, second["id"])
    assert by_staff["order"]["statusHistory"][-1]["actor"] == "staff"
    assert await shop.stock(product) == 5
    # A cancelled order cannot be paid.
    assert errors(await shop.move(CONFIRM, shop.operator, second["id"])) == [(None, "INVALID_TRANSITION")]


async def test_other_users_and_tenants_cannot_move_an_order(
    shop: Shop, runtime: Runtime, identity: Identity
) -> None:
    buyer = await shop.account()
    stranger = await shop.account()
    other_admin = (await new_shop(runtime, shop.gql, identity)).admin
    order = await shop.place(buyer, line(await shop.product(), 1))
    attempts = [(SUBMIT, stranger), (CANCEL, stranger), (SUBMIT, other_admin), (CANCEL, other_admin)]
    for document, account in attempts:
        result = await shop.gql(document, {"input": {"id": order["id"]}}, token=account.token)
        assert result.error_codes == ["NOT_FOUND"] and result.errors[0]["message"] == "Order not found."
    assert (await shop.order_row(order["id"])).status == OrderStatus.PENDING
    assert (await shop.counts())["history"] == 1


async def test_refunds_for_billing_move_the_order(shop: Shop, runtime: Runtime) -> None:
    """The helpers the billing engineer calls: lock_order, then apply_refund (through move)."""
    buyer = await shop.account()
    order = await shop.place(buyer, line(await shop.product(1000), 3))
    await shop.move(SUBMIT, buyer, order["id"])
    await shop.move(CONFIRM, shop.operator, order["id"])
    scope = TenantScope.of(shop.tenant_id)
    async with runtime.db.transaction(scope) as session:
        row = await lock_order(session, uuid_of(order["id"]))
        apply_refund(session, row, 1000, actor="webhook:stripe", reason="one mug broken")
    async with runtime.db.transaction(scope) as session:
        row = await lock_order(session, uuid_of(order["id"]))
        with pytest.raises(InvalidInput) as refused:
            apply_refund(session, row, 2001, actor="service")
        assert [p.code for p in refused.value.problems] == ["INVALID_AMOUNT"]
    async with runtime.db.transaction(scope) as session:
        row = await lock_order(session, uuid_of(order["id"]))
        apply_refund(session, row, 2000, actor="service")
    final = await shop.order_row(order["id"])
    assert (final.status, final.refunded_total) == (OrderStatus.REFUNDED, 3000)
    async with runtime.db.session(scope) as session:
        with pytest.raises(NotFound, match="Order not found"):
            await lock_order(session, uuid.uuid4())
    history = (
        await shop.gql(
            REFUNDS,
            {"id": order["id"]},
            token=buyer.token,
        )
    ).ok()["order"]
    assert history["refundedTotal"] == {"amount": 3000}
    assert [(h["to"], h["actor"], h["reason"]) for h in history["statusHistory"][-2:]] == [
        ("PARTIALLY_REFUNDED", "webhook:stripe", "one mug broken"),
        ("REFUNDED", "service", None),
    ]
    async with runtime.db.session(scope) as session:
        count = len(
            list(
                await session.scalars(select(OrderStatusChange).where(OrderStatusChange.order_id == final.id))
            )
        )
    assert count == 5


async def test_concurrent_orders_for_the_last_unit_sell_it_once(shop: Shop) -> None:
    buyers = [await shop.account() for _ in range(3)]
    last = await shop.product(990, stock=1)
    results = await asyncio.gather(*(shop.create_order(b, order_input(line(last, 1))) for b in buyers))
    payloads = [r.ok()["createOrder"] for r in results]
    placed = [p["order"]["number"] for p in payloads if p["order"]]
    refused = [errors(p) for p in payloads if not p["order"]]
    assert placed == ["ORD-000001"]
    assert refused == [[(["input", "items", "0", "quantity"], "OUT_OF_STOCK")]] * 2
    assert await shop.stock(last) == 0
    assert (await shop.counts())["counter"] == 1
