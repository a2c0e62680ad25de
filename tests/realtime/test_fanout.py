"""The fan-out (realtime/fanout.py): subscriptions run through the schema in this process, as a
websocket runs them, against real PostgreSQL and Redis.

An event costs the same statements for one subscriber or twenty (its order, then one batch per
relation the subscribers ask for; no access query), and a failing read of an event's payload
(a real PostgreSQL error) is retried or skipped, never ending a subscription."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from starlette.applications import Starlette
from strawberry.federation import Schema

from core.permissions import Role
from core.scope import TenantScope
from realtime.stream import channel_name
from schema.context import RequestContext
from server.graphql_app import GraphQLEndpoint
from server.runtime import Runtime
from services.context import ServiceContext
from services.events import record_event
from services.identity.auth import authenticate
from services.orders.states import ORDER_STATUS_CHANGED
from tests.orders.conftest import CANCEL, SUBMIT, Shop, line, uuid_of
from tests.support.graphql import count_statements
from tests.support.identity import Account

SUBSCRIPTION = """
subscription {
  orderStatusChanged { from to actor order { number status user { email } items { quantity } } }
}
"""
TIMEOUT = 10.0


def schema_of(app: Starlette) -> Schema:
    for route in app.routes:
        endpoint = getattr(route, "endpoint", None)
        if isinstance(endpoint, GraphQLEndpoint):
            return endpoint.schema  # type: ignore[return-value]
    raise AssertionError("no GraphQL endpoint")


async def websocket_context(runtime: Runtime, account: Account) -> RequestContext:
    """What GraphQLEndpoint builds for a websocket after connection_init."""
    services = ServiceContext(
        db=runtime.db,
        settings=runtime.settings,
        rate_limiter=runtime.rate_limiter,
        principal=await authenticate(runtime.access, runtime.settings, account.token, None),
        on_events_committed=runtime.dispatcher.wake,
        on_access_changed=runtime.access.forget,
    )
    return RequestContext(
        services=services,
        broadcast=runtime.broadcast,
        payment_provider=runtime.payment_provider,
        fanout=runtime.fanout,
        access=runtime.access,
        correlation_id="test",
        is_websocket=True,
    )


class Subscriptions:
    """Subscriptions of ``orderStatusChanged``, each read by a task of its own."""

    def __init__(self, streams: list[Any]) -> None:
        self.streams = streams
        self.received: list[list[Any]] = [[] for _ in streams]
        self.tasks = [asyncio.create_task(self._read(n, s)) for n, s in enumerate(streams)]

    async def _read(self, n: int, stream: Any) -> None:
        async for result in stream:
            self.received[n].append(result)

    async def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not all(len(r) >= count for r in self.received):
            assert time.monotonic() < deadline, [len(r) for r in self.received]
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@contextlib.asynccontextmanager
async def subscribed(
    app: Starlette, runtime: Runtime, shop: Shop, contexts: list[RequestContext]
) -> AsyncIterator[Subscriptions]:
    schema = schema_of(app)
    subscriptions = Subscriptions([await schema.subscribe(SUBSCRIPTION, context_value=c) for c in contexts])
    try:
        deadline = time.monotonic() + TIMEOUT
        channel = channel_name(ORDER_STATUS_CHANGED, shop.tenant_id)
        while (
            runtime.fanout.subscriber_count(ORDER_STATUS_CHANGED, shop.tenant_id) < len(contexts)
            or channel not in runtime.broadcast.subscribed_channels()
        ):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # every subscription waits on its inbox
        yield subscriptions
    finally:
        await subscriptions.close()


def changes(results: list[Any]) -> list[dict[str, Any]]:
    assert all(not result.errors for result in results), [result.errors for result in results]
    return [result.data["orderStatusChanged"] for result in results]


async def test_an_event_costs_the_same_statements_for_one_subscriber_or_twenty(
    app: Starlette, runtime: Runtime, shop: Shop
) -> None:
    owner = await shop.account()
    product = await shop.product(400)
    order = await shop.place(owner, line(product, 2))
    costs = {}
    for count in (1, 20):
        # Signed in (connection_init) before counting: the access store holds their sessions.
        staff = [await websocket_context(runtime, await shop.account(Role.MANAGER)) for _ in range(count)]
        go = asyncio.Event()
        mover = SUBMIT if count == 1 else CANCEL

        async def move(document: str = mover, go: asyncio.Event = go) -> None:
            # Its own task, started outside the counting block: the mutation is not counted.
            await go.wait()
            await shop.move(document, owner, order["id"])

        moving = asyncio.create_task(move())
        with count_statements(runtime.db.engine) as counter:
            async with subscribed(app, runtime, shop, staff) as subscriptions:
                go.set()
                await moving
                await subscriptions.wait_for(1)
        received = [changes(r) for r in subscriptions.received]
        assert all(r == received[0] for r in received)
        assert received[0][0]["order"] == {
            "number": order["number"],
            "status": "AWAITING_PAYMENT" if count == 1 else "CANCELLED",
            "user": {"email": owner.email},
            "items": [{"quantity": 2}],
        }
        costs[count] = [s for s in counter.statements if "outbox_events" not in s]
    # The order, its user, its items: once per event. Access comes from memory.
    assert len(costs[1]) == len(costs[20]) == 3, costs
    assert not any("auth_sessions" in statement for statement in costs[20])


async def inject_status_change(
    runtime: Runtime, shop: Shop, order_id: uuid.UUID, owner: Account, to: str
) -> None:
    """An outbox event like the one a status change records (without touching the orders table)."""
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        record_event(
            session,
            topic=ORDER_STATUS_CHANGED,
            tenant_id=shop.tenant_id,
            payload={
                "orderId": str(order_id),
                "userId": str(owner.user_id),
                "from": "PENDING",
                "to": to,
                "actor": "test",
            },
        )
    runtime.dispatcher.wake()


@contextlib.asynccontextmanager
async def orders_table_away(runtime: Runtime) -> AsyncIterator[None]:
    """Every read of the orders table fails while the block runs (a real error of PostgreSQL)."""
    async with runtime.db.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE orders RENAME TO orders_away"))
    try:
        yield
    finally:
        async with runtime.db.engine.begin() as connection:
            await connection.execute(text("ALTER TABLE orders_away RENAME TO orders"))


async def wait_logged(caplog: pytest.LogCaptureFixture, fragment: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not any(fragment in record.getMessage() for record in caplog.records):
        assert time.monotonic() < deadline, f"never logged {fragment!r}"
        await asyncio.sleep(0.01)


async def test_a_failing_payload_read_never_ends_a_subscription(
    app: Starlette, runtime: Runtime, shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    owner = await shop.account()
    product = await shop.product(400)
    order = await shop.place(owner, line(product, 1))
    order_id = uuid_of(order["id"])
    caplog.set_level(logging.WARNING, logger="realtime.fanout")

    contexts = [await websocket_context(runtime, a) for a in (owner, await shop.account(Role.MANAGER))]
    async with subscribed(app, runtime, shop, contexts) as subscriptions:
        # 1. The read fails (relation "orders" does not exist), and succeeds on a later attempt.
        async with orders_table_away(runtime):
            await inject_status_change(runtime, shop, order_id, owner, "AWAITING_PAYMENT")
            await wait_logged(caplog, "attempt 1 failed")
        await subscriptions.wait_for(1)
        assert [c["to"] for r in subscriptions.received for c in changes(r)] == ["AWAITING_PAYMENT"] * 2

        # 2. It fails every time: the event is skipped (and logged), the subscriptions go on.
        async with orders_table_away(runtime):
            await inject_status_change(runtime, shop, order_id, owner, "CANCELLED")
            await wait_logged(caplog, "skipped event")
        await shop.move(CANCEL, owner, order["id"])
        await subscriptions.wait_for(2)
        for received in subscriptions.received:
            assert [(c["from"], c["to"]) for c in changes(received)] == [
                ("PENDING", "AWAITING_PAYMENT"),
                ("PENDING", "CANCELLED"),
            ]
        assert all(not task.done() for task in subscriptions.tasks)
