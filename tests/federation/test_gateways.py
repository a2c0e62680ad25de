"""Apollo Gateway and Hive Gateway over a deployment of ours and the foreign reviews subgraph:
queries crossing in both directions, the caller's Authorization forwarded to every subgraph (the
answers depend on who asks), and our error codes reaching the client unchanged."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.federation.conftest import Catalog, Gateway, Reviews
from tests.support.identity import global_id

PRODUCTS = (
    "{ products(orderBy: {field: NAME, direction: ASC}) { nodes { name ratingSummary { average count } } } }"
)
ALSO_RATED = """
{ products(orderBy: {field: NAME, direction: ASC}) {
    nodes { name ratingSummary { average count } alsoRated { name } } } }
"""
TOP_RATED = "{ topRatedProducts(first: 3) { name status price { amount currency } reviewCount } }"


async def ask(gateway: Gateway, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(
            gateway.url, json={"query": query, "variables": variables}, headers=headers
        )
    body: dict[str, Any] = answer.json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def test_ours_to_theirs_products_with_their_ratings(gateway: Gateway, catalog: Catalog) -> None:
    # A shopper sees the ACTIVE products, each with the partner's ratings.
    shopper = await ask(gateway, PRODUCTS, catalog.user.token)
    assert shopper.get("errors") is None, shopper
    assert shopper["data"]["products"]["nodes"] == [
        {"name": "Router", "ratingSummary": {"average": 4.5, "count": 2}},
        {"name": "Switch", "ratingSummary": {"average": 3.0, "count": 1}},
    ]
    # Staff see the DRAFT prototype too; the partner names the products its reviewers also rated,
    # whose names come back from us: ours -> theirs -> ours, in one query.
    staff = await ask(gateway, ALSO_RATED, catalog.manager.token)
    assert staff.get("errors") is None, staff
    assert staff["data"]["products"]["nodes"] == [
        {
            "name": "Prototype",
            "ratingSummary": {"average": 5.0, "count": 1},
            "alsoRated": [{"name": "Router"}],
        },
        {
            "name": "Router",
            "ratingSummary": {"average": 4.5, "count": 2},
            "alsoRated": [{"name": "Switch"}, {"name": "Prototype"}],
        },
        {"name": "Switch", "ratingSummary": {"average": 3.0, "count": 1}, "alsoRated": [{"name": "Router"}]},
    ]


async def test_theirs_to_ours_top_rated_products_as_the_caller(gateway: Gateway, catalog: Catalog) -> None:
    staff = await ask(gateway, TOP_RATED, catalog.manager.token)
    assert staff.get("errors") is None, staff
    assert staff["data"]["topRatedProducts"] == [
        {
            "name": "Prototype",
            "status": "DRAFT",
            "price": {"amount": 9900, "currency": "EUR"},
            "reviewCount": 0,
        },
        {
            "name": "Router",
            "status": "ACTIVE",
            "price": {"amount": 1000, "currency": "EUR"},
            "reviewCount": 0,
        },
        {
            "name": "Switch",
            "status": "ACTIVE",
            "price": {"amount": 2500, "currency": "EUR"},
            "reviewCount": 0,
        },
    ]
    # The shopper's token reached our `_entities`: the DRAFT product is NOT_FOUND for them (and the
    # non-null list item takes the list with it), which the gateway passes on unchanged.
    shopper = await ask(gateway, TOP_RATED, catalog.user.token)
    assert shopper["data"] is None or shopper["data"]["topRatedProducts"] is None, shopper
    assert "NOT_FOUND" in codes(shopper), shopper
    # Without a token our `_entities` resolves nothing.
    anonymous = await ask(gateway, TOP_RATED)
    assert "NOT_FOUND" in codes(anonymous), anonymous


async def test_authorization_reaches_every_subgraph(
    gateway: Gateway, catalog: Catalog, reviews: Reviews
) -> None:
    body = await ask(gateway, "{ me { email roles } partnerCaller }", catalog.manager.token)
    assert body == {
        "data": {
            "me": {"email": catalog.manager.email, "roles": ["MANAGER"]},
            "partnerCaller": f"Bearer {catalog.manager.token}",
        }
    }
    assert (await ask(gateway, "{ me { email } }", catalog.user.token))["data"] == {
        "me": {"email": catalog.user.email}
    }
    # The partner got the token with each request the gateway made for it (entity fetches too);
    # for a shopper the prototype the partner names is NOT_FOUND at our end (their token came along).
    also_rated = await ask(gateway, ALSO_RATED, catalog.user.token)
    assert codes(also_rated) == ["NOT_FOUND"], also_rated
    seen = await reviews.seen()
    assert f"Bearer {catalog.user.token}" in seen and None not in seen, seen


async def test_error_codes_survive_the_gateway(gateway: Gateway, catalog: Catalog) -> None:
    bad_token = await ask(gateway, "{ me { email } }", "not-a-token")
    assert codes(bad_token) == ["UNAUTHENTICATED"], bad_token
    anonymous = await ask(gateway, "{ me { email } }")
    assert codes(anonymous) == ["UNAUTHENTICATED"], anonymous
    missing = await ask(
        gateway,
        "query($id: ID!) { product(id: $id) { name } }",
        catalog.user.token,
        id=global_id("Product", uuid.uuid4()),
    )
    assert codes(missing) == ["NOT_FOUND"], missing
    too_many = await ask(gateway, "{ products(first: 1000) { nodes { name } } }", catalog.user.token)
    assert codes(too_many) == ["BAD_USER_INPUT"], too_many
    listed = await ask(gateway, "{ errorCodes { errors } }")
    assert {"UNAUTHENTICATED", "NOT_FOUND", "BAD_USER_INPUT"} <= set(listed["data"]["errorCodes"]["errors"])


NODE = "query($id: ID!) { node(id: $id) { id ... on Product { name } } }"
NODE_ID = "query($id: ID!) { node(id: $id) { id } }"


async def test_node_answers_as_the_monolith_does(gateway: Gateway, catalog: Catalog) -> None:
    found = await ask(gateway, NODE, catalog.user.token, id=catalog.router)
    assert found == {"data": {"node": {"id": catalog.router, "name": "Router"}}}, found
    # A product the shopper may not see, or one that does not exist, is NOT_FOUND even when only
    # its id is asked for, which the subgraph serving `node` could answer from the argument alone.
    for hidden in (catalog.prototype, global_id("Product", uuid.uuid4())):
        for query in (NODE, NODE_ID):
            body = await ask(gateway, query, catalog.user.token, id=hidden)
            # `node` is non-null: the error takes `data` with it, as in the monolith without a gateway.
            assert body["data"] is None and codes(body) == ["NOT_FOUND"], (query, body)
