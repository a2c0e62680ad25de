"""The express way of the fan-out (realtime/fanout.py, schema/live.py) end to end: a real server
process, real websockets on both protocols. Subscribers of one document and kind of viewer get the
message the first of them made, in order, with their own operation ids; what depends on who the
viewer is, and a subscriber whose access ended, never take it. Counted by the server's
``tenantgraph_subscription_deliveries_total`` (read from /metrics)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from core.permissions import Role
from core.settings import Settings
from tests.orders.conftest import CANCEL, SUBMIT, Shop, line
from tests.orders.test_subscription import DELIVERY_TIMEOUT, SUBSCRIPTION, wait_subscribed
from tests.support.identity import Account
from tests.support.live_server import LegacyWsClient, LiveServer, TransportWsClient, deliveries
from tests.support.live_server import deliveries_since as changed

# Reads who the viewer is (User.orders compares the viewer with the user): never shared.
ABOUT_THE_VIEWER = """
subscription {
  orderStatusChanged { to order { number user { orders(first: 1) { edges { node { number } } } } } }
}
"""
LOGOUT = "mutation { logout { sessionsEnded } }"
Client = TransportWsClient | LegacyWsClient


async def all_receive(clients: list[Client]) -> list[dict[str, Any]]:
    return [(await client.next_data("1", DELIVERY_TIMEOUT))["orderStatusChanged"] for client in clients]


@asynccontextmanager
async def subscribed(
    shop: Shop, server: LiveServer, settings: Settings, accounts: list[Account], query: str, legacy: int = 0
) -> AsyncIterator[list[Client]]:
    """A connection per account (the last ``legacy`` on graphql-ws), each subscribed to ``query``
    with id "1" and listening when the block starts."""
    clients: list[Client] = []
    try:
        for n, account in enumerate(accounts):
            kind = LegacyWsClient if n >= len(accounts) - legacy else TransportWsClient
            clients.append(await kind.connected(server.ws_url, account.token))
        for client in clients:
            if isinstance(client, LegacyWsClient):
                await client.start(query)
            else:
                await client.subscribe(query)
        await wait_subscribed(settings.broadcast_url, shop.tenant_id)
        yield clients
    finally:
        for client in clients:
            await client.close()


async def test_one_kind_of_viewer_gets_the_first_subscribers_message_in_order(
    shop: Shop, server: LiveServer, settings: Settings
) -> None:
    owner = await shop.account()
    managers = [await shop.account(Role.MANAGER) for _ in range(5)]
    product = await shop.product(300)
    async with subscribed(shop, server, settings, [*managers, owner], SUBSCRIPTION) as everyone:
        clients, mine = everyone[:-1], everyone[-1]
        # The first event teaches each subscription its document: all six take it the plain way.
        before = await deliveries(server)
        order = await shop.place(owner, line(product, 3))
        assert {change["to"] for change in await all_receive(everyone)} == {"PENDING"}
        assert await changed(before, server) == {"plain": 6, "express": 0}

        for mutation, status in ((SUBMIT, "AWAITING_PAYMENT"), (CANCEL, "CANCELLED")):
            before = await deliveries(server)
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
            assert await changed(before, server) == {"plain": 2, "express": 4}
        for client in everyone:
            await client.expect_nothing(0.3)


async def test_both_protocols_get_their_own_messages_and_ids(
    shop: Shop, server: LiveServer, settings: Settings
) -> None:
    owner = await shop.account()
    managers = [await shop.account(Role.MANAGER) for _ in range(4)]
    product = await shop.product(300)
    async with subscribed(shop, server, settings, managers, SUBSCRIPTION, legacy=3) as clients:
        order = await shop.place(owner, line(product, 1))
        await all_receive(clients)
        before = await deliveries(server)
        await shop.move(SUBMIT, owner, order["id"])
        # next_data checks each message's type ("next" or "data") and id.
        received = await all_receive(clients)
        assert [change["to"] for change in received] == ["AWAITING_PAYMENT"] * 4
        assert len({str(change) for change in received}) == 1
        assert await changed(before, server) == {"plain": 1, "express": 3}


async def test_what_depends_on_the_viewer_is_never_expressed(
    shop: Shop, server: LiveServer, settings: Settings
) -> None:
    managers = [await shop.account(Role.MANAGER) for _ in range(3)]
    product = await shop.product(300)
    async with subscribed(shop, server, settings, managers, ABOUT_THE_VIEWER) as clients:
        # Placed by the first manager: User.orders shows it to them (their own) and to the others
        # (staff) alike, but only after asking who the viewer is.
        order = await shop.place(managers[0], line(product, 1))
        await all_receive(clients)
        before = await deliveries(server)
        await shop.move(SUBMIT, managers[0], order["id"])
        received = await all_receive(clients)
        newest = {"edges": [{"node": {"number": order["number"]}}]}
        assert [change["order"]["user"]["orders"] for change in received] == [newest] * 3
        assert await changed(before, server) == {"plain": 3, "express": 0}


async def test_a_subscriber_whose_session_ended_gets_nothing_more(
    shop: Shop, server: LiveServer, settings: Settings
) -> None:
    owner = await shop.account()
    managers = [await shop.account(Role.MANAGER) for _ in range(3)]
    product = await shop.product(300)
    async with subscribed(shop, server, settings, managers, SUBSCRIPTION) as clients:
        order = await shop.place(owner, line(product, 1))
        await all_receive(clients)

        assert (await shop.gql(LOGOUT, token=managers[2].token)).ok()
        ended = await clients[2].receive(DELIVERY_TIMEOUT)
        assert ended["type"] == "next" and ended["payload"]["data"] is None, ended
        assert [e["extensions"]["code"] for e in ended["payload"]["errors"]] == ["UNAUTHENTICATED"]
        assert (await clients[2].receive(DELIVERY_TIMEOUT))["type"] == "complete"

        before = await deliveries(server)
        await shop.move(SUBMIT, owner, order["id"])
        assert [change["to"] for change in await all_receive(clients[:2])] == ["AWAITING_PAYMENT"] * 2
        await clients[2].expect_nothing(0.5)
        assert await changed(before, server) == {"plain": 1, "express": 1}
