"""The express way of the fan-out (realtime/fanout.py, schema/live.py) end to end: a real server
process, real websockets on both protocols. Subscribers of one document and kind of viewer get the
message the first of them made, in order, with their own operation ids; what depends on who the
viewer is, and a subscriber whose access ended, never take it. Counted by the server's
``tenantgraph_subscription_deliveries_total`` (read from /metrics)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from core.permissions import Role
from core.settings import Settings
from tests.conftest import TEST_SIGNING_KEY
from tests.orders.conftest import CANCEL, SUBMIT, Shop, line
from tests.orders.test_subscription import DELIVERY_TIMEOUT, SUBSCRIPTION, wait_subscribed
from tests.support.live_server import LegacyWsClient, LiveServer, LiveServers, TransportWsClient, server_env

# Reads who the viewer is (User.orders compares the viewer with the user): never shared.
ABOUT_THE_VIEWER = """
subscription {
  orderStatusChanged { to order { number user { orders(first: 1) { edges { node { number } } } } } }
}
"""
LOGOUT = "mutation { logout { sessionsEnded } }"
Client = TransportWsClient | LegacyWsClient


@pytest.fixture(scope="module")
async def live(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    env = server_env(settings.database_url, settings.broadcast_url, TEST_SIGNING_KEY)
    pool = LiveServers(tmp_path_factory.mktemp("express-servers"), env)
    try:
        (started,) = await pool.start(1)
        yield started
    finally:
        await pool.stop_all()


async def deliveries(server: LiveServer) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        text = (await http.get("/metrics")).text
    found = re.findall(r'^tenantgraph_subscription_deliveries_total\{way="(\w+)"\} (\S+)$', text, re.M)
    return {"plain": 0.0, "express": 0.0} | {way: float(value) for way, value in found}


async def changed(since: dict[str, float], server: LiveServer) -> dict[str, float]:
    now = await deliveries(server)
    return {way: now[way] - since[way] for way in now}


async def all_receive(clients: list[Client]) -> list[dict[str, Any]]:
    return [(await client.next_data("1", DELIVERY_TIMEOUT))["orderStatusChanged"] for client in clients]


async def subscribe(client: Client, query: str) -> None:
    if isinstance(client, LegacyWsClient):
        await client.start(query)
    else:
        await client.subscribe(query)


async def test_one_kind_of_viewer_gets_the_first_subscribers_message_in_order(
    shop: Shop, live: LiveServer, settings: Settings
) -> None:
    owner = await shop.account()
    managers = [await shop.account(Role.MANAGER) for _ in range(5)]
    product = await shop.product(300)
    clients: list[Client] = [await TransportWsClient.connected(live.ws_url, m.token) for m in managers]
    mine = await TransportWsClient.connected(live.ws_url, owner.token)
    try:
        for client in [*clients, mine]:
            await subscribe(client, SUBSCRIPTION)
        await wait_subscribed(settings.broadcast_url, shop.tenant_id)

        # The first event teaches each subscription its document: all six take it the plain way.
        before = await deliveries(live)
        order = await shop.place(owner, line(product, 3))
        assert {change["to"] for change in await all_receive([*clients, mine])} == {"PENDING"}
        assert await changed(before, live) == {"plain": 6, "express": 0}

        for mutation, status in ((SUBMIT, "AWAITING_PAYMENT"), (CANCEL, "CANCELLED")):
            before = await deliveries(live)
            await shop.move(mutation, owner, order["id"])
            received = await all_receive(clients)
            expected = {
                "from": received[0]["from"],
                "to": status,
                "actor": "user",
                "order": {
                    "number": order["number"],
                    "status": status,
                    "user": {"email": owner.email},
                    "items": [{"quantity": 3}],
                },
            }
            assert received == [expected] * len(clients)
            assert (await mine.next_data("1", DELIVERY_TIMEOUT))["orderStatusChanged"] == expected
            # The managers: one executes, four get its message; the owner (another kind) executes.
            assert await changed(before, live) == {"plain": 2, "express": 4}
        for client in [*clients, mine]:
            await client.expect_nothing(0.3)
    finally:
        for client in [*clients, mine]:
            await client.close()


async def test_both_protocols_get_their_own_messages_and_ids(
    shop: Shop, live: LiveServer, settings: Settings
) -> None:
    owner = await shop.account()
    managers = [await shop.account(Role.MANAGER) for _ in range(4)]
    product = await shop.product(300)
    clients: list[Client] = [await TransportWsClient.connected(live.ws_url, managers[0].token)]
    clients += [await LegacyWsClient.connected(live.ws_url, m.token) for m in managers[1:]]
    try:
        for client in clients:
            await subscribe(client, SUBSCRIPTION)
        await wait_subscribed(settings.broadcast_url, shop.tenant_id)
        order = await shop.place(owner, line(product, 1))
        await all_receive(clients)

        before = await deliveries(live)
        await shop.move(SUBMIT, owner, order["id"])
        # next_data checks each message's type ("next" or "data") and id.
        received = await all_receive(clients)
        assert [change["to"] for change in received] == ["AWAITING_PAYMENT"] * 4
        assert len({str(change) for change in received}) == 1
        assert await changed(before, live) == {"plain": 1, "express": 3}
    finally:
        for client in clients:
            await client.close()


async def test_what_depends_on_the_viewer_is_never_expressed(
    shop: Shop, live: LiveServer, settings: Settings
) -> None:
    managers = [await shop.account(Role.MANAGER) for _ in range(3)]
    product = await shop.product(300)
    clients: list[Client] = [await TransportWsClient.connected(live.ws_url, m.token) for m in managers]
    try:
        for client in clients:
            await subscribe(client, ABOUT_THE_VIEWER)
        await wait_subscribed(settings.broadcast_url, shop.tenant_id)
        # Placed by the first manager: User.orders shows it to them (their own) and to the others
        # (staff) alike, but only after asking who the viewer is.
        order = await shop.place(managers[0], line(product, 1))
        await all_receive(clients)
        before = await deliveries(live)
        await shop.move(SUBMIT, managers[0], order["id"])
        received = await all_receive(clients)
        newest = {"edges": [{"node": {"number": order["number"]}}]}
        assert [change["order"]["user"]["orders"] for change in received] == [newest] * 3
        assert await changed(before, live) == {"plain": 3, "express": 0}
    finally:
        for client in clients:
            await client.close()


async def test_a_subscriber_whose_session_ended_gets_nothing_more(
    shop: Shop, live: LiveServer, settings: Settings
) -> None:
    owner = await shop.account()
    managers = [await shop.account(Role.MANAGER) for _ in range(3)]
    product = await shop.product(300)
    clients: list[Client] = [await TransportWsClient.connected(live.ws_url, m.token) for m in managers]
    try:
        for client in clients:
            await subscribe(client, SUBSCRIPTION)
        await wait_subscribed(settings.broadcast_url, shop.tenant_id)
        order = await shop.place(owner, line(product, 1))
        await all_receive(clients)

        assert (await shop.gql(LOGOUT, token=managers[2].token)).ok()
        ended = await clients[2].receive(DELIVERY_TIMEOUT)
        assert ended["type"] == "next" and ended["payload"]["data"] is None, ended
        assert [e["extensions"]["code"] for e in ended["payload"]["errors"]] == ["UNAUTHENTICATED"]
        assert (await clients[2].receive(DELIVERY_TIMEOUT))["type"] == "complete"

        before = await deliveries(live)
        await shop.move(SUBMIT, owner, order["id"])
        assert [change["to"] for change in await all_receive(clients[:2])] == ["AWAITING_PAYMENT"] * 2
        await clients[2].expect_nothing(0.5)
        assert await changed(before, live) == {"plain": 1, "express": 1}
    finally:
        for client in clients:
            await client.close()
