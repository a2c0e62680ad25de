"""Promotion codes against PostgreSQL: staff write them, buyers validate them, checkout takes them
under their rows' locks (percent, fixed, eligible products, several at once, every refusal, limits
under concurrency, validity, tenant isolation) and the SQL cost of reading what orders took."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from core.permissions import Role
from models.base import utcnow
from models.promotions import PromotionCode, PromotionCodeUse
from server.runtime import Runtime
from services.orders import pricing
from tests.orders.conftest import ALL, Shop, amount, gid, line, new_shop, order_input, uuid_of
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import Account, Identity

CODE_FIELDS = """
  id code kind percentBps amount { amount currency } startsAt endsAt maxUses maxUsesPerUser usesCount
  active eligibleProducts { id }
"""
CREATE_CODE = f"""
mutation($input: CreatePromotionCodeInput!) {{
  createPromotionCode(input: $input) {{ promotionCode {{ {CODE_FIELDS} }} userErrors {{ field code }} }}
}}
"""
UPDATE_CODE = f"""
mutation($input: UpdatePromotionCodeInput!) {{
  updatePromotionCode(input: $input) {{ promotionCode {{ {CODE_FIELDS} }} userErrors {{ field code }} }}
}}
"""
DEACTIVATE_CODE = """
mutation($input: DeactivatePromotionCodeInput!) {
  deactivatePromotionCode(input: $input) { promotionCode { active } userErrors { field code } }
}
"""
LIST_CODES = """
query($active: Boolean, $first: Int) {
  promotionCodes(filter: {active: $active}, first: $first) { totalCount nodes { code usesCount active } }
}
"""
VALIDATE = """
query($code: String!, $items: [OrderLineInput!], $fromCart: Boolean! = false) {
  validatePromotionCode(code: $code, items: $items, fromCart: $fromCart) {
    valid kind discount { amount currency } userErrors { field code }
  }
}
"""
PLACE = """
mutation($input: CreateOrderInput!) {
  createOrder(input: $input) {
    order {
      id discountTotal { amount } subtotal { amount } taxTotal { amount } total { amount }
      items { discount { amount } tax { amount } total { amount } }
      promotionCodes { code discount { amount currency } }
    }
    userErrors { field code }
  }
}
"""
NODE = "query($id: ID!) { node(id: $id) { id ... on PromotionCode { code } } }"


async def create_code(shop: Shop, **fields: Any) -> dict[str, Any]:
    payload = (await shop.gql(CREATE_CODE, {"input": fields}, token=shop.admin.token)).ok()
    created = payload["createPromotionCode"]
    assert created["userErrors"] == [], created
    code: dict[str, Any] = created["promotionCode"]
    return code


async def place(shop: Shop, buyer: Account, *items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    result = await shop.gql(PLACE, {"input": order_input(*items, **extra)}, token=buyer.token)
    payload: dict[str, Any] = result.ok()["createOrder"]
    return payload


def refusals(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def uses(shop: Shop) -> int:
    async with shop.db.session(ALL) as session:
        counted = await session.scalar(
            select(func.count())
            .select_from(PromotionCodeUse)
            .where(PromotionCodeUse.tenant_id == shop.tenant_id)
        )
    return int(counted or 0)


async def uses_count(shop: Shop, code: str) -> int:
    async with shop.db.session(ALL) as session:
        counted = await session.scalar(
            select(PromotionCode.uses_count).where(
                PromotionCode.tenant_id == shop.tenant_id, PromotionCode.code == code
            )
        )
    assert counted is not None
    return int(counted)


async def test_percent_and_fixed_codes_add_up_and_are_recorded(shop: Shop) -> None:
    await shop.settings(taxRateBps=1900)
    buyer = await shop.account()
    mug = await shop.product(1999)
    tee = await shop.product(1500)
    save = await create_code(shop, code="save10", kind="PERCENT", percentBps=1000)
    assert (save["code"], save["kind"], save["percentBps"], save["amount"]) == (
        "SAVE10",
        "PERCENT",
        1000,
        None,
    )
    five = await create_code(shop, code="Five-Off", kind="FIXED", amount={"amount": 500, "currency": "EUR"})
    assert (five["code"], five["amount"]) == ("FIVE-OFF", {"amount": 500, "currency": "EUR"})

    payload = await place(shop, buyer, line(mug, 3), line(tee, 1), promotionCodes=["Save10", "five-off"])
    assert payload["userErrors"] == []
    order = payload["order"]
    expected = pricing.price_order(
        [pricing.Line(1999, 3), pricing.Line(1500, 1)],
        discounts=[pricing.Discount(percent_bps=1000), pricing.Discount(amount=500)],
        tax_rate_bps=1900,
    )
    assert expected.discounts == (750, 500)
    assert [amount(order[k]) for k in ("subtotal", "discountTotal", "taxTotal", "total")] == [
        expected.subtotal,
        1250,
        expected.tax,
        expected.total,
    ]
    assert [amount(i["discount"]) for i in order["items"]] == [line.discount for line in expected.lines]
    assert order["promotionCodes"] == [
        {"code": "FIVE-OFF", "discount": {"amount": 500, "currency": "EUR"}},
        {"code": "SAVE10", "discount": {"amount": 750, "currency": "EUR"}},
    ]
    assert (await uses_count(shop, "SAVE10"), await uses_count(shop, "FIVE-OFF"), await uses(shop)) == (
        1,
        1,
        2,
    )

    # Alone, on the same lines, validation gives what each code takes off.
    items = [line(mug, 3), line(tee, 1)]
    checked = (await shop.gql(VALIDATE, {"code": "save10", "items": items}, token=buyer.token)).ok()
    assert checked["validatePromotionCode"] == {
        "valid": True,
        "kind": "PERCENT",
        "discount": {"amount": 750, "currency": "EUR"},
        "userErrors": [],
    }


async def test_codes_never_take_more_than_the_subtotal(shop: Shop) -> None:
    buyer = await shop.account()
    cheap = await shop.product(300)
    await create_code(shop, code="BIG", kind="FIXED", amount={"amount": 250, "currency": "EUR"})
    await create_code(shop, code="HALF", kind="PERCENT", percentBps=5000)
    order = (await place(shop, buyer, line(cheap, 1), promotionCodes=["HALF", "BIG"]))["order"]
    # HALF takes 150, BIG what is left of the 300 (100, not 250).
    assert (amount(order["discountTotal"]), amount(order["total"])) == (300, 0)
    assert sorted((c["code"], c["discount"]["amount"]) for c in order["promotionCodes"]) == [
        ("BIG", 150),
        ("HALF", 150),
    ]


async def test_a_code_for_some_products_discounts_only_their_lines(shop: Shop) -> None:
    buyer = await shop.account()
    mug = await shop.product(1000)
    tee = await shop.product(3000)
    code = await create_code(
        shop, code="MUGS", kind="PERCENT", percentBps=5000, productIds=[gid("Product", mug)]
    )
    assert code["eligibleProducts"] == [{"id": gid("Product", mug)}]
    order = (await place(shop, buyer, line(tee, 1), line(mug, 2), promotionCodes=["mugs"]))["order"]
    assert amount(order["discountTotal"]) == 1000
    assert [amount(i["discount"]) for i in order["items"]] == [0, 1000]

    fixed = await create_code(
        shop,
        code="TEE5",
        kind="FIXED",
        amount={"amount": 5000, "currency": "EUR"},
        productIds=[gid("Product", tee)],
    )
    assert fixed["code"] == "TEE5"
    order = (await place(shop, buyer, line(tee, 1), line(mug, 1), promotionCodes=["TEE5"]))["order"]
    # A fixed amount beyond the eligible lines' subtotal takes their subtotal only.
    assert [amount(i["discount"]) for i in order["items"]] == [3000, 0]


async def test_each_refusal_has_its_code_and_writes_nothing(shop: Shop) -> None:
    buyer = await shop.account()
    mug = await shop.product(1000)
    other = await shop.product(500)
    now = utcnow()
    await create_code(
        shop, code="LATER", kind="PERCENT", percentBps=100, startsAt=(now + timedelta(days=1)).isoformat()
    )
    await create_code(
        shop, code="OVER", kind="PERCENT", percentBps=100, endsAt=(now - timedelta(seconds=1)).isoformat()
    )
    await create_code(shop, code="ONCE", kind="PERCENT", percentBps=100, maxUses=1)
    await create_code(shop, code="MINE", kind="PERCENT", percentBps=100, maxUsesPerUser=1)
    await create_code(shop, code="OTHER", kind="PERCENT", percentBps=100, productIds=[gid("Product", other)])
    await create_code(shop, code="DOLLARS", kind="FIXED", amount={"amount": 100, "currency": "USD"})
    off = await create_code(shop, code="OFF", kind="PERCENT", percentBps=100)
    done = (await shop.gql(DEACTIVATE_CODE, {"input": {"id": off["id"]}}, token=shop.admin.token)).ok()
    assert done["deactivatePromotionCode"] == {"promotionCode": {"active": False}, "userErrors": []}
    assert (await place(shop, buyer, line(mug, 1), promotionCodes=["ONCE", "MINE"]))["userErrors"] == []
    before = (await shop.counts(), await uses(shop))

    expected = {
        "NOPE": "PROMOTION_CODE_UNKNOWN",
        "OFF": "PROMOTION_CODE_UNKNOWN",
        "LATER": "PROMOTION_CODE_NOT_STARTED",
        "OVER": "PROMOTION_CODE_EXPIRED",
        "ONCE": "PROMOTION_CODE_USED_UP",
        "MINE": "PROMOTION_CODE_USER_LIMIT",
        "OTHER": "PROMOTION_CODE_NOT_ELIGIBLE",
        "DOLLARS": "PROMOTION_CODE_CURRENCY_MISMATCH",
    }
    for code, error in expected.items():
        refused = await place(shop, buyer, line(mug, 1), promotionCodes=[code])
        assert (refused["order"], refusals(refused)) == (None, [(["input", "promotionCodes", "0"], error)])
        checked = (await shop.gql(VALIDATE, {"code": code, "items": [line(mug, 1)]}, token=buyer.token)).ok()
        assert checked["validatePromotionCode"] == {
            "valid": False,
            "kind": None,
            "discount": None,
            "userErrors": [{"field": ["input", "code"], "code": error}],
        }
    # Every problem at once, each at its place; a good code beside them changes nothing.
    await create_code(shop, code="GOOD", kind="PERCENT", percentBps=100)
    refused = await place(shop, buyer, line(mug, 1), promotionCodes=["GOOD", "NOPE", "OVER"])
    assert refusals(refused) == [
        (["input", "promotionCodes", "1"], "PROMOTION_CODE_UNKNOWN"),
        (["input", "promotionCodes", "2"], "PROMOTION_CODE_EXPIRED"),
    ]
    # Another buyer may still use MINE.
    assert (await place(shop, await shop.account(), line(mug, 1), promotionCodes=["MINE"]))[
        "userErrors"
    ] == []
    after = (await shop.counts(), await uses(shop))
    assert after[1] == before[1] + 1
    assert after[0]["orders"] == before[0]["orders"] + 1
    assert await uses_count(shop, "GOOD") == 0


async def test_input_checks(shop: Shop) -> None:
    buyer = await shop.account()
    mug = await shop.product(1000)
    await create_code(shop, code="A1", kind="PERCENT", percentBps=100)
    refused = await place(shop, buyer, line(mug, 1), promotionCodes=["A", "B", "C", "D", "E", "F"])
    assert refusals(refused) == [(["input", "promotionCodes"], "TOO_MANY_PROMOTION_CODES")]
    refused = await place(shop, buyer, line(mug, 1), promotionCodes=["a1", " A1 "])
    assert refusals(refused) == [(["input", "promotionCodes", "1"], "PROMOTION_CODE_REPEATED")]
    refused = await place(shop, buyer, line(mug, 1), promotionCodes=["A1"], discountCode="a1")
    assert refusals(refused) == [(["input", "promotionCodes", "0"], "PROMOTION_CODE_REPEATED")]
    refused = await place(shop, buyer, line(mug, 1), promotionCodes=[" "])
    assert refusals(refused) == [(["input", "promotionCodes", "0"], "REQUIRED")]


async def test_discount_code_names_a_promotion_code_first_then_the_settings(shop: Shop) -> None:
    await shop.settings(discountCodes={"LEGACY": {"amount": 100, "currency": "EUR"}})
    buyer = await shop.account()
    mug = await shop.product(1000)
    await create_code(shop, code="NEW20", kind="PERCENT", percentBps=2000, maxUses=1)
    order = (await place(shop, buyer, line(mug, 1), discountCode="new20"))["order"]
    assert (amount(order["discountTotal"]), order["promotionCodes"][0]["code"]) == (200, "NEW20")
    refused = await place(shop, buyer, line(mug, 1), discountCode="NEW20")
    assert refusals(refused) == [(["input", "discountCode"], "PROMOTION_CODE_USED_UP")]
    order = await place(shop, buyer, line(mug, 1), discountCode="legacy", promotionCodes=["NOPE"])
    assert refusals(order) == [(["input", "promotionCodes", "0"], "PROMOTION_CODE_UNKNOWN")]
    order = (await place(shop, buyer, line(mug, 1), discountCode="legacy"))["order"]
    assert (amount(order["discountTotal"]), order["promotionCodes"]) == (100, [])
    refused = await place(shop, buyer, line(mug, 1), discountCode="neither")
    assert refusals(refused) == [(["input", "discountCode"], "INVALID_DISCOUNT_CODE")]


async def test_concurrent_orders_take_a_code_at_most_max_uses_times(shop: Shop) -> None:
    buyers = [await shop.account() for _ in range(5)]
    mug = await shop.product(1000)
    await create_code(shop, code="TWICE", kind="PERCENT", percentBps=1000, maxUses=2)
    payloads = await asyncio.gather(
        *(place(shop, buyer, line(mug, 1), promotionCodes=["twice"]) for buyer in buyers)
    )
    placed = [p for p in payloads if p["order"]]
    refused = [refusals(p) for p in payloads if not p["order"]]
    assert len(placed) == 2
    assert all(amount(p["order"]["discountTotal"]) == 100 for p in placed)
    assert refused == [[(["input", "promotionCodes", "0"], "PROMOTION_CODE_USED_UP")]] * 3
    assert (await uses_count(shop, "TWICE"), await uses(shop), (await shop.counts())["orders"]) == (2, 2, 2)


async def test_one_buyer_concurrently_takes_a_code_at_most_per_user_times(shop: Shop) -> None:
    buyer = await shop.account()
    mug = await shop.product(1000)
    await create_code(shop, code="MINE", kind="PERCENT", percentBps=1000, maxUsesPerUser=1)
    payloads = await asyncio.gather(
        *(place(shop, buyer, line(mug, 1), promotionCodes=["MINE"]) for _ in range(4))
    )
    assert sorted(str(refusals(p)) for p in payloads) == sorted(
        ["[]"] + [str([(["input", "promotionCodes", "0"], "PROMOTION_CODE_USER_LIMIT")])] * 3
    )
    assert await uses_count(shop, "MINE") == 1


async def test_staff_write_and_list_codes_buyers_cannot(shop: Shop) -> None:
    buyer = await shop.account()
    manager = await shop.account(Role.MANAGER)
    mug = await shop.product(1000)
    denied = await shop.gql(
        CREATE_CODE, {"input": {"code": "X", "kind": "PERCENT", "percentBps": 1}}, token=buyer.token
    )
    assert denied.error_codes == ["FORBIDDEN"]
    assert (await shop.gql(LIST_CODES, {}, token=buyer.token)).error_codes == ["FORBIDDEN"]

    created = (
        await shop.gql(
            CREATE_CODE,
            {"input": {"code": "SPRING", "kind": "PERCENT", "percentBps": 1500}},
            token=manager.token,
        )
    ).ok()["createPromotionCode"]["promotionCode"]
    assert (await shop.gql(NODE, {"id": created["id"]}, token=buyer.token)).error_codes == ["NOT_FOUND"]
    assert (await shop.gql(NODE, {"id": created["id"]}, token=manager.token)).ok()["node"]["code"] == "SPRING"

    taken = (
        await shop.gql(
            CREATE_CODE,
            {"input": {"code": "spring", "kind": "PERCENT", "percentBps": 1}},
            token=manager.token,
        )
    ).ok()
    assert taken["createPromotionCode"]["userErrors"] == [
        {"field": ["input", "code"], "code": "PROMOTION_CODE_TAKEN"}
    ]
    bad = (
        await shop.gql(
            CREATE_CODE,
            {"input": {"code": "no spaces", "kind": "FIXED", "percentBps": 10, "maxUses": 0}},
            token=manager.token,
        )
    ).ok()["createPromotionCode"]["userErrors"]
    assert bad == [
        {"field": ["input", "code"], "code": "INVALID_PROMOTION_CODE"},
        {"field": ["input", "amount"], "code": "INVALID_PROMOTION_CODE"},
        {"field": ["input", "percentBps"], "code": "INVALID_PROMOTION_CODE"},
        {"field": ["input", "maxUses"], "code": "INVALID_PROMOTION_CODE"},
    ]

    ends = (utcnow() + timedelta(days=7)).replace(microsecond=0)
    changed = (
        await shop.gql(
            UPDATE_CODE,
            {
                "input": {
                    "id": created["id"],
                    "kind": "FIXED",
                    "amount": {"amount": 300, "currency": "eur"},
                    "endsAt": ends.isoformat(),
                    "maxUses": 10,
                    "productIds": [gid("Product", mug)],
                }
            },
            token=manager.token,
        )
    ).ok()["updatePromotionCode"]
    assert changed["userErrors"] == []
    code = changed["promotionCode"]
    assert (code["kind"], code["percentBps"], code["amount"], code["maxUses"], code["eligibleProducts"]) == (
        "FIXED",
        None,
        {"amount": 300, "currency": "EUR"},
        10,
        [{"id": gid("Product", mug)}],
    )
    cleared = (
        await shop.gql(
            UPDATE_CODE,
            {"input": {"id": created["id"], "maxUses": None, "productIds": []}},
            token=manager.token,
        )
    ).ok()["updatePromotionCode"]["promotionCode"]
    assert (cleared["maxUses"], cleared["eligibleProducts"], cleared["endsAt"] is not None) == (
        None,
        [],
        True,
    )

    listed = (await shop.gql(LIST_CODES, {"active": True}, token=manager.token)).ok()["promotionCodes"]
    assert (listed["totalCount"], listed["nodes"]) == (
        1,
        [{"code": "SPRING", "usesCount": 0, "active": True}],
    )


async def test_another_tenants_codes_are_unknown(
    shop: Shop, runtime: Runtime, gql: GraphQLClient, identity: Identity
) -> None:
    other = await new_shop(runtime, gql, identity)
    theirs = await create_code(other, code="THEIRS", kind="PERCENT", percentBps=5000)
    buyer = await shop.account()
    mug = await shop.product(1000)
    refused = await place(shop, buyer, line(mug, 1), promotionCodes=["THEIRS"])
    assert refusals(refused) == [(["input", "promotionCodes", "0"], "PROMOTION_CODE_UNKNOWN")]
    checked = (await shop.gql(VALIDATE, {"code": "THEIRS", "items": [line(mug, 1)]}, token=buyer.token)).ok()
    assert checked["validatePromotionCode"]["userErrors"] == [
        {"field": ["input", "code"], "code": "PROMOTION_CODE_UNKNOWN"}
    ]
    assert (await shop.gql(NODE, {"id": theirs["id"]}, token=shop.admin.token)).error_codes == ["NOT_FOUND"]
    listed = (await shop.gql(LIST_CODES, {}, token=shop.admin.token)).ok()["promotionCodes"]
    assert listed["totalCount"] == 0
    # The same code may exist in both tenants.
    mine = await create_code(shop, code="theirs", kind="PERCENT", percentBps=100)
    assert uuid_of(mine["id"]) != uuid_of(theirs["id"])
    await shop.gql(UPDATE_CODE, {"input": {"id": theirs["id"], "active": False}}, token=shop.admin.token)
    assert (await other.gql(NODE, {"id": theirs["id"]}, token=other.admin.token)).ok()["node"][
        "code"
    ] == "THEIRS"
    async with shop.db.session(ALL) as session:
        assert await session.scalar(
            select(PromotionCode.active).where(PromotionCode.id == uuid_of(theirs["id"]))
        )


async def test_validating_the_cart(shop: Shop) -> None:
    buyer = await shop.account()
    mug = await shop.product(1000)
    await create_code(shop, code="CART", kind="FIXED", amount={"amount": 250, "currency": "EUR"})
    empty = (await shop.gql(VALIDATE, {"code": "CART", "fromCart": True}, token=buyer.token)).ok()
    assert empty["validatePromotionCode"]["userErrors"] == [
        {"field": ["input", "fromCart"], "code": "EMPTY_CART"}
    ]
    added = await shop.gql(
        "mutation($input: AddToCartInput!) { addToCart(input: $input) { userErrors { code } } }",
        {"input": {"productId": gid("Product", mug), "quantity": 2}},
        token=buyer.token,
    )
    assert added.ok()["addToCart"]["userErrors"] == []
    checked = (await shop.gql(VALIDATE, {"code": "cart", "fromCart": True}, token=buyer.token)).ok()
    assert checked["validatePromotionCode"]["discount"] == {"amount": 250, "currency": "EUR"}


ORDERS_WITH_CODES = """
query($first: Int) { orders(first: $first) { nodes { number promotionCodes { code discount { amount } } } } }
"""


async def test_reading_what_orders_took_costs_one_batch(
    shop: Shop, gql: GraphQLClient, runtime: Runtime
) -> None:
    buyer = await shop.account()
    mug = await shop.product(1000)
    await create_code(shop, code="A", kind="PERCENT", percentBps=100)
    await create_code(shop, code="B", kind="PERCENT", percentBps=200)
    for _ in range(12):
        assert (await place(shop, buyer, line(mug, 1), promotionCodes=["A", "B"]))["userErrors"] == []

    def statements(counter: Any) -> list[str]:
        return [s for s in counter.statements if "outbox_events" not in s]

    costs = {}
    await gql.warm(shop.admin.token)
    for first in (2, 12):
        with count_statements(runtime.db.engine) as counter:
            nodes = (await gql(ORDERS_WITH_CODES, {"first": first}, token=shop.admin.token)).ok()["orders"][
                "nodes"
            ]
        assert len(nodes) == first
        assert all([c["code"] for c in n["promotionCodes"]] == ["A", "B"] for n in nodes)
        costs[first] = statements(counter)
    assert len(costs[2]) == len(costs[12]), (costs[2], costs[12])
    assert sum("promotion_code_uses" in s for s in costs[12]) == 1
