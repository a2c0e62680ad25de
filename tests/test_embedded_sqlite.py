"""Smoke tests of the embedded default: SQLite, in-memory broadcast, demo data, GraphiQL."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from httpx_ws import aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette

from demo import DEMO_PASSWORD
from server.app import create_app
from tests.conftest import make_settings
from tests.support.graphql import GraphQLClient
from tests.support.identity import LOGIN

ROOT = Path(__file__).resolve().parent.parent


def cli(database_url: str, *args: str) -> str:
    env = {**os.environ, "TENANTGRAPH_DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("embedded") / "tenantgraph.db"
    url = f"sqlite+aiosqlite:///{path}"
    cli(url, "migrate")
    first = cli(url, "seed-demo")
    second = cli(url, "seed-demo")
    assert "admin@platform.example" in first and DEMO_PASSWORD in first
    assert first == second  # the same accounts, listed again
    with sqlite3.connect(path) as db:
        assert db.execute("select count(*) from users").fetchone() == (10,)
        assert db.execute("select count(*) from tenants").fetchone() == (3,)
    return url


@pytest.fixture
async def embedded_app(sqlite_url: str) -> AsyncIterator[Starlette]:
    app = create_app(make_settings(sqlite_url, "memory://", outbox_poll_seconds=0.1))
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def connect(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    # Opened inside each test: the transport's task group must end in the task that began it.
    async with (
        ASGIWebSocketTransport(app=app) as transport,
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        yield http


async def sign_in(gql: GraphQLClient, slug: str, email: str) -> str:
    result = await gql(LOGIN, {"input": {"tenantSlug": slug, "email": email, "password": DEMO_PASSWORD}})
    return str(result.ok()["login"]["accessToken"])


async def test_demo_admin_signs_in_and_reads_users(embedded_app: Starlette) -> None:
    async with connect(embedded_app) as client:
        await demo_admin_reads_users(client)


async def demo_admin_reads_users(client: httpx.AsyncClient) -> None:
    gql = GraphQLClient(client)
    token = await sign_in(gql, "platform", "admin@platform.example")
    me = (await gql("{ me { email roles tenant { slug } } }", token=token)).ok()["me"]
    assert me == {
        "email": "admin@platform.example",
        "roles": ["PLATFORM_ADMIN"],
        "tenant": {"slug": "platform"},
    }
    everyone = (
        await gql(
            "{ users(first: 100, orderBy: {field: EMAIL}) { totalCount nodes { email } } }", token=token
        )
    ).ok()["users"]
    assert everyone["totalCount"] == 10
    acme_admin = await sign_in(gql, "acme", "admin@acme.example")
    acme = (
        await gql("{ users(orderBy: {field: EMAIL}) { nodes { email tenant { slug } } } }", token=acme_admin)
    ).ok()["users"]["nodes"]
    assert [u["email"] for u in acme] == [
        "admin@acme.example",
        "manager@acme.example",
        "mfa@acme.example",
        "seller@acme.example",
        "user@acme.example",
    ]
    assert {u["tenant"]["slug"] for u in acme} == {"acme"}


async def test_graphiql_is_served(embedded_app: Starlette) -> None:
    async with connect(embedded_app) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


async def test_subscription_over_memory_broadcast(embedded_app: Starlette) -> None:
    async with connect(embedded_app) as client:
        await subscriber_sees_change(client)


async def subscriber_sees_change(client: httpx.AsyncClient) -> None:
    gql = GraphQLClient(client)
    token = await sign_in(gql, "globex", "admin@globex.example")
    users = (await gql("{ users(filter: {role: USER}) { nodes { id } } }", token=token)).ok()
    user_id = users["users"]["nodes"][0]["id"]
    async with aconnect_ws("http://testserver/graphql", client, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        await ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": "subscription { userUpdated { id fullName } }"},
            }
        )
        await asyncio.sleep(0.2)  # the subscription is registered before the change
        renamed = await gql(
            'mutation($id: ID!) { updateUser(input: {id: $id, fullName: "Renamed In Sqlite"}) '
            "{ user { fullName } userErrors { code } } }",
            {"id": user_id},
            token=token,
        )
        assert renamed.ok()["updateUser"]["user"]["fullName"] == "Renamed In Sqlite"
        message = await ws.receive_json(timeout=5)
        assert message["type"] == "next", json.dumps(message)
        assert message["payload"]["data"]["userUpdated"] == {"id": user_id, "fullName": "Renamed In Sqlite"}
