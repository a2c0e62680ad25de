"""Websocket handshakes from browser origins, against a real server process: the settings' origins
and the origins tenants in service list (Tenant.allowedOrigins) may open a graphql-transport-ws
connection, as CORS lets them call over HTTP; any other origin is refused before the upgrade."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin, Subprotocol

from core.permissions import Role
from core.settings import Settings
from server.runtime import Runtime
from tests.conftest import TEST_SIGNING_KEY
from tests.identity.test_tenant_origins import APP_ORIGIN, PLATFORM_ORIGIN, update
from tests.support.graphql import GraphQLClient
from tests.support.identity import quick_account
from tests.support.live_server import RECEIVE_TIMEOUT, LiveServer, LiveServers, server_env

PROTOCOL = Subprotocol("graphql-transport-ws")


@pytest.fixture(scope="module")
async def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    env = server_env(
        settings.database_url,
        settings.broadcast_url,
        TEST_SIGNING_KEY,
        TENANTGRAPH_ALLOWED_ORIGINS=PLATFORM_ORIGIN,
        # Read the tenants' origins at every handshake: the test changes them in between.
        TENANTGRAPH_TENANT_ORIGINS_REFRESH_SECONDS="0",
    )
    pool = LiveServers(tmp_path_factory.mktemp("websocket-origin-servers"), env)
    try:
        (started,) = await pool.start(1)
        yield started
    finally:
        await pool.stop_all()


async def handshake(server: LiveServer, origin: str, token: str) -> str:
    """ "ack" when the connection from ``origin`` opened and took the token; else the refusal."""
    try:
        async with connect(
            server.ws_url, origin=Origin(origin), subprotocols=[PROTOCOL], open_timeout=RECEIVE_TIMEOUT
        ) as ws:
            await ws.send(
                json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
            )
            answer = json.loads(await ws.recv())
            return "ack" if answer["type"] == "connection_ack" else f"answered {answer['type']}"
    except InvalidStatus as refused:
        return f"refused {refused.response.status_code}"


async def test_listed_origins_open_websockets_and_others_are_refused(
    server: LiveServer, runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    assert await handshake(server, PLATFORM_ORIGIN, admin.token) == "ack"
    assert await handshake(server, APP_ORIGIN, admin.token) == "refused 403"

    listed = await update(gql, admin, allowedOrigins=[APP_ORIGIN])
    assert listed["userErrors"] == [] and listed["tenant"]["allowedOrigins"] == [APP_ORIGIN]
    assert await handshake(server, APP_ORIGIN, admin.token) == "ack"
    # Browsers send the origin as written; it is compared as CORS compares it (normalised).
    assert await handshake(server, "https://APP.acme.example:443", admin.token) == "ack"
    assert await handshake(server, "https://other.acme.example", admin.token) == "refused 403"

    await update(gql, admin, allowedOrigins=None)
    assert await handshake(server, APP_ORIGIN, admin.token) == "refused 403"
