"""``orderStatusChanged`` end to end: a real server process, graphql-transport-ws websockets, the
outbox and Redis. Orders change through the in-test app; its events reach the other process."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from core.permissions import Role
from core.settings import Settings
from realtime.broadcast import create_broadcast
from realtime.stream import channel_name
from services.orders.states import ORDER_STATUS_CHANGED
from tests.harness.servers import RedisServer
from tests.orders.conftest import CANCEL, SUBMIT, Shop, line
from tests.support.channels import wait_listened
from tests.support.live_server import LiveServer, TransportWsClient

SUBSCRIPTION = """
subscription($orderId: ID) {
  orderStatusChanged(orderId: $orderId) {
    from to actor
    order { number status user { email } items { quantity } }
  }
}
"""
ASSIGN_ROLES = """
mutation($input: UserRolesInput!) { assignRoles(input: $input) { user { roles } userErrors { code } } }
"""
REMOVE_ROLES = """
mutation($input: UserRolesInput!) { removeRoles(input: $input) { user { roles } userErrors { code } } }
"""
DELIVERY_TIMEOUT = 10.0
QUIET = 0.7


async def wait_subscribed(redis_url: str, tenant_id: uuid.UUID) -> None:
    """Until the server listens on the tenant's order channel (subscribing is not acknowledged);
    then a moment for the other subscriptions of the same process to register locally."""
    await wait_listened(redis_url, channel_name(ORDER_STATUS_CHANGED, tenant_id))


async def event(ws: TransportWsClient, id: str = "1") -> dict[str, Any]:
    data = await ws.next_data(id, DELIVERY_TIMEOUT)
    change: dict[str, Any] = data["orderStatusChanged"]
    return change


async def test_owners_get_their_orders_staff_get_all_and_nobody_else(
    shop: Shop, server: LiveServer, settings: Settings
) -> None:
    owner, other = await shop.account(), await shop.account()
    manager = await shop.account(Role.MANAGER)
    product = await shop.product(400)
    clients = {
        name: await TransportWsClient.connected(server.ws_url, account.token)
        for name, account in (("owner", owner), ("other", other), ("manager", manager))
    }
    try:
        for client in clients.values():
            await client.subscribe(SUBSCRIPTION, {})
        await wait_subscribed(settings.broadcast_url, shop.tenant_id)

        # The other user's own order reaches them (so they are listening) and the staff.
        theirs = await shop.place(other, line(product, 1))
        assert (await event(clients["other"]))["order"]["number"] == theirs["number"]
        assert (await event(clients["manager"]))["order"]["user"] == {"email": other.email}

        mine = await shop.place(owner, line(product, 2))
        created = {
            "from": None,
            "to": "PENDING",
            "actor": "user",
            "order": {
                "number": mine["number"],
                "status": "PENDING",
                "user": {"email": owner.email},
                "items": [{"quantity": 2}],
            },
        }
        assert await event(clients["owner"]) == created
        assert await event(clients["manager"]) == created
        await shop.move(SUBMIT, owner, mine["id"])
        submitted = await event(clients["owner"])
        assert (submitted["from"], submitted["to"], submitted["order"]["status"]) == (
            "PENDING",
            "AWAITING_PAYMENT",
            "AWAITING_PAYMENT",
        )
        assert (await event(clients["manager"]))["to"] == "AWAITING_PAYMENT"
        # Nothing of the owner's order reached the other user, nor the other user's own order the owner.
        await clients["other"].expect_nothing(QUIET)
        await clients["owner"].expect_nothing(0.1)

        # Access follows role changes: a manager demoted to USER no longer sees the others'
        # orders (their own still arrive, so the subscription is alive). The demotion is made on
        # another process (the test's app); its access event reaches the server before the next
        # order event does.
        for mutation, role in ((ASSIGN_ROLES, "USER"), (REMOVE_ROLES, "MANAGER")):
            variables = {"input": {"id": manager.gid, "roles": [role]}}
            assert (await shop.gql(mutation, variables, token=shop.admin.token)).ok()
        await shop.move(SUBMIT, other, theirs["id"])
        assert (await event(clients["other"]))["to"] == "AWAITING_PAYMENT"
        own = await shop.place(manager, line(product, 1))
        assert (await event(clients["manager"]))["order"]["number"] == own["number"]
    finally:
        for client in clients.values():
            await client.close()


async def test_one_order_only_and_never_someone_elses(
    shop: Shop, server: LiveServer, settings: Settings
) -> None:
    owner, other = await shop.account(), await shop.account()
    product = await shop.product(400)
    first = await shop.place(owner, line(product, 1))
    second = await shop.place(owner, line(product, 1))
    async with await TransportWsClient.connected(server.ws_url, owner.token) as ws:
        await ws.subscribe(SUBSCRIPTION, {"orderId": first["id"]})
        await wait_subscribed(settings.broadcast_url, shop.tenant_id)
        await shop.move(CANCEL, owner, second["id"])
        await shop.move(SUBMIT, owner, first["id"])
        change = await event(ws)
        assert (change["order"]["number"], change["to"]) == (first["number"], "AWAITING_PAYMENT")
        await ws.expect_nothing(QUIET)

    # Another user's order id is NOT_FOUND, like an id that does not exist.
    async with await TransportWsClient.connected(server.ws_url, other.token) as ws:
        await ws.subscribe(SUBSCRIPTION, {"orderId": first["id"]})
        message = await ws.receive(DELIVERY_TIMEOUT)
        errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
        assert message["type"] in ("error", "next") and errors, message
        assert [e["extensions"]["code"] for e in errors] == ["NOT_FOUND"], message


async def test_subscribers_of_one_channel_arriving_together_all_receive(redis_server: RedisServer) -> None:
    """Regression (realtime/broadcast.py): three order subscriptions of one tenant opened at
    the same moment each receive the channel's messages, and each leaves cleanly."""
    broadcast = create_broadcast(redis_server.url)
    await broadcast.connect()
    try:
        received: list[list[str]] = [[], [], []]
        ready = asyncio.Event()
        subscribed = 0

        async def listen(n: int) -> None:
            nonlocal subscribed
            async with broadcast.subscribe("orders-test") as subscriber:
                subscribed += 1
                if subscribed == len(received):
                    ready.set()
                async for message in subscriber:
                    received[n].append(message.message)
                    return

        listeners = [asyncio.create_task(listen(n)) for n in range(3)]
        await asyncio.wait_for(ready.wait(), DELIVERY_TIMEOUT)
        await broadcast.publish("orders-test", "hello")
        await asyncio.wait_for(asyncio.gather(*listeners), DELIVERY_TIMEOUT)
        assert received == [["hello"], ["hello"], ["hello"]]
        assert "orders-test" not in broadcast.subscribed_channels()
    finally:
        await broadcast.disconnect()
