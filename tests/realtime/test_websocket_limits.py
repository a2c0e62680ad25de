"""Websocket limits (server/websocket_limits.py) on both protocols, against a real server process
whose limits are small: connection_init within 0.5 s, 2 operations per connection, 2 connections
per user, messages up to 4096 bytes, access tokens of 4 s (the tokens it issues: its
``refreshToken`` answers them). Over any limit the client gets the protocol's error or close code,
and the server serves on (and logs no traceback)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest

from core.settings import Settings
from server.runtime import Runtime
from tests.conftest import TEST_SIGNING_KEY
from tests.realtime.test_user_updated import update_me, wait_listeners
from tests.support.identity import LOGIN, PASSWORD, REFRESH, quick_account
from tests.support.live_server import (
    LegacyWsClient,
    LiveServer,
    LiveServers,
    TransportWsClient,
    WsClosed,
    server_env,
)

MAX_MESSAGE_BYTES = 4096
TOKEN_TTL_SECONDS = 4
LIMITS = {
    "TENANTGRAPH_WS_CONNECTION_INIT_TIMEOUT_SECONDS": "0.5",
    "TENANTGRAPH_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION": "2",
    "TENANTGRAPH_WS_MAX_CONNECTIONS_PER_USER": "2",
    "TENANTGRAPH_WS_MAX_MESSAGE_BYTES": str(MAX_MESSAGE_BYTES),
    "TENANTGRAPH_ACCESS_TOKEN_TTL_SECONDS": str(TOKEN_TTL_SECONDS),
}
USER_UPDATED = "subscription { userUpdated { fullName } }"
LOGOUT = "mutation { logout { sessionsEnded } }"
TOO_MANY_CONNECTIONS = "Too many connections: at most 2 per user."
OTHER_SESSION = "This token is of another sign-in session; open a new connection with it."
DELIVERY_TIMEOUT = 10.0

WsClient = TransportWsClient | LegacyWsClient


@pytest.fixture(scope="module")
async def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    env = server_env(settings.database_url, settings.broadcast_url, TEST_SIGNING_KEY, **LIMITS)
    pool = LiveServers(tmp_path_factory.mktemp("websocket-limit-servers"), env)
    try:
        (started,) = await pool.start(1)
        yield started
    finally:
        await pool.stop_all()


@pytest.fixture(autouse=True)
def serves_cleanly(server: LiveServer) -> Iterator[None]:
    """Whatever a test does to it, the server logs no traceback (its log is printed on failure)."""
    offset = server.log_size()
    yield
    log = server.log_since(offset, lines=100_000)
    print(log)
    assert "Traceback" not in log


@pytest.fixture(params=[TransportWsClient, LegacyWsClient], ids=["graphql-transport-ws", "graphql-ws"])
def protocol(request: pytest.FixtureRequest) -> type[WsClient]:
    client: type[WsClient] = request.param
    return client


async def subscribe(ws: WsClient, id: str, query: str = USER_UPDATED) -> None:
    if isinstance(ws, TransportWsClient):
        await ws.subscribe(query, id=id)
    else:
        await ws.start(query, id=id)


async def received(ws: WsClient, count: int) -> dict[str, Any]:
    """The data of the next ``count`` messages, by subscription id."""
    data = {}
    for _ in range(count):
        message = await ws.receive(DELIVERY_TIMEOUT)
        assert message["type"] in ("next", "data") and "errors" not in message["payload"], message
        data[message["id"]] = message["payload"]["data"]
    return data


def token_expiry(token: str) -> float:
    exp: int = jwt.decode(token, options={"verify_signature": False})["exp"]
    return float(exp)


async def graphql(server: LiveServer, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10.0) as client:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]


@dataclass
class Tokens:
    access: str
    refresh: str


async def refreshed(server: LiveServer, refresh_token: str) -> Tokens:
    """A new access token of the same session, issued by ``server`` (so it lives 4 s)."""
    data = (await graphql(server, REFRESH, {"input": {"refreshToken": refresh_token}}))["refreshToken"]
    assert data["userErrors"] == [], data
    return Tokens(data["accessToken"], data["refreshToken"])


async def reauthenticate(ws: WsClient, token: str) -> dict[str, Any]:
    """graphql-transport-ws: a ping carrying the token; graphql-ws: a second connection_init."""
    payload = {"Authorization": f"Bearer {token}"}
    if isinstance(ws, TransportWsClient):
        await ws.send({"type": "ping", "payload": payload})
        return await ws.receive()
    return await ws.init(payload)


async def closed_after_completes(ws: WsClient, within: float, ids: tuple[str, ...]) -> WsClosed:
    """The server's close, after graphql-ws's `complete` of each of ``ids`` (graphql-transport-ws
    sends none: its close ends them)."""
    if isinstance(ws, LegacyWsClient):
        for id in ids:
            assert await ws.receive(within) == {"type": "complete", "id": id}
    return await ws.wait_closed(within)


def sized(message: dict[str, Any], size: int) -> str:
    """``message`` as JSON of exactly ``size`` UTF-8 bytes (fewer characters): its query padded
    with a comment of two-byte characters."""
    base = json.dumps(message, ensure_ascii=False)
    missing = size - len(base.encode()) - len(" #")
    padded = dict(message, payload=dict(message["payload"]))
    padded["payload"]["query"] += " #" + "é" * (missing // 2) + "a" * (missing % 2)
    text = json.dumps(padded, ensure_ascii=False)
    assert len(text.encode()) == size and len(text) < size
    return text


def invalid_subscription(ws: WsClient, id: str) -> dict[str, Any]:
    kind = "subscribe" if isinstance(ws, TransportWsClient) else "start"
    return {"id": id, "type": kind, "payload": {"query": "subscription { noSuchField }"}}


async def refused_as_invalid(ws: WsClient, id: str) -> None:
    """The server read the subscription and refused it (validation): the connection works."""
    message = await ws.receive()
    assert message["type"] == "error" and message["id"] == id, message
    errors = message["payload"] if isinstance(ws, TransportWsClient) else [message["payload"]]
    assert "noSuchField" in errors[0]["message"], message


async def connect_when_released(protocol: type[WsClient], server: LiveServer, token: str) -> WsClient:
    """A connection for ``token``, retried while the server still counts the user's closed ones."""
    deadline = time.monotonic() + 5.0
    while True:
        try:
            return await protocol.connected(server.ws_url, token)
        except (WsClosed, AssertionError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def test_a_connection_without_connection_init_in_time_is_closed_4408(
    server: LiveServer, protocol: type[WsClient], runtime: Runtime
) -> None:
    started = time.monotonic()
    async with await protocol.open(server.ws_url) as ws:
        closed = await ws.wait_closed(5.0)
    assert (closed.code, closed.reason) == (4408, "Connection initialisation timeout")
    assert 0.5 <= time.monotonic() - started < 3.0

    # One that sends it in time stays open past the timeout, and serves.
    account = await quick_account(runtime, "acme")
    async with await protocol.connected(server.ws_url, account.token) as ws:
        await ws.expect_nothing(1.0)
        await ws.send(invalid_subscription(ws, "late"))
        await refused_as_invalid(ws, "late")


async def test_one_operation_over_the_cap_is_an_error_and_the_others_go_on(
    server: LiveServer, protocol: type[WsClient], runtime: Runtime, settings: Settings
) -> None:
    account = await quick_account(runtime, "acme")
    async with await protocol.connected(server.ws_url, account.token) as ws:
        await subscribe(ws, "a")
        await subscribe(ws, "b")
        await wait_listeners(settings.broadcast_url, account.tenant_id)
        await subscribe(ws, "c")
        error = {
            "message": "Subscription limit reached: at most 2 operations run at once on one connection.",
            "extensions": {"code": "RATE_LIMITED", "maximum": 2},
        }
        if isinstance(ws, TransportWsClient):
            assert await ws.receive() == {"id": "c", "type": "error", "payload": [error]}
        else:
            assert await ws.receive() == {"type": "error", "id": "c", "payload": error}

        await asyncio.sleep(0.3)  # b registers with the process's feed (a did, wait_listeners saw it)
        await update_me(server, account, "Over The Cap")
        expected = {"userUpdated": {"fullName": "Over The Cap"}}
        assert await received(ws, 2) == {"a": expected, "b": expected}

        # An ended operation makes room for another.
        if isinstance(ws, TransportWsClient):
            await ws.complete("a")
        else:
            await ws.stop("a")
            assert await ws.receive() == {"type": "complete", "id": "a"}
        await subscribe(ws, "c")
        await asyncio.sleep(0.3)
        await update_me(server, account, "Room Again")
        expected = {"userUpdated": {"fullName": "Room Again"}}
        assert await received(ws, 2) == {"b": expected, "c": expected}
        await ws.expect_nothing(0.3)


async def test_one_connection_over_the_users_limit_is_refused_4429_and_others_connect(
    server: LiveServer, protocol: type[WsClient], runtime: Runtime
) -> None:
    user, other = await quick_account(runtime, "acme"), await quick_account(runtime, "acme")
    # Connections of both protocols count together.
    async with (
        await TransportWsClient.connected(server.ws_url, user.token) as first,
        await LegacyWsClient.connected(server.ws_url, user.token),
    ):
        async with await protocol.open(server.ws_url) as third:
            if isinstance(third, LegacyWsClient):
                answer = await third.init({"Authorization": f"Bearer {user.token}"})
                payload = {"code": "RATE_LIMITED", "message": TOO_MANY_CONNECTIONS}
                assert answer == {"type": "connection_error", "payload": payload}
                closed = await third.wait_closed()
            else:
                with pytest.raises(WsClosed) as refused:
                    await third.init({"Authorization": f"Bearer {user.token}"})
                closed = refused.value
            assert (closed.code, closed.reason) == (4429, TOO_MANY_CONNECTIONS)

        # Another user connects and subscribes; the user's own connections go on.
        async with await protocol.connected(server.ws_url, other.token) as theirs:
            await subscribe(theirs, "1")
            await theirs.expect_nothing(0.2)
        await first.send({"type": "ping"})
        assert await first.receive() == {"type": "pong"}

    # Closed connections stop counting, the refused one never did: two again, not a third.
    async with (
        await connect_when_released(protocol, server, user.token),
        await connect_when_released(protocol, server, user.token),
    ):
        with pytest.raises((WsClosed, AssertionError)):
            await protocol.connected(server.ws_url, user.token)


async def test_an_over_size_message_closes_1009_and_the_server_serves_on(
    server: LiveServer, protocol: type[WsClient], runtime: Runtime
) -> None:
    account = await quick_account(runtime, "acme")
    async with await protocol.connected(server.ws_url, account.token) as ws:
        # The limit counts UTF-8 bytes: exactly the limit is read, one byte more is not.
        await ws.ws.send(sized(invalid_subscription(ws, "exact"), MAX_MESSAGE_BYTES))
        await refused_as_invalid(ws, "exact")
        await ws.ws.send(sized(invalid_subscription(ws, "over"), MAX_MESSAGE_BYTES + 1))
        closed = await ws.wait_closed()
    assert (closed.code, closed.reason) == (1009, f"Message of 4097 bytes; the limit is {MAX_MESSAGE_BYTES}.")

    # Far over it, uvicorn refuses the frame itself before reading it (`serve` sets it twice the limit).
    async with await protocol.connected(server.ws_url, account.token) as ws:
        await ws.ws.send(json.dumps(invalid_subscription(ws, "x")) + " " * 3 * MAX_MESSAGE_BYTES)
        closed = await ws.wait_closed()
    assert closed.code == 1009 and f"exceeds limit of {2 * MAX_MESSAGE_BYTES} bytes" in closed.reason

    async with await protocol.connected(server.ws_url, account.token) as ws:
        await ws.send(invalid_subscription(ws, "after"))
        await refused_as_invalid(ws, "after")


# OP and END stand for the protocol's start and stop messages.
MALFORMED = [
    "[]",
    "1",
    '"start"',
    '{"type": 1}',
    '{"type": "OP", "payload": {"query": "{ me { email } }"}}',
    '{"id": "1", "type": "OP"}',
    '{"id": "1", "type": "OP", "payload": [1]}',
    '{"type": "END"}',
]


@pytest.mark.parametrize("message", MALFORMED)
async def test_a_message_that_is_not_the_protocols_closes_4400_and_the_server_serves_on(
    server: LiveServer, protocol: type[WsClient], runtime: Runtime, message: str
) -> None:
    start, stop = ("subscribe", "complete") if protocol is TransportWsClient else ("start", "stop")
    account = await quick_account(runtime, "acme")
    async with await protocol.connected(server.ws_url, account.token) as ws:
        await ws.ws.send(message.replace("OP", start).replace("END", stop))
        closed = await ws.wait_closed()
    assert (closed.code, closed.reason) == (4400, "Failed to parse message")
    async with await protocol.connected(server.ws_url, account.token) as ws:
        await ws.send(invalid_subscription(ws, "after"))
        await refused_as_invalid(ws, "after")


async def test_an_expired_token_closes_4401_unless_the_client_reauthenticated(
    server: LiveServer, protocol: type[WsClient], runtime: Runtime
) -> None:
    account = await quick_account(runtime, "acme")
    first = await refreshed(server, account.refresh_token)
    expires = token_expiry(first.access)
    async with (
        await protocol.connected(server.ws_url, first.access) as stale,
        await protocol.connected(server.ws_url, first.access) as renewed,
    ):
        await subscribe(stale, "s")
        await subscribe(renewed, "s")
        # 1.2 s later a token of the same session expires at least a second after the first.
        await asyncio.sleep(1.2)
        second = await refreshed(server, first.refresh)
        renewed_expires = token_expiry(second.access)
        assert renewed_expires >= expires + 1
        expires_at = datetime.fromtimestamp(renewed_expires, UTC).isoformat()
        answer = "pong" if isinstance(renewed, TransportWsClient) else "connection_ack"
        assert await reauthenticate(renewed, second.access) == {
            "type": answer,
            "payload": {"expiresAt": expires_at},
        }

        closed = await closed_after_completes(stale, expires - time.time() + 2.0, ("s",))
        assert (closed.code, closed.reason) == (4401, "token expired")
        assert time.time() >= expires

        # The renewed connection outlives the first deadline, its subscription running, until its own.
        await renewed.expect_nothing(expires + 0.5 - time.time())
        closed = await closed_after_completes(renewed, renewed_expires - time.time() + 2.0, ("s",))
        assert (closed.code, closed.reason) == (4401, "token expired")
        assert time.time() >= renewed_expires


@pytest.mark.parametrize(
    "case", ["another user", "another session", "not a token", "logged out", "no bearer"]
)
async def test_reauthenticating_with_a_token_not_for_this_connection_closes_it(
    server: LiveServer, protocol: type[WsClient], runtime: Runtime, case: str
) -> None:
    account, other = await quick_account(runtime, "acme"), await quick_account(runtime, "acme")
    async with await protocol.connected(server.ws_url, account.token) as ws:
        if isinstance(ws, TransportWsClient):
            # A ping without credentials is only a ping.
            await ws.send({"type": "ping", "payload": {"note": "hello"}})
            assert await ws.receive() == {"type": "pong"}
        authorization = f"Bearer {other.token}"
        close_code, code, reason = 4403, "FORBIDDEN", OTHER_SESSION
        match case:
            case "another session":
                login = {"tenantSlug": "acme", "email": account.email, "password": PASSWORD}
                token = (await graphql(server, LOGIN, {"input": login}))["login"]["accessToken"]
                authorization = f"Bearer {token}"
            case "not a token":
                authorization = "Bearer not-a-jwt"
                close_code, code, reason = 4401, "UNAUTHENTICATED", "The access token is not valid."
            case "logged out":
                assert await graphql(server, LOGOUT, {}, account.token) == {"logout": {"sessionsEnded": 1}}
                authorization = f"Bearer {account.token}"
                close_code, code, reason = 4401, "UNAUTHENTICATED", "This session has ended; sign in again."
            case "no bearer":
                authorization = "Basic eA=="
                close_code, code = 4401, "UNAUTHENTICATED"
                reason = (
                    "This Authorization scheme is not accepted: send Authorization: Bearer <access token>."
                )
        if isinstance(ws, TransportWsClient):
            await ws.send({"type": "ping", "payload": {"Authorization": authorization}})
        else:
            answer = await ws.init({"Authorization": authorization})
            assert answer == {"type": "connection_error", "payload": {"code": code, "message": reason}}
        closed = await ws.wait_closed()
    assert (closed.code, closed.reason) == (close_code, reason)
