"""Batched requests: a JSON array of operations is answered with an array of results, at most
MAX_BATCH_OPERATIONS of them; a longer batch, or one that is not a list of operations, is a
GraphQL error body (400), never a 500. A batch is one request: `_entities` counts its
representations over all of its operations, and each operation keeps to MAX_QUERY_COST."""

from __future__ import annotations

from typing import Any

import httpx

from core.settings import Settings
from tests.support.identity import Identity

ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }"


async def post(http: httpx.AsyncClient, body: Any) -> httpx.Response:
    return await http.post("/graphql", json=body)


def refusal(response: httpx.Response) -> tuple[int, str, str]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert body.get("data") is None and len(body["errors"]) == 1, body
    error = body["errors"][0]
    return response.status_code, error["extensions"]["code"], error["message"]


async def test_a_batch_is_answered_in_order(http: httpx.AsyncClient, identity: Identity) -> None:
    await identity.tenant("acme")
    response = await post(
        http,
        [
            {"query": "{ __typename }"},
            {"query": "query($s: String!) { tenantBySlug(slug: $s) { name } }", "variables": {"s": "acme"}},
            {"query": "query A { a: __typename } query B { b: __typename }", "operationName": "B"},
            {"query": "{ nope }"},
        ],
    )
    assert response.status_code == 200
    first, second, third, fourth = response.json()
    assert first["data"] == {"__typename": "Query"}
    assert second["data"] == {"tenantBySlug": {"name": "Acme"}}
    assert third["data"] == {"b": "Query"}
    assert fourth["data"] is None and fourth["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_at_most_max_batch_operations(http: httpx.AsyncClient, settings: Settings) -> None:
    allowed = await post(http, [{"query": "{ __typename }"}] * settings.max_batch_operations)
    assert allowed.status_code == 200
    assert [r["data"] for r in allowed.json()] == [{"__typename": "Query"}] * settings.max_batch_operations
    over = await post(http, [{"query": "{ __typename }"}] * (settings.max_batch_operations + 1))
    status, code, message = refusal(over)
    assert (status, code) == (400, "BAD_REQUEST")
    assert message == f"A batch holds at most {settings.max_batch_operations} operations."


async def test_what_is_no_batch_of_operations_is_refused(http: httpx.AsyncClient) -> None:
    operation = {"query": "{ __typename }"}
    refused = {
        "[]": "The batch is empty",
        "[1, 2]": "Operation 1 of the batch is not an object",
        '["{ __typename }"]': "Operation 1 of the batch is not an object",
        '[{"query": "{ __typename }"}, null]': "Operation 2 of the batch is not an object",
        '[{"query": "{ __typename }"}, {"query": 1}]': "Operation 2 of the batch is not an object",
        '[{"query": "{ __typename }"}, {}]': "Operation 2 of the batch is not an object",
        '[{"query": "{ __typename }", "variables": []}]': "The `variables` of operation 1",
        '[{"query": "{ __typename }", "extensions": "x"}]': "The `extensions` of operation 1",
        '[{"query": "{ __typename }", "operationName": 1}]': "The `operationName` of operation 1",
    }
    for body, reason in refused.items():
        response = await http.post("/graphql", content=body, headers={"content-type": "application/json"})
        status, code, message = refusal(response)
        assert (status, code) == (400, "BAD_REQUEST") and message.startswith(reason), (body, message)
    subscription = await post(http, [operation, {"query": "subscription { userUpdated { id } }"}])
    assert refusal(subscription)[:2] == (400, "BAD_REQUEST")


async def test_entities_count_over_the_whole_batch(http: httpx.AsyncClient, settings: Settings) -> None:
    """Batching does not multiply MAX_ENTITIES: the operations share one request's count."""
    half = [{"__typename": "Product", "id": "UHJvZHVjdDox"}] * (settings.max_entities // 2)
    one = {"query": ENTITIES, "variables": {"r": half}}

    def codes(result: dict[str, Any]) -> set[str]:
        return {e["extensions"]["code"] for e in result.get("errors") or []}

    within = await post(http, [one, one])
    assert [codes(r) for r in within.json()] == [{"NOT_FOUND"}, {"NOT_FOUND"}]  # looked up, not found
    over = (await post(http, [one, one, {"query": ENTITIES, "variables": {"r": half[:1]}}])).json()
    assert [codes(r) for r in over] == [{"NOT_FOUND"}, {"NOT_FOUND"}, {"BAD_USER_INPUT"}]
    assert (
        over[2]["errors"][0]["message"]
        == f"At most {settings.max_entities} entity representations per request."
    )


async def test_each_operation_of_a_batch_keeps_to_the_cost_budget(
    http: httpx.AsyncClient, identity: Identity, settings: Settings
) -> None:
    await identity.tenant("acme")
    pages = (
        'query($n: Int) { products(tenantSlug: "acme", first: $n) '
        "{ nodes { reviews(first: 100) { nodes { product { id } } } } } }"
    )
    # 1 + n x (product 1 + reviews 1 + 100 x (review 1 + product 1)) = 1 + 202 n
    fits, over = (settings.max_query_cost - 1) // 202, settings.max_query_cost // 202 + 1
    response = await post(
        http, [{"query": pages, "variables": {"n": fits}}, {"query": pages, "variables": {"n": over}}]
    )
    cheap, costly = response.json()
    assert cheap["data"] == {"products": {"nodes": []}}
    assert cheap["extensions"]["cost"] == {"requested": 1 + 202 * fits, "maximum": settings.max_query_cost}
    assert costly["data"] is None
    assert costly["errors"][0]["extensions"]["cost"] == {
        "requested": 1 + 202 * over,
        "maximum": settings.max_query_cost,
    }
