"""tenantgraph example client: login -> query -> subscribe, with httpx and websockets.

    python examples/python/client.py [URL]      # default $TENANTGRAPH_URL or http://127.0.0.1:8000

Signs in as the demo user of tenant acme, prints their orders and a product, subscribes to
``orderStatusChanged`` over graphql-transport-ws, places an order and cancels it (so the demo
stock is given back), prints both events and exits 0. Needs httpx and websockets
(examples/python/requirements.txt) and a running demo server (``bash scripts/run.sh``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException
from websockets.typing import Subprotocol

TENANT, EMAIL, PASSWORD = "acme", "user@acme.example", "demo-password-1"
EVENT_TIMEOUT = 10.0  # seconds; the server's outbox delivers an event within about one second

LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { accessToken userErrors { code message } }
}"""
OVERVIEW = """
query Overview {
  me { email tenant { slug } }
  orders { nodes { number status total { amount currency } } }
  products(first: 1, filter: {search: "router"}) { nodes { id sku name price { amount currency } } }
}"""
ORDER_STATUS_CHANGED = """
subscription OrderStatusChanged {
  orderStatusChanged { from to actor order { number status } }
}"""
CREATE_ORDER = """
mutation CreateOrder($input: CreateOrderInput!) {
  createOrder(input: $input) { order { id number status } userErrors { code message } }
}"""
CANCEL_ORDER = """
mutation CancelOrder($input: OrderTransitionInput!) {
  cancelOrder(input: $input) { order { number status } userErrors { code message } }
}"""
ADDRESS = {
    "name": "Demo User",
    "line1": "1 Example Street",
    "city": "Berlin",
    "postalCode": "10115",
    "country": "DE",
}


class GraphQLClient:
    """GraphQL over HTTP POST; raises on GraphQL errors and on userErrors of a mutation."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.token: str | None = None

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {json.dumps(body['errors'])}")
        data: dict[str, Any] = body["data"]
        for payload in data.values():
            if isinstance(payload, dict) and payload.get("userErrors"):
                raise RuntimeError(f"userErrors: {json.dumps(payload['userErrors'])}")
        return data


class Subscription:
    """One graphql-transport-ws connection carrying one subscription (id "1")."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, ws_url: str, token: str, query: str) -> Subscription:
        ws = await connect(ws_url, subprotocols=[Subprotocol("graphql-transport-ws")])
        subscription = cls(ws)
        await subscription.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        ack = await subscription.receive()
        if ack["type"] != "connection_ack":
            raise RuntimeError(f"expected connection_ack, got {ack}")
        await subscription.send({"id": "1", "type": "subscribe", "payload": {"query": query}})
        # The protocol does not acknowledge a subscribe: give the server a moment to register it.
        await asyncio.sleep(0.5)
        return subscription

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), EVENT_TIMEOUT))
        return message

    async def next_event(self) -> dict[str, Any]:
        """The data of the next ``next`` message; answers pings, raises on error or complete."""
        while True:
            message = await self.receive()
            if message["type"] == "ping":
                await self.send({"type": "pong"})
            elif message["type"] == "next" and not message["payload"].get("errors"):
                data: dict[str, Any] = message["payload"]["data"]
                return data
            elif message["type"] != "pong":
                raise RuntimeError(f"subscription ended: {json.dumps(message)}")

    async def close(self) -> None:
        await self.send({"id": "1", "type": "complete"})
        await self.ws.close()


def money(value: dict[str, Any]) -> str:
    return f"{value['amount']} {value['currency']} (minor units)"


def print_event(data: dict[str, Any]) -> None:
    change = data["orderStatusChanged"]
    before = change["from"] or "(new)"
    print(f"event: order {change['order']['number']} {before} -> {change['to']} by {change['actor']}")


async def run(base_url: str) -> None:
    ws_url = "ws" + base_url.removeprefix("http") + "/graphql"
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        gql = GraphQLClient(http)
        login = await gql(LOGIN, {"input": {"tenantSlug": TENANT, "email": EMAIL, "password": PASSWORD}})
        token = gql.token = login["login"]["accessToken"]

        overview = await gql(OVERVIEW)
        print(f"signed in as {overview['me']['email']} (tenant {overview['me']['tenant']['slug']})")
        for order in overview["orders"]["nodes"]:
            print(f"order {order['number']} {order['status']} total {money(order['total'])}")
        product = overview["products"]["nodes"][0]
        print(f"product {product['sku']} {product['name']} price {money(product['price'])}")

        subscription = await Subscription.open(ws_url, token, ORDER_STATUS_CHANGED)
        try:
            print("subscribed to orderStatusChanged")
            line = {"productId": product["id"], "quantity": 1}
            created = await gql(CREATE_ORDER, {"input": {"items": [line], "shippingAddress": ADDRESS}})
            placed = created["createOrder"]["order"]
            print(f"placed order {placed['number']} {placed['status']}")
            print_event(await subscription.next_event())

            cancel = {"id": placed["id"], "reason": "Example client"}
            cancelled = (await gql(CANCEL_ORDER, {"input": cancel}))["cancelOrder"]["order"]
            print(f"cancelled order {cancelled['number']} {cancelled['status']}")
            print_event(await subscription.next_event())
        finally:
            await subscription.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "url",
        nargs="?",
        default=os.environ.get("TENANTGRAPH_URL", "http://127.0.0.1:8000"),
        help="the server's base URL (default: $TENANTGRAPH_URL or http://127.0.0.1:8000)",
    )
    args = parser.parse_args()
    try:
        asyncio.run(run(args.url.rstrip("/")))
    except (RuntimeError, OSError, TimeoutError, httpx.HTTPError, WebSocketException) as exc:
        print(f"client.py: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
