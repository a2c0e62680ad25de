"""Shipping methods and the checkout's shipping and payment-method choices against PostgreSQL:
staff write methods, buyers list the active ones, checkout prices the chosen one into the order
(free over a threshold), physical items need an address and a method, digital-only orders need
neither, a saved card of the buyer is kept on the order; every refusal writes nothing; tenant
isolation; the SQL cost of reading orders' methods."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete

from core.scope import TenantScope
from models.base import utcnow
from models.billing import PaymentMethod
from server.runtime import Runtime
from services.orders import pricing
from tests.orders.conftest import ADDRESS, Shop, amount, gid, line, new_shop, uuid_of
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import Account, Identity

METHOD_FIELDS = "id code name price { amount currency } freeOver { amount } active position"
CREATE_METHOD = f"""
mutation($input: CreateShippingMethodInput!) {{
  createShippingMethod(input: $input) {{ shippingMethod {{ {METHOD_FIELDS} }} userErrors {{ field code }} }}
}}
"""
UPDATE_METHOD = f"""
mutation($input: UpdateShippingMethodInput!) {{
  updateShippingMethod(input: $input) {{ shippingMethod {{ {METHOD_FIELDS} }} userErrors {{ field code }} }}
}}
"""
DEACTIVATE_METHOD = """
mutation($input: DeactivateShippingMethodInput!) {
  deactivateShippingMethod(input: $input) { shippingMethod { active } userErrors { field code } }
}
"""
LIST_METHODS = """
query($all: Boolean! = false) {
  shippingMethods(includeInactive: $all) { totalCount nodes { code active } }
}
"""
PLACE = """
mutation($input: CreateOrderInput!) {
  createOrder(input: $input) {
    order {
      id subtotal { amount } taxTotal { amount } shippingTotal { amount } total { amount }
      shippingAddress { city } shippingMethod { code } paymentMethod { last4 }
    }
    userErrors { field code }
  }
}
"""
SET_DIGITAL = """
mutation($input: UpdateProductInput!) {
  updateProduct(input: $input) { product { isDigital } userErrors { field code } }
}
"""


async def create_method(shop: Shop, **fields: Any) -> dict[str, Any]:
    fields.setdefault("name", fields["code"].title())
    created = (await shop.gql(CREATE_METHOD, {"input": fields}, token=shop.admin.token)).ok()
    payload: dict[str, Any] = created["createShippingMethod"]
    assert payload["userErrors"] == [], payload
    method: dict[str, Any] = payload["shippingMethod"]
    return method


def eur(minor: int) -> dict[str, Any]:
    return {"amount": minor, "currency": "EUR"}


async def place(shop: Shop, buyer: Account, *items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    given = {"items": list(items), **extra}
    payload: dict[str, Any] = (await shop.gql(PLACE, {"input": given}, token=buyer.token)).ok()["createOrder"]
    return payload


def refusals(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def saved_card(shop: Shop, buyer: Account, *, exp_year: int, last4: str = "4242") -> uuid.UUID:
    row = PaymentMethod(
        id=uuid.uuid4(),
        tenant_id=shop.tenant_id,
        user_id=buyer.user_id,
        provider="stripe",
        provider_method_id=f"pm_{uuid.uuid4().hex}",
        brand="visa",
        last4=last4,
        exp_month=12,
        exp_year=exp_year,
        is_default=True,
    )
    async with shop.db.transaction(TenantScope.of(shop.tenant_id)) as session:
        session.add(row)
    return row.id


async def test_the_chosen_method_is_priced_into_the_order(shop: Shop) -> None:
    await shop.settings(taxRateBps=1000)
    buyer = await shop.account()
    mug = await shop.product(2000)
    standard = await create_method(shop, code="standard", price=eur(500), freeOver=5000, position=1)
    express = await create_method(shop, code="EXPRESS", price=eur(1500), position=0)
    assert (standard["code"], standard["freeOver"], express["code"]) == (
        "STANDARD",
        {"amount": 5000},
        "EXPRESS",
    )

    listed = (await shop.gql(LIST_METHODS, {}, token=buyer.token)).ok()["shippingMethods"]
    assert listed == {
        "totalCount": 2,
        "nodes": [{"code": "EXPRESS", "active": True}, {"code": "STANDARD", "active": True}],
    }

    order = (
        await place(shop, buyer, line(mug, 1), shippingAddress=ADDRESS, shippingMethodId=standard["id"])
    )["order"]
    expected = pricing.price_order([pricing.Line(2000, 1)], tax_rate_bps=1000, shipping=500)
    assert (amount(order["shippingTotal"]), amount(order["taxTotal"]), amount(order["total"])) == (
        500,
        expected.tax,
        expected.total,
    )
    assert order["total"]["amount"] == 2000 + 200 + 500  # shipping is not taxed
    assert order["shippingMethod"] == {"code": "STANDARD"}
    # At the threshold it ships for 0; the express method has none.
    free = (await place(shop, buyer, line(mug, 3), shippingAddress=ADDRESS, shippingMethodId=standard["id"]))[
        "order"
    ]
    assert (amount(free["subtotal"]), amount(free["shippingTotal"])) == (6000, 0)
    fast = (await place(shop, buyer, line(mug, 3), shippingAddress=ADDRESS, shippingMethodId=express["id"]))[
        "order"
    ]
    assert amount(fast["shippingTotal"]) == 1500
    row = await shop.order_row(fast["id"])
    assert (row.shipping_total, row.shipping_method_id) == (1500, uuid_of(express["id"]))


async def test_physical_and_digital_items(shop: Shop) -> None:
    buyer = await shop.account()
    mug = await shop.product(1000)
    ebook = await shop.product(800)
    done = (
        await shop.gql(
            SET_DIGITAL, {"input": {"id": gid("Product", ebook), "isDigital": True}}, token=shop.admin.token
        )
    ).ok()["updateProduct"]
    assert done == {"product": {"isDigital": True}, "userErrors": []}
    nulled = (
        await shop.gql(
            SET_DIGITAL, {"input": {"id": gid("Product", ebook), "isDigital": None}}, token=shop.admin.token
        )
    ).ok()["updateProduct"]
    assert refusals(nulled) == [(["input", "isDigital"], "REQUIRED")]

    # A tenant without methods ships for 0, as before; the address is still needed for a mug.
    no_address = await place(shop, buyer, line(mug, 1))
    assert refusals(no_address) == [(["input", "shippingAddress"], "REQUIRED")]
    digital = (await place(shop, buyer, line(ebook, 2)))["order"]
    assert (digital["shippingAddress"], digital["shippingMethod"], amount(digital["shippingTotal"])) == (
        None,
        None,
        0,
    )

    standard = await create_method(shop, code="STANDARD", price=eur(500))
    before = await shop.counts()
    assert refusals(await place(shop, buyer, line(mug, 1), line(ebook, 1), shippingAddress=ADDRESS)) == [
        (["input", "shippingMethodId"], "SHIPPING_METHOD_REQUIRED")
    ]
    assert refusals(await place(shop, buyer, line(ebook, 1), shippingMethodId=standard["id"])) == [
        (["input", "shippingMethodId"], "SHIPPING_NOT_NEEDED")
    ]
    assert await shop.counts() == before
    mixed = (
        await place(
            shop,
            buyer,
            line(mug, 1),
            line(ebook, 1),
            shippingAddress=ADDRESS,
            shippingMethodId=standard["id"],
        )
    )["order"]
    assert (amount(mixed["shippingTotal"]), mixed["shippingAddress"]) == (500, {"city": ADDRESS["city"]})


async def test_refused_methods_write_nothing(shop: Shop) -> None:
    buyer = await shop.account()
    mug = await shop.product(1000)
    dollars = await create_method(shop, code="USPS", price={"amount": 700, "currency": "USD"})
    gone = await create_method(shop, code="GONE", price=eur(100))
    await create_method(shop, code="STANDARD", price=eur(300))
    done = (await shop.gql(DEACTIVATE_METHOD, {"input": {"id": gone["id"]}}, token=shop.admin.token)).ok()
    assert done["deactivateShippingMethod"] == {"shippingMethod": {"active": False}, "userErrors": []}
    before = (await shop.counts(), await shop.stock(mug))
    for method, error in (
        (dollars["id"], "SHIPPING_METHOD_CURRENCY_MISMATCH"),
        (gone["id"], "SHIPPING_METHOD_UNKNOWN"),
        (gid("ShippingMethod", uuid.uuid4()), "SHIPPING_METHOD_UNKNOWN"),
    ):
        refused = await place(shop, buyer, line(mug, 1), shippingAddress=ADDRESS, shippingMethodId=method)
        assert (refused["order"], refusals(refused)) == (None, [(["input", "shippingMethodId"], error)])
    assert (await shop.counts(), await shop.stock(mug)) == before
    # The deactivated one is listed to staff asking for it only.
    assert (await shop.gql(LIST_METHODS, {"all": True}, token=buyer.token)).ok()["shippingMethods"][
        "totalCount"
    ] == 2
    staff = (await shop.gql(LIST_METHODS, {"all": True}, token=shop.admin.token)).ok()["shippingMethods"]
    assert sorted((n["code"], n["active"]) for n in staff["nodes"]) == [
        ("GONE", False),
        ("STANDARD", True),
        ("USPS", True),
    ]


async def test_staff_write_methods_buyers_cannot(shop: Shop) -> None:
    buyer = await shop.account()
    denied = await shop.gql(
        CREATE_METHOD, {"input": {"code": "X", "name": "X", "price": eur(1)}}, token=buyer.token
    )
    assert denied.error_codes == ["FORBIDDEN"]
    method = await create_method(shop, code="STANDARD", price=eur(500), freeOver=4000)
    bad = (
        await shop.gql(
            CREATE_METHOD,
            {"input": {"code": "no spaces", "name": " ", "price": eur(-1), "freeOver": 0, "position": -1}},
            token=shop.admin.token,
        )
    ).ok()["createShippingMethod"]
    assert sorted(refusals(bad)) == sorted(
        [
            (["input", "code"], "INVALID_SHIPPING_METHOD"),
            (["input", "name"], "INVALID_SHIPPING_METHOD"),
            (["input", "price", "amount"], "INVALID_SHIPPING_METHOD"),
            (["input", "freeOver"], "INVALID_SHIPPING_METHOD"),
            (["input", "position"], "INVALID_SHIPPING_METHOD"),
        ]
    )
    taken = (
        await shop.gql(
            CREATE_METHOD,
            {"input": {"code": "Standard", "name": "Again", "price": eur(1)}},
            token=shop.admin.token,
        )
    ).ok()["createShippingMethod"]
    assert refusals(taken) == [(["input", "code"], "SHIPPING_METHOD_TAKEN")]
    changed = (
        await shop.gql(
            UPDATE_METHOD,
            {"input": {"id": method["id"], "name": "Slow", "freeOver": None, "price": eur(450)}},
            token=shop.admin.token,
        )
    ).ok()["updateShippingMethod"]
    assert changed["userErrors"] == []
    assert {k: changed["shippingMethod"][k] for k in ("code", "name", "price", "freeOver")} == {
        "code": "STANDARD",
        "name": "Slow",
        "price": eur(450),
        "freeOver": None,
    }


async def test_a_saved_card_is_kept_on_the_order(shop: Shop) -> None:
    buyer = await shop.account()
    other = await shop.account()
    mug = await shop.product(1000)
    year = utcnow().year
    card = await saved_card(shop, buyer, exp_year=year + 1, last4="1111")
    expired = await saved_card(shop, buyer, exp_year=year - 1)
    theirs = await saved_card(shop, other, exp_year=year + 1)
    before = await shop.counts()
    for method, error in (
        (expired, "PAYMENT_METHOD_EXPIRED"),
        (theirs, "PAYMENT_METHOD_UNKNOWN"),
        (uuid.uuid4(), "PAYMENT_METHOD_UNKNOWN"),
    ):
        refused = await place(
            shop, buyer, line(mug, 1), shippingAddress=ADDRESS, paymentMethodId=gid("PaymentMethod", method)
        )
        assert refusals(refused) == [(["input", "paymentMethodId"], error)]
    assert await shop.counts() == before
    order = (
        await place(
            shop, buyer, line(mug, 1), shippingAddress=ADDRESS, paymentMethodId=gid("PaymentMethod", card)
        )
    )["order"]
    assert order["paymentMethod"] == {"last4": "1111"}
    assert (await shop.order_row(order["id"])).payment_method_id == card
    # Billing staff read it too; a removed card reads as null, the order stays.
    read = "query($id: ID!) { node(id: $id) { ... on Order { paymentMethod { last4 } } } }"
    staff_view = await shop.gql(read, {"id": order["id"]}, token=shop.admin.token)
    assert staff_view.ok()["node"] == {"paymentMethod": {"last4": "1111"}}
    async with shop.db.transaction(TenantScope.of(shop.tenant_id)) as session:
        await session.execute(delete(PaymentMethod).where(PaymentMethod.id == card))
    assert (await shop.gql(read, {"id": order["id"]}, token=buyer.token)).ok()["node"] == {
        "paymentMethod": None
    }


async def test_another_tenants_method_is_unknown(
    shop: Shop, runtime: Runtime, gql: GraphQLClient, identity: Identity
) -> None:
    other = await new_shop(runtime, gql, identity)
    theirs = await create_method(other, code="THEIRS", price=eur(1))
    buyer = await shop.account()
    mug = await shop.product(1000)
    refused = await place(shop, buyer, line(mug, 1), shippingAddress=ADDRESS, shippingMethodId=theirs["id"])
    assert refusals(refused) == [(["input", "shippingMethodId"], "SHIPPING_METHOD_UNKNOWN")]
    assert (await shop.gql(LIST_METHODS, {"all": True}, token=shop.admin.token)).ok()["shippingMethods"][
        "totalCount"
    ] == 0
    node = await shop.gql(
        "query($id: ID!) { node(id: $id) { id } }", {"id": theirs["id"]}, token=shop.admin.token
    )
    assert node.error_codes == ["NOT_FOUND"]


ORDERS_WITH_METHODS = "query($first: Int) { orders(first: $first) { nodes { shippingMethod { code } } } }"


async def test_reading_orders_methods_costs_one_batch(
    shop: Shop, gql: GraphQLClient, runtime: Runtime
) -> None:
    buyer = await shop.account()
    mug = await shop.product(1000)
    methods = [await create_method(shop, code=f"M{i}", price=eur(100 * i)) for i in range(3)]
    for i in range(12):
        placed = await place(
            shop, buyer, line(mug, 1), shippingAddress=ADDRESS, shippingMethodId=methods[i % 3]["id"]
        )
        assert placed["userErrors"] == []
    costs = {}
    await gql.warm(shop.admin.token)
    for first in (2, 12):
        with count_statements(runtime.db.engine) as counter:
            nodes = (await gql(ORDERS_WITH_METHODS, {"first": first}, token=shop.admin.token)).ok()["orders"][
                "nodes"
            ]
        assert len(nodes) == first and all(n["shippingMethod"]["code"].startswith("M") for n in nodes)
        costs[first] = [s for s in counter.statements if "outbox_events" not in s]
    assert len(costs[2]) == len(costs[12]), (costs[2], costs[12])
    assert sum("FROM shipping_methods" in s for s in costs[12]) == 1
