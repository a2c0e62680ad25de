"""Idempotency-Key on createOrder, submitOrder, confirmPayment and cancelOrder against PostgreSQL:
a repeat returns the first result with no second effect, also when both requests arrive at the same
moment, on one server process or on two; the same key with another request is CONFLICT."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import func, select

from core.scope import TenantScope
from core.settings import Settings
from models.idempotency import IdempotencyRecord
from server.app import create_app
from tests.conftest import make_settings
from tests.orders.conftest import CANCEL, CONFIRM, CREATE_ORDER, SUBMIT, Shop, line, order_input
from tests.support.graphql import GraphQLClient, GraphQLResult
from tests.support.identity import Account


async def at_once(*requests: Awaitable[GraphQLResult]) -> list[GraphQLResult]:
    """Runs the requests concurrently and asserts they really overlapped in time."""
    spans: list[tuple[float, float]] = []

    async def timed(request: Awaitable[GraphQLResult]) -> GraphQLResult:
        started = time.monotonic()
        result = await request
        spans.append((started, time.monotonic()))
        return result

    results = await asyncio.gather(*(timed(r) for r in requests))
    assert max(start for start, _ in spans) < min(end for _, end in spans), spans
    return list(results)


def key_header(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


def created(result: GraphQLResult) -> dict[str, Any]:
    payload: dict[str, Any] = result.ok()["createOrder"]
    assert payload["userErrors"] == [], payload
    return payload


async def test_a_repeated_create_returns_the_first_order(shop: Shop) -> None:
    buyer = await shop.account()
    product = await shop.product(900, stock=10)
    input = order_input(line(product, 2))
    first = created(await shop.create_order(buyer, input, headers=key_header("order-1")))
    again = created(await shop.create_order(buyer, input, headers=key_header("order-1")))
    assert first["replayed"] is False and again["replayed"] is True
    assert again["order"] == first["order"]
    assert await shop.stock(product) == 8
    counts = await shop.counts()
    assert (counts["orders"], counts["counter"], counts["events"]) == (1, 1, 1)
    # The input's key works like the header, and takes precedence over it.
    by_input = created(
        await shop.create_order(buyer, {**input, "idempotencyKey": "order-2"}, headers=key_header("x"))
    )
    repeat = created(await shop.create_order(buyer, {**input, "idempotencyKey": "order-2"}))
    assert by_input["order"]["number"] == repeat["order"]["number"] == "ORD-000002"
    assert repeat["replayed"] is True
    # Without a key every request is a new order.
    assert created(await shop.create_order(buyer, input))["order"]["number"] == "ORD-000003"


async def test_the_same_key_with_another_request_is_a_conflict(shop: Shop) -> None:
    buyer = await shop.account()
    product = await shop.product(900)
    created(await shop.create_order(buyer, order_input(line(product, 1)), headers=key_header("k")))
    conflict = await shop.create_order(buyer, order_input(line(product, 2)), headers=key_header("k"))
    assert conflict.error_codes == ["CONFLICT"]
    assert conflict.data is None
    # Another user's request with the same key is another request too.
    other = await shop.account()
    assert (
        await shop.create_order(other, order_input(line(product, 1)), headers=key_header("k"))
    ).error_codes == ["CONFLICT"]
    assert (await shop.counts())["orders"] == 1


async def test_a_refused_request_records_no_key(shop: Shop) -> None:
    buyer = await shop.account()
    product = await shop.product(900, stock=1)
    input = order_input(line(product, 2))
    refused = (await shop.create_order(buyer, input, headers=key_header("retry-me"))).ok()["createOrder"]
    assert [e["code"] for e in refused["userErrors"]] == ["OUT_OF_STOCK"]
    await shop.set_product(product, stock_quantity=5)
    retried = created(await shop.create_order(buyer, input, headers=key_header("retry-me")))
    assert retried["replayed"] is False and retried["order"]["number"] == "ORD-000001"


async def test_transitions_with_a_key_happen_once(shop: Shop, gql: GraphQLClient) -> None:
    buyer = await shop.account()
    product = await shop.product(1000, stock=3)
    order = await shop.place(buyer, line(product, 3))
    oid = order["id"]

    async def move(document: str, account: Account, key: str, **extra: Any) -> dict[str, Any]:
        result = await gql(
            document, {"input": {"id": oid, **extra}}, token=account.token, headers=key_header(key)
        )
        payload: dict[str, Any] = next(iter(result.ok().values()))
        assert payload["userErrors"] == [], payload
        return payload

    first = await move(SUBMIT, buyer, "submit-1")
    second = await move(SUBMIT, buyer, "submit-1")  # without the key this would be INVALID_TRANSITION
    assert (first["replayed"], second["replayed"]) == (False, True)
    assert second["order"]["status"] == "AWAITING_PAYMENT"
    paid = await move(CONFIRM, shop.operator, "pay-1", reason="card")
    paid_again = await move(CONFIRM, shop.operator, "pay-1", reason="card")
    assert paid_again["replayed"] is True and paid_again["order"]["paidAt"] == paid["order"]["paidAt"]
    cash = {"input": {"id": oid, "reason": "cash"}}
    conflict = await gql(CONFIRM, cash, token=shop.operator.token, headers=key_header("pay-1"))
    assert conflict.error_codes == ["CONFLICT"]
    history = [(h["from"], h["to"]) for h in paid_again["order"]["statusHistory"]]
    assert history == [(None, "PENDING"), ("PENDING", "AWAITING_PAYMENT"), ("AWAITING_PAYMENT", "PAID")]

    # Cancel: the stock comes back once however often the request is repeated.
    scarce = await shop.product(10, stock=4)
    other = await shop.place(buyer, line(scarce, 4))
    assert await shop.stock(scarce) == 0
    cancel_input = {"input": {"id": other["id"]}}
    for replayed in (False, True, True):
        result = await gql(CANCEL, cancel_input, token=buyer.token, headers=key_header("cancel-1"))
        assert result.ok()["cancelOrder"]["replayed"] is replayed
    assert await shop.stock(scarce) == 4


async def _idempotency_records(shop: Shop) -> int:
    async with shop.db.session(TenantScope.all_tenants()) as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(IdempotencyRecord)
                .where(IdempotencyRecord.tenant_id == shop.tenant_id)
            )
            or 0
        )


async def test_two_concurrent_creates_with_one_key_make_one_order(shop: Shop, gql: GraphQLClient) -> None:
    buyer = await shop.account()
    product = await shop.product(500, stock=10)
    input = order_input(line(product, 3))
    results = await at_once(
        *(
            gql(CREATE_ORDER, {"input": input}, token=buyer.token, headers=key_header("same"))
            for _ in range(2)
        )
    )
    payloads = [created(r) for r in results]
    assert {p["order"]["number"] for p in payloads} == {"ORD-000001"}
    assert sorted(p["replayed"] for p in payloads) == [False, True]
    assert await shop.stock(product) == 7
    counts = await shop.counts()
    assert (counts["orders"], counts["history"], counts["events"], counts["counter"]) == (1, 1, 1, 1)
    assert await _idempotency_records(shop) == 1


async def test_two_concurrent_submits_with_one_key_record_one_transition(
    shop: Shop, gql: GraphQLClient
) -> None:
    buyer = await shop.account()
    order = await shop.place(buyer, line(await shop.product(500), 1))
    results = await at_once(
        *(
            gql(SUBMIT, {"input": {"id": order["id"]}}, token=buyer.token, headers=key_header("s"))
            for _ in range(2)
        )
    )
    payloads = [r.ok()["submitOrder"] for r in results]
    assert all(p["userErrors"] == [] and p["order"]["status"] == "AWAITING_PAYMENT" for p in payloads)
    assert sorted(p["replayed"] for p in payloads) == [False, True]
    counts = await shop.counts()
    assert (counts["history"], counts["events"]) == (2, 2)  # creation + one submit


@asynccontextmanager
async def _server_process(settings: Settings) -> AsyncIterator[GraphQLClient]:
    """An app of its own (engine, pool, dispatcher, broadcast) on the same PostgreSQL and Redis:
    what a second server process would be."""
    app = create_app(make_settings(settings.database_url, settings.broadcast_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield GraphQLClient(client)


async def test_one_key_on_two_server_processes_at_once(shop: Shop, settings: Settings) -> None:
    buyer = await shop.account()
    product = await shop.product(500, stock=10)
    input = order_input(line(product, 2))
    async with AsyncExitStack() as stack:
        servers = [await stack.enter_async_context(_server_process(settings)) for _ in range(2)]
        creates = await at_once(
            *(
                s(CREATE_ORDER, {"input": input}, token=buyer.token, headers=key_header("two-processes"))
                for s in servers
            )
        )
        payloads = [created(r) for r in creates]
        assert [p["order"]["number"] for p in payloads] == ["ORD-000001", "ORD-000001"]
        assert sorted(p["replayed"] for p in payloads) == [False, True]
        oid = payloads[0]["order"]["id"]
        submits = await at_once(
            *(
                s(SUBMIT, {"input": {"id": oid}}, token=buyer.token, headers=key_header("submit"))
                for s in servers
            )
        )
        assert sorted(r.ok()["submitOrder"]["replayed"] for r in submits) == [False, True]
    assert await shop.stock(product) == 8
    counts = await shop.counts()
    assert (counts["orders"], counts["history"], counts["events"], counts["counter"]) == (1, 2, 2, 1)
