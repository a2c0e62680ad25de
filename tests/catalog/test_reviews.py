"""Reviews: only buyers of a paid order review, once per product; the product's average rating and
review count follow every create, update and delete; authors and staff delete."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from core.permissions import Role
from core.scope import TenantScope
from models.catalog import Product, ProductStatus, Review
from models.orders import OrderStatus
from server.runtime import Runtime
from tests.catalog.conftest import Shop, gid
from tests.support.graphql import GraphQLClient, count_statements

CREATE = """
mutation($input: CreateReviewInput!) {
  createReview(input: $input) {
    review { id rating comment authorName isMine product { name } }
    product { averageRating reviewCount }
    userErrors { field code message }
  }
}"""
UPDATE = """
mutation($input: UpdateReviewInput!) {
  updateReview(input: $input) {
    review { rating comment } product { averageRating reviewCount } userErrors { code }
  }
}"""
DELETE = """
mutation($id: ID!) {
  deleteReview(input: {id: $id}) { deletedReviewId product { averageRating reviewCount } userErrors { code } }
}"""
REVIEWS = """
query($id: ID!, $after: String) {
  product(id: $id, tenantSlug: "acme") {
    averageRating reviewCount
    reviews(first: 1, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } nodes { rating comment authorName isMine }
    }
  }
}"""


async def review(
    gql: GraphQLClient, token: str, product: Any, rating: int, comment: str | None = None
) -> Any:
    variables = {"input": {"productId": gid("Product", product), "rating": rating, "comment": comment}}
    return (await gql(CREATE, variables, token=token)).ok()["createReview"]


def codes(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def test_buyers_review_once_and_the_average_follows(gql: GraphQLClient, acme: Shop) -> None:
    lamp = await acme.product("Lamp", 1000)
    other = await acme.product("Chair", 1000)
    draft = await acme.product("Prototype", 1000, status=ProductStatus.DRAFT)
    ada = await acme.account(Role.USER, full_name="Ada Lovelace")
    bob = await acme.account(Role.USER, full_name="Bob")
    await acme.order(ada.user_id, [lamp, draft], OrderStatus.PAID)
    await acme.order(bob.user_id, [other], OrderStatus.COMPLETED)
    await acme.order(bob.user_id, [lamp], OrderStatus.PARTIALLY_REFUNDED)
    stranger = await acme.account(Role.USER)
    pending = await acme.account(Role.USER)
    await acme.order(pending.user_id, [lamp], OrderStatus.PENDING)
    await acme.order(pending.user_id, [lamp], OrderStatus.CANCELLED)
    chair_buyer = await acme.account(Role.USER)
    await acme.order(chair_buyer.user_id, [other], OrderStatus.PROVISIONING)

    for account in (stranger, pending, chair_buyer):
        refused = await review(gql, account.token, lamp, 4)
        assert codes(refused) == [(["input", "productId"], "NOT_A_BUYER")]
    assert codes(await review(gql, ada.token, lamp, 6)) == [(["input", "rating"], "INVALID_RATING")]
    assert codes(await review(gql, ada.token, lamp, 0)) == [(["input", "rating"], "INVALID_RATING")]
    # A DRAFT product is out of a user's reach, bought or not.
    assert codes(await review(gql, ada.token, draft, 5)) == [(["input", "productId"], "NOT_FOUND")]

    first = await review(gql, ada.token, lamp, 5, " Bright! ")
    assert first["userErrors"] == []
    assert {k: v for k, v in first["review"].items() if k != "id"} == {
        "rating": 5,
        "comment": "Bright!",
        "authorName": "Ada L.",
        "isMine": True,
        "product": {"name": "Lamp"},
    }
    assert first["product"] == {"averageRating": 5.0, "reviewCount": 1}
    assert codes(await review(gql, ada.token, lamp, 1)) == [(["input", "productId"], "CONFLICT")]
    second = await review(gql, bob.token, lamp, 2)
    assert second["product"] == {"averageRating": 3.5, "reviewCount": 2}

    # Anonymous storefront: newest first, one per page, the reviewer's display name only.
    page = (await gql(REVIEWS, {"id": gid("Product", lamp)})).ok()["product"]
    assert page["averageRating"] == 3.5 and page["reviewCount"] == 2
    assert page["reviews"]["totalCount"] == 2 and page["reviews"]["pageInfo"]["hasNextPage"] is True
    assert page["reviews"]["nodes"] == [{"rating": 2, "comment": None, "authorName": "Bob", "isMine": False}]
    after = page["reviews"]["pageInfo"]["endCursor"]
    page = (await gql(REVIEWS, {"id": gid("Product", lamp), "after": after})).ok()["product"]
    assert page["reviews"]["nodes"] == [
        {"rating": 5, "comment": "Bright!", "authorName": "Ada L.", "isMine": False}
    ]
    assert page["reviews"]["pageInfo"]["hasNextPage"] is False

    changed = (
        await gql(
            UPDATE, {"input": {"id": first["review"]["id"], "rating": 3, "comment": None}}, token=ada.token
        )
    ).ok()["updateReview"]
    assert changed == {
        "review": {"rating": 3, "comment": None},
        "product": {"averageRating": 2.5, "reviewCount": 2},
        "userErrors": [],
    }
    assert (
        await gql(UPDATE, {"input": {"id": first["review"]["id"], "rating": 1}}, token=bob.token)
    ).error_codes == ["FORBIDDEN"]

    # Deleting: the author or staff; anyone else is refused and nothing changes.
    assert (await gql(DELETE, {"id": second["review"]["id"]}, token=stranger.token)).error_codes == [
        "FORBIDDEN"
    ]
    by_author = (await gql(DELETE, {"id": second["review"]["id"]}, token=bob.token)).ok()["deleteReview"]
    assert by_author == {
        "deletedReviewId": second["review"]["id"],
        "product": {"averageRating": 3.0, "reviewCount": 1},
        "userErrors": [],
    }
    support = await acme.account(Role.SUPPORT_AGENT)
    by_staff = (await gql(DELETE, {"id": first["review"]["id"]}, token=support.token)).ok()["deleteReview"]
    assert by_staff["product"] == {"averageRating": None, "reviewCount": 0}
    async with acme.db.session(TenantScope.of(acme.tenant_id)) as session:
        stored = await session.get(Product, lamp)
        assert list(await session.scalars(select(Review))) == []
    assert stored is not None and (stored.rating_count, stored.rating_total) == (0, 0)
    # Bob may review again now that his review is gone.
    assert (await review(gql, bob.token, lamp, 4))["product"] == {"averageRating": 4.0, "reviewCount": 1}


async def test_concurrent_reviews_by_one_buyer_leave_one(gql: GraphQLClient, acme: Shop) -> None:
    lamp = await acme.product("Lamp", 1000)
    buyer = await acme.account(Role.USER)
    await acme.order(buyer.user_id, [lamp], OrderStatus.PAID)
    results = await asyncio.gather(*(review(gql, buyer.token, lamp, rating) for rating in (4, 5, 1)))
    assert sorted(len(r["userErrors"]) for r in results) == [0, 1, 1]
    assert all(codes(r) == [(["input", "productId"], "CONFLICT")] for r in results if r["userErrors"])
    (winner,) = [r for r in results if not r["userErrors"]]
    async with acme.db.session(TenantScope.of(acme.tenant_id)) as session:
        stored = await session.get(Product, lamp)
    assert stored is not None
    assert (stored.rating_count, stored.rating_total) == (1, winner["review"]["rating"])


async def test_reviews_of_a_product_list_load_in_one_batch(
    gql: GraphQLClient, acme: Shop, runtime: Runtime
) -> None:
    products = [await acme.product(f"Product {n}", 100) for n in range(4)]
    buyers = [await acme.account(Role.USER, full_name=name) for name in ("Ann Ash", "Ben Birch", "Cy Cole")]
    for buyer in buyers:
        await acme.order(buyer.user_id, products, OrderStatus.PAID)
        for n, product in enumerate(products):
            assert (await review(gql, buyer.token, product, 1 + n))["userErrors"] == []
    query = """
    query($first: Int) {
      products(first: $first, orderBy: {field: NAME}) {
        nodes { name averageRating reviews(first: 2) { totalCount nodes { rating authorName } } }
      }
    }"""
    counts = []
    await gql.warm(acme.admin.token)
    for first in (1, 4):
        with count_statements(runtime.db.engine) as counter:
            nodes = (await gql(query, {"first": first}, token=acme.admin.token)).ok()["products"]["nodes"]
        assert len(nodes) == first
        assert nodes[-1]["averageRating"] == float(first)
        assert nodes[-1]["reviews"]["totalCount"] == 3
        assert [r["authorName"] for r in nodes[-1]["reviews"]["nodes"]] == ["Cy C.", "Ben B."]
        counts.append(len([s for s in counter.statements if "outbox_events" not in s]))
    assert counts[0] == counts[1], counts
