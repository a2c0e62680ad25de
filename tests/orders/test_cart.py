"""The cart against PostgreSQL: one per user, lines add up, and every refusal is a userError that
writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

from models.catalog import ProductStatus
from server.runtime import Runtime
from tests.orders.conftest import Shop, gid, new_shop
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, Identity

CART_FIELDS = """
  itemCount updatedAt
  subtotal { amount currency }
  items {
    quantity attributes available product { id name }
    unitPrice { amount currency } lineTotal { amount currency }
  }
"""
CART = f"query {{ cart {{ {CART_FIELDS} }} }}"


ADD = f"""
mutation Add($input: AddToCartInput!) {{
  addToCart(input: $input) {{ cart {{ {CART_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
UPDATE = f"""
mutation Update($input: UpdateCartItemInput!) {{
  updateCartItem(input: $input) {{ cart {{ {CART_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
REMOVE = f"""
mutation Remove($input: RemoveCartItemInput!) {{
  removeCartItem(input: $input) {{ cart {{ {CART_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
CLEAR = f"mutation {{ clearCart {{ cart {{ {CART_FIELDS} }} userErrors {{ field code message }} }} }}"


async def add(
    gql: GraphQLClient, account: Account, product: uuid.UUID, quantity: int, **extra: Any
) -> dict[str, Any]:
    input = {"productId": gid("Product", product), "quantity": quantity, **extra}
    payload: dict[str, Any] = (await gql(ADD, {"input": input}, token=account.token)).ok()["addToCart"]
    return payload


async def cart_of(gql: GraphQLClient, account: Account) -> dict[str, Any]:
    cart: dict[str, Any] = (await gql(CART, token=account.token)).ok()["cart"]
    return cart


def money(amount: int, currency: str = "EUR") -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


async def test_cart_lines_add_up_update_remove_and_clear(shop: Shop, gql: GraphQLClient) -> None:
    buyer = await shop.account()
    mug = await shop.product(1250, name="Mug")
    tee = await shop.product(2400, sale=1999, name="Tee")

    empty = await cart_of(gql, buyer)
    assert empty == {"itemCount": 0, "updatedAt": None, "subtotal": None, "items": []}

    first = await add(gql, buyer, mug, 2, attributes={"colour": "red"})
    assert first["userErrors"] == []
    assert first["cart"]["items"] == [
        {
            "quantity": 2,
            "attributes": {"colour": "red"},
            "available": True,
            "product": {"id": gid("Product", mug), "name": "Mug"},
            "unitPrice": money(1250),
            "lineTotal": money(2500),
        }
    ]
    # The same product again adds to its line and merges the attributes.
    again = await add(gql, buyer, mug, 1, attributes={"size": "L"})
    assert [(i["quantity"], i["attributes"]) for i in again["cart"]["items"]] == [
        (3, {"colour": "red", "size": "L"})
    ]
    both = await add(gql, buyer, tee, 1)
    cart = both["cart"]
    assert [i["product"]["name"] for i in cart["items"]] == ["Mug", "Tee"]
    assert cart["items"][1]["unitPrice"] == money(1999)  # the sale price
    assert cart["subtotal"] == money(3 * 1250 + 1999)
    assert cart["itemCount"] == 4
    assert cart["updatedAt"] is not None

    updated = (
        await gql(UPDATE, {"input": {"productId": gid("Product", mug), "quantity": 5}}, token=buyer.token)
    ).ok()
    assert [i["quantity"] for i in updated["updateCartItem"]["cart"]["items"]] == [5, 1]
    assert updated["updateCartItem"]["cart"]["subtotal"] == money(5 * 1250 + 1999)

    removed = (await gql(REMOVE, {"input": {"productId": gid("Product", tee)}}, token=buyer.token)).ok()
    assert [i["product"]["name"] for i in removed["removeCartItem"]["cart"]["items"]] == ["Mug"]
    assert (await cart_of(gql, buyer))["subtotal"] == money(6250)

    cleared = (await gql(CLEAR, token=buyer.token)).ok()["clearCart"]
    assert cleared["cart"]["items"] == [] and cleared["cart"]["subtotal"] is None
    assert (await shop.counts())["cart_items"] == 0


async def test_refusals_are_user_errors_and_write_nothing(
    shop: Shop, gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    buyer = await shop.account()
    euro = await shop.product(1000)
    dollar = await shop.product(1000, currency="USD")
    draft = await shop.product(1000, status=ProductStatus.DRAFT)
    archived = await shop.product(1000, status=ProductStatus.ARCHIVED)
    scarce = await shop.product(500, stock=3)
    other_shop = await new_shop(runtime, gql, identity)
    foreign = await other_shop.product(1000)

    async def refused(product: uuid.UUID | str, quantity: int) -> list[dict[str, Any]]:
        product_id = product if isinstance(product, str) else gid("Product", product)
        result = await gql(ADD, {"input": {"productId": product_id, "quantity": quantity}}, token=buyer.token)
        payload = result.ok()["addToCart"]
        assert payload["cart"] is None, payload
        return [{"field": e["field"], "code": e["code"]} for e in payload["userErrors"]]

    assert await refused(euro, 0) == [{"field": ["input", "quantity"], "code": "INVALID_QUANTITY"}]
    assert await refused(euro, -2) == [{"field": ["input", "quantity"], "code": "INVALID_QUANTITY"}]
    unavailable = [{"field": ["input", "productId"], "code": "PRODUCT_UNAVAILABLE"}]
    assert await refused(uuid.uuid4(), 1) == unavailable
    assert await refused(gid("User", buyer.user_id), 1) == unavailable  # not a product id at all
    assert await refused(draft, 1) == unavailable
    assert await refused(archived, 1) == unavailable
    assert await refused(foreign, 1) == unavailable  # another tenant's product does not exist here
    assert (await shop.counts())["cart_items"] == 0

    assert (await add(gql, buyer, scarce, 2))["userErrors"] == []
    assert await refused(scarce, 2) == [{"field": ["input", "quantity"], "code": "OUT_OF_STOCK"}]
    over = await gql(
        UPDATE, {"input": {"productId": gid("Product", scarce), "quantity": 4}}, token=buyer.token
    )
    assert [e["code"] for e in over.ok()["updateCartItem"]["userErrors"]] == ["OUT_OF_STOCK"]
    assert (await add(gql, buyer, euro, 1))["userErrors"] == []
    assert await refused(dollar, 1) == [{"field": ["input", "productId"], "code": "CURRENCY_MISMATCH"}]
    zero = await gql(UPDATE, {"input": {"productId": gid("Product", euro), "quantity": 0}}, token=buyer.token)
    assert [(e["field"], e["code"]) for e in zero.ok()["updateCartItem"]["userErrors"]] == [
        (["input", "quantity"], "INVALID_QUANTITY")
    ]
    missing = await gql(REMOVE, {"input": {"productId": gid("Product", dollar)}}, token=buyer.token)
    assert [(e["field"], e["code"]) for e in missing.ok()["removeCartItem"]["userErrors"]] == [
        (["input", "productId"], "NOT_IN_CART")
    ]

    cart = await cart_of(gql, buyer)
    assert [(i["product"]["id"], i["quantity"]) for i in cart["items"]] == [
        (gid("Product", scarce), 2),
        (gid("Product", euro), 1),
    ]
    # A product archived after it was added stays in the cart, unavailable and out of sight.
    await shop.set_product(scarce, status=ProductStatus.ARCHIVED)
    later = await cart_of(gql, buyer)
    assert [(i["product"], i["available"]) for i in later["items"]] == [
        (None, False),
        ({"id": gid("Product", euro), "name": cart["items"][1]["product"]["name"]}, True),
    ]


async def test_each_user_has_their_own_cart(shop: Shop, gql: GraphQLClient) -> None:
    alice = await shop.account()
    bob = await shop.account()
    product = await shop.product(700)
    await add(gql, alice, product, 2)
    assert [i["quantity"] for i in (await cart_of(gql, alice))["items"]] == [2]
    assert await cart_of(gql, bob) == {"itemCount": 0, "updatedAt": None, "subtotal": None, "items": []}
    await add(gql, bob, product, 1)
    assert [i["quantity"] for i in (await cart_of(gql, alice))["items"]] == [2]
    assert [i["quantity"] for i in (await cart_of(gql, bob))["items"]] == [1]


async def test_the_cart_needs_a_signed_in_user(gql: GraphQLClient) -> None:
    result = await gql(CART)
    assert result.error_codes == ["UNAUTHENTICATED"]
    assert result.data is None
