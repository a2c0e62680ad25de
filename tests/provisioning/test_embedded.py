"""The embedded default (SQLite, in-memory broadcast): the worker runs inside the server, and a
``provisioningProgress`` subscription follows a request from its current state to ACTIVE."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from httpx_ws import aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette

from server.app import create_app
from tests.conftest import make_settings
from tests.provisioning.conftest import CREATE, FAIL, START
from tests.support.graphql import GraphQLClient
from tests.test_embedded_sqlite import cli, sign_in

MINE = "{ provisioningRequests { nodes { id status product { id } } } }"
PROGRESS = "subscription($id: ID!) { provisioningProgress(requestId: $id) { status percent } }"


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("embedded-provisioning") / "tenantgraph.db"
    url = f"sqlite+aiosqlite:///{path}"
    cli(url, "migrate")
    cli(url, "seed-demo")
    # The demo requests take 20 s a step: made manual, the in-server worker leaves them alone.
    with sqlite3.connect(path) as db:
        db.execute("update provisioning_requests set manual = 1")
    return url


@pytest.fixture
async def embedded_app(sqlite_url: str) -> AsyncIterator[Starlette]:
    settings = make_settings(
        sqlite_url,
        "memory://",
        outbox_poll_seconds=0.1,
        provisioning_poll_seconds=0.05,
        provisioning_step_seconds=0.05,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def test_the_in_server_worker_runs_a_request_to_active(embedded_app: Starlette) -> None:
    async with (
        ASGIWebSocketTransport(app=embedded_app) as transport,
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        gql = GraphQLClient(client)
        user = await sign_in(gql, "acme", "user@acme.example")
        admin = await sign_in(gql, "platform", "admin@platform.example")
        # The demo requests were made manual (the fixture): the worker leaves them alone.
        (demo,) = (await gql(MINE, token=user)).ok()["provisioningRequests"]["nodes"]
        every = (await gql(MINE, token=admin)).ok()["provisioningRequests"]["nodes"]
        assert len(every) == 2 and demo["id"] in {r["id"] for r in every}
        failed = (await gql(FAIL, {"input": {"id": demo["id"]}}, token=admin)).ok()
        assert failed["failProvisioningRequest"]["request"]["status"] == "FAILED"
        made = await gql(CREATE, {"input": {"productId": demo["product"]["id"]}}, token=user)
        request = made.ok()["createProvisioningRequest"]["request"]["id"]
        async with aconnect_ws(
            "http://testserver/graphql", client, subprotocols=["graphql-transport-ws"]
        ) as ws:
            await ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {user}"}})
            assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
            await ws.send_json(
                {"id": "1", "type": "subscribe", "payload": {"query": PROGRESS, "variables": {"id": request}}}
            )
            first = await ws.receive_json(timeout=5)
            assert first["payload"]["data"]["provisioningProgress"] == {"status": "PENDING", "percent": 0}
            started = (await gql(START, {"input": {"id": request}}, token=admin)).ok()
            assert started["startProvisioningRequest"]["request"]["status"] == "RUNNING"
            seen: list[dict[str, Any]] = []
            while True:
                message = await asyncio.wait_for(ws.receive_json(), 15)
                if message["type"] == "complete":
                    break
                seen.append(message["payload"]["data"]["provisioningProgress"])
        assert seen[-1] == {"status": "ACTIVE", "percent": 100}, seen
