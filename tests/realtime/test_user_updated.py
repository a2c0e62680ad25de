"""``userUpdated`` end to end: real server processes, real websockets, one PostgreSQL and one Redis.

Mutations go over HTTP to a server process; their events go through the outbox and Redis and
arrive as subscription messages on a websocket of the same or of another server process."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from core.permissions import Role
from core.scope import TenantScope
from core.settings import Settings
from models.events import OutboxEvent
from realtime.stream import channel_name
from server.runtime import Runtime
from services.events import USER_UPDATED
from tests.conftest import TEST_SIGNING_KEY
from tests.harness.servers import RedisServer
from tests.support.identity import Account, Identity
from tests.support.live_server import (
    LegacyWsClient,
    LiveServer,
    LiveServers,
    TransportWsClient,
    deliveries,
    deliveries_since,
    server_env,
)

USER_UPDATED_SUBSCRIPTION = "subscription { userUpdated { id email fullName roles } }"
UPDATE_USER = """
mutation UpdateUser($input: UpdateUserInput!) {
  updateUser(input: $input) { user { id fullName } userErrors { code message } }
}
"""
UPDATE_ME = """
mutation UpdateMe($input: UpdateMeInput!) {
  updateMe(input: $input) { user { id fullName } userErrors { code message } }
}
"""
ASSIGN_ROLES = """
mutation AssignRoles($input: UserRolesInput!) {
  assignRoles(input: $input) { user { id roles } userErrors { code message } }
}
"""
LOGOUT = "mutation { logout { sessionsEnded userErrors { code message } } }"

# Long enough for an event to cross the outbox (polled every 0.2 s) and Redis, and, after a Redis
# restart, for the listeners and dispatchers to come out of their backoff (at most 2 s and 5 s).
DELIVERY_TIMEOUT = 10.0
SUBSCRIBED_TIMEOUT = 5.0
# A duplicate would come from a second publication or an outbox replay, well within this.
NO_DUPLICATE_WAIT = 2.0
QUIET = 0.5

StartServers = Callable[[int], Awaitable[list[LiveServer]]]


@pytest.fixture(scope="module")
async def server_pool(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServers]:
    """Server processes on the session PostgreSQL and Redis, shared by the tests of this module
    (a process keeps no state of its own: tables and Redis are cleaned before every test), all
    stopped at the end of the module (SIGTERM, SIGKILL after a timeout)."""
    env = server_env(settings.database_url, settings.broadcast_url, TEST_SIGNING_KEY)
    pool = LiveServers(tmp_path_factory.mktemp("live-servers"), env)
    try:
        # Both at once: starting a process (imports, schema) is the slow part.
        await pool.start(2)
        yield pool
    finally:
        await pool.stop_all()


@pytest.fixture
async def live_servers(server_pool: LiveServers) -> AsyncIterator[StartServers]:
    """``await live_servers(n)``: n healthy server processes (more are started when needed)."""
    offsets = server_pool.log_offsets()
    yield server_pool.running
    # Captured output, which pytest shows in the report of a failed test only.
    print(server_pool.logs_since(offsets))


async def graphql(server: LiveServer, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    """A GraphQL request over real HTTP; returns ``data`` after asserting there were no errors."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10.0) as client:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), (response.status_code, body)
    data: dict[str, Any] = body["data"]
    return data


async def update_user(server: LiveServer, admin: Account, user: Account, full_name: str) -> None:
    data = await graphql(server, UPDATE_USER, {"input": {"id": user.gid, "fullName": full_name}}, admin.token)
    assert data == {"updateUser": {"user": {"id": user.gid, "fullName": full_name}, "userErrors": []}}


async def update_me(server: LiveServer, account: Account, full_name: str) -> None:
    data = await graphql(server, UPDATE_ME, {"input": {"fullName": full_name}}, account.token)
    assert data == {"updateMe": {"user": {"id": account.gid, "fullName": full_name}, "userErrors": []}}


async def wait_listeners(redis_url: str, tenant_id: uuid.UUID, processes: int = 1) -> None:
    """Waits until exactly ``processes`` server processes listen on the tenant's userUpdated channel.

    A subscribe is not acknowledged by either protocol: without this, a mutation sent right
    after it could be published before the server has subscribed to the channel."""
    channel = channel_name(USER_UPDATED, tenant_id)
    client = Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + SUBSCRIBED_TIMEOUT
        while True:
            [(_, count)] = await client.pubsub_numsub(channel)
            if count == processes:
                return
            assert time.monotonic() < deadline, f"{count} processes listen on {channel}, not {processes}"
            await asyncio.sleep(0.02)
    finally:
        await client.aclose()


async def outbox(runtime: Runtime) -> list[tuple[dict[str, Any], bool]]:
    """Every recorded event, in order: (payload, published?)."""
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        rows = (
            await session.execute(
                select(OutboxEvent.payload, OutboxEvent.published_at).order_by(OutboxEvent.seq)
            )
        ).all()
    return [(payload, published_at is not None) for payload, published_at in rows]


async def wait_published(runtime: Runtime, count: int) -> None:
    """Waits until ``count`` events were recorded and every one of them was published."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while True:
        events = await outbox(runtime)
        if len(events) == count and all(published for _, published in events):
            return
        assert time.monotonic() < deadline, f"expected {count} published events: {events}"
        await asyncio.sleep(0.05)


async def readiness(server: LiveServer) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=5.0) as client:
        response = await client.get("/readyz")
    body: dict[str, Any] = response.json()
    return response.status_code, body


async def wait_readiness(server: LiveServer, status: str) -> tuple[int, dict[str, Any]]:
    """/readyz once it answers ``status`` (ready, degraded, not_ready): (HTTP status, body)."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while True:
        code, body = await readiness(server)
        if body.get("status") == status:
            return code, body
        assert time.monotonic() < deadline, f"/readyz stayed {code} {body}, expected {status}"
        await asyncio.sleep(0.05)


def user_json(account: Account, full_name: str, *roles: str) -> dict[str, Any]:
    return {
        "userUpdated": {
            "id": account.gid,
            "email": account.email,
            "fullName": full_name,
            "roles": sorted(roles),
        }
    }


def sorted_roles(data: dict[str, Any]) -> dict[str, Any]:
    """The subscription data with its roles sorted (their order carries no meaning)."""
    user = dict(data["userUpdated"])
    user["roles"] = sorted(user["roles"])
    return {"userUpdated": user}


# --------------------------------------------------------------------------
# 1. delivery over both protocols
# --------------------------------------------------------------------------


async def test_tenant_admin_receives_user_changes_over_both_protocols(
    identity: Identity, live_servers: StartServers, settings: Settings
) -> None:
    admin = await identity.account("acme", Role.TENANT_ADMIN)
    user = await identity.account("acme", Role.USER, full_name="Ada Before")
    [server] = await live_servers(1)

    async with await TransportWsClient.connected(server.ws_url, admin.token) as ws:
        await ws.subscribe(USER_UPDATED_SUBSCRIPTION, id="users")
        await wait_listeners(settings.broadcast_url, admin.tenant_id)

        await update_user(server, admin, user, "Ada Lovelace")
        received = await ws.next_data("users", DELIVERY_TIMEOUT)
        assert sorted_roles(received) == user_json(user, "Ada Lovelace", "USER")

        # Each event carries the user as they are now, roles included.
        data = await graphql(
            server, ASSIGN_ROLES, {"input": {"id": user.gid, "roles": ["MANAGER"]}}, admin.token
        )
        assert sorted(data["assignRoles"]["user"]["roles"]) == ["MANAGER", "USER"]
        received = await ws.next_data("users", DELIVERY_TIMEOUT)
        assert sorted_roles(received) == user_json(user, "Ada Lovelace", "MANAGER", "USER")
        # One mutation, one message.
        await ws.expect_nothing(QUIET)

        await ws.complete("users")
        # The server leaves the channel when its last subscriber is gone.
        await wait_listeners(settings.broadcast_url, admin.tenant_id, 0)

    async with await LegacyWsClient.connected(server.ws_url, admin.token) as legacy:
        await legacy.start(USER_UPDATED_SUBSCRIPTION, id="legacy")
        await wait_listeners(settings.broadcast_url, admin.tenant_id)

        await update_user(server, admin, user, "Augusta Ada King")
        received = await legacy.next_data("legacy", DELIVERY_TIMEOUT)
        assert sorted_roles(received) == user_json(user, "Augusta Ada King", "MANAGER", "USER")
        await legacy.expect_nothing(QUIET)

        await legacy.stop("legacy")
        assert await legacy.receive() == {"type": "complete", "id": "legacy"}


async def test_admins_of_one_tenant_share_one_execution_per_change(
    identity: Identity, live_servers: StartServers, settings: Settings
) -> None:
    admins = [await identity.account("acme", Role.TENANT_ADMIN) for _ in range(3)]
    user = await identity.account("acme", Role.USER, full_name="Grace Before")
    [server] = await live_servers(1)
    clients = [await TransportWsClient.connected(server.ws_url, admin.token) for admin in admins]
    try:
        for client in clients:
            await client.subscribe(USER_UPDATED_SUBSCRIPTION)
        await wait_listeners(settings.broadcast_url, user.tenant_id)
        # The first change teaches the subscriptions their document; from the second on, one of
        # the three executes and the other two get its message (the express way).
        for full_name, expected_ways in (
            ("Grace Hopper", {"plain": 3, "express": 0}),
            ("Grace B. Hopper", {"plain": 1, "express": 2}),
        ):
            before = await deliveries(server)
            await update_user(server, admins[0], user, full_name)
            received = [await client.next_data(within=DELIVERY_TIMEOUT) for client in clients]
            assert [sorted_roles(data) for data in received] == [user_json(user, full_name, "USER")] * 3
            assert await deliveries_since(before, server) == expected_ways
    finally:
        for client in clients:
            await client.close()


# --------------------------------------------------------------------------
# 2. a plain user sees themself only
# --------------------------------------------------------------------------


async def test_plain_user_receives_own_change_but_not_another_users(
    identity: Identity, live_servers: StartServers, settings: Settings, runtime: Runtime
) -> None:
    me = await identity.account("acme", Role.USER, full_name="Me Before")
    colleague = await identity.account("acme", Role.USER, full_name="Colleague Before")
    [server] = await live_servers(1)

    async with await TransportWsClient.connected(server.ws_url, me.token) as ws:
        await ws.subscribe(USER_UPDATED_SUBSCRIPTION)
        await wait_listeners(settings.broadcast_url, me.tenant_id)

        await update_me(server, colleague, "Colleague After")
        # The colleague's event has gone out through Redis before ours is even made.
        await wait_published(runtime, 1)
        await update_me(server, me, "Me After")

        assert await ws.next_data(within=DELIVERY_TIMEOUT) == user_json(me, "Me After", "USER")
        await ws.expect_nothing(QUIET)
    assert [payload["userId"] for payload, _ in await outbox(runtime)] == [
        str(colleague.user_id),
        str(me.user_id),
    ]


# --------------------------------------------------------------------------
# 3. scale-out: mutation on one process, subscriber on another
# --------------------------------------------------------------------------


async def test_mutation_on_one_server_reaches_subscriber_on_another(
    identity: Identity, live_servers: StartServers, settings: Settings
) -> None:
    admin = await identity.account("acme", Role.TENANT_ADMIN)
    user = await identity.account("acme", Role.USER, full_name="Linus Before")
    server_a, server_b = await live_servers(2)
    assert server_a.pid != server_b.pid

    async with await TransportWsClient.connected(server_a.ws_url, admin.token) as ws:
        await ws.subscribe(USER_UPDATED_SUBSCRIPTION)
        await wait_listeners(settings.broadcast_url, admin.tenant_id)

        await update_user(server_b, admin, user, "Linus Torvalds")

        assert await ws.next_data(within=DELIVERY_TIMEOUT) == user_json(user, "Linus Torvalds", "USER")
        await ws.expect_nothing(QUIET)


# --------------------------------------------------------------------------
# 4. Redis outage: the outbox keeps the event, delivered once when Redis is back
# --------------------------------------------------------------------------


async def test_event_made_while_redis_is_down_is_delivered_once_after_restart(
    identity: Identity,
    live_servers: StartServers,
    settings: Settings,
    runtime: Runtime,
    redis_server: RedisServer,
) -> None:
    admin = await identity.account("acme", Role.TENANT_ADMIN)
    user = await identity.account("acme", Role.USER, full_name="Barbara Before")
    server_a, server_b = await live_servers(2)
    assert (await readiness(server_a))[0] == 200
    change = {"userId": str(user.user_id), "change": "profile"}

    async with await TransportWsClient.connected(server_a.ws_url, admin.token) as ws:
        await ws.subscribe(USER_UPDATED_SUBSCRIPTION)
        await wait_listeners(settings.broadcast_url, admin.tenant_id)
        # Received live just before the outage, so also in the outbox replay after it
        # (REPLAY_MARGIN): that copy must be dropped as a duplicate.
        await update_user(server_b, admin, user, "Barbara Before Outage")
        assert await ws.next_data(within=DELIVERY_TIMEOUT) == user_json(user, "Barbara Before Outage", "USER")
        port = redis_server.port
        try:
            redis_server.stop()

            # Degraded, still serving (200): every process shares this Redis, so taking them out of
            # rotation would only turn a delay of events into an outage.
            code, body = await wait_readiness(server_a, "degraded")
            assert code == 200
            assert (body["down"], body["degraded"]) == ([], ["broadcast"]), body
            assert body["checks"]["database"] == "ok"
            assert body["checks"]["broadcast"].startswith("degraded: reconnecting"), body

            # Redis is not in the request path: the change commits, its event waits in the outbox.
            await update_user(server_b, admin, user, "Barbara Liskov")
            assert await outbox(runtime) == [(change, True), (change, False)]
            await ws.expect_nothing(QUIET)

            redis_server.restart()
            assert redis_server.port == port

            received = await ws.next_data(within=DELIVERY_TIMEOUT)
            assert received == user_json(user, "Barbara Liskov", "USER")
            # Published by a dispatcher and replayed from the outbox too: each event shown once.
            await ws.expect_nothing(NO_DUPLICATE_WAIT)
        finally:
            if not redis_server.running:
                redis_server.start()
        await wait_published(runtime, 2)

        code, body = await wait_readiness(server_a, "ready")
        assert code == 200
        assert body["checks"] == {
            "database": "ok",
            "migrations": "ok",
            "broadcast": "ok",
            "outboxDispatcher": "ok",
            "outbox": "ok",
            "mail": "ok",
            "disk": "ok",
        }

        # The link is back for good: the next change flows as usual.
        await update_user(server_b, admin, user, "Barbara Jane Liskov")
        assert await ws.next_data(within=DELIVERY_TIMEOUT) == user_json(user, "Barbara Jane Liskov", "USER")
        await ws.expect_nothing(QUIET)


# --------------------------------------------------------------------------
# 5. tenant isolation
# --------------------------------------------------------------------------


async def test_subscriber_of_another_tenant_receives_nothing(
    identity: Identity, live_servers: StartServers, settings: Settings, runtime: Runtime
) -> None:
    acme_admin = await identity.account("acme", Role.TENANT_ADMIN, full_name="Acme Admin")
    globex_admin = await identity.account("globex", Role.TENANT_ADMIN, full_name="Globex Admin")
    [server] = await live_servers(1)

    async with await TransportWsClient.connected(server.ws_url, globex_admin.token) as ws:
        await ws.subscribe(USER_UPDATED_SUBSCRIPTION)
        await wait_listeners(settings.broadcast_url, globex_admin.tenant_id)

        await update_user(server, acme_admin, acme_admin, "Acme Admin Renamed")
        await wait_published(runtime, 1)
        await ws.expect_nothing(QUIET)

        # The subscription does work: a change in its own tenant arrives, as the first message.
        await update_user(server, globex_admin, globex_admin, "Globex Admin Renamed")
        assert await ws.next_data(within=DELIVERY_TIMEOUT) == user_json(
            globex_admin, "Globex Admin Renamed", "TENANT_ADMIN"
        )
        await ws.expect_nothing(QUIET)


# --------------------------------------------------------------------------
# 6. authentication in connection_init
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(None, id="no-payload"),
        pytest.param({}, id="no-token"),
        pytest.param({"Authorization": "Bearer not-a-token"}, id="bad-token"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}, id="not-bearer"),
    ],
)
async def test_connection_init_without_a_valid_token_is_closed_with_4403(
    live_servers: StartServers, payload: dict[str, str] | None
) -> None:
    [server] = await live_servers(1)
    async with await TransportWsClient.open(server.ws_url) as ws:
        await ws.send(
            {"type": "connection_init"}
            if payload is None
            else {"type": "connection_init", "payload": payload}
        )
        closed = await ws.wait_closed()
    assert (closed.code, closed.reason) == (4403, "Forbidden")


async def test_token_signed_with_another_key_is_refused_over_both_protocols(
    identity: Identity, live_servers: StartServers
) -> None:
    account = await identity.account("acme", Role.TENANT_ADMIN)
    header, claims, _ = account.token.split(".")
    forged = f"{header}.{claims}.{'A' * 43}"
    [server] = await live_servers(1)

    async with await TransportWsClient.open(server.ws_url) as ws:
        await ws.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {forged}"}})
        assert (await ws.wait_closed()).code == 4403

    # The legacy protocol says why in connection_error, then closes.
    async with await LegacyWsClient.open(server.ws_url) as legacy:
        answer = await legacy.init({"Authorization": f"Bearer {forged}"})
        assert answer["type"] == "connection_error", answer
        assert answer["payload"]["code"] == "UNAUTHENTICATED", answer
        assert (await legacy.wait_closed()).code == 1011

    # The genuine token of the same account is accepted.
    async with await TransportWsClient.open(server.ws_url) as ws:
        assert (await ws.init({"Authorization": f"Bearer {account.token}"}))["type"] == "connection_ack"


async def test_subscribe_before_connection_init_is_closed_with_4401(live_servers: StartServers) -> None:
    [server] = await live_servers(1)
    async with await TransportWsClient.open(server.ws_url) as ws:
        await ws.subscribe(USER_UPDATED_SUBSCRIPTION)
        closed = await ws.wait_closed()
    assert (closed.code, closed.reason) == (4401, "Unauthorized")


# --------------------------------------------------------------------------
# 7. access is checked again for every event
# --------------------------------------------------------------------------


async def test_subscription_ends_without_data_after_logout(
    identity: Identity, live_servers: StartServers, settings: Settings, runtime: Runtime
) -> None:
    admin = await identity.account("acme", Role.TENANT_ADMIN)
    user = await identity.account("acme", Role.USER, full_name="Leaving Soon")
    [server] = await live_servers(1)

    async with await TransportWsClient.connected(server.ws_url, user.token) as ws:
        await ws.subscribe(USER_UPDATED_SUBSCRIPTION, id="mine")
        await wait_listeners(settings.broadcast_url, user.tenant_id)

        data = await graphql(server, LOGOUT, {}, user.token)
        assert data == {"logout": {"sessionsEnded": 1, "userErrors": []}}
        # The logout's access event ends the subscription: no domain event is needed for that.
        # Strawberry reports an error raised by the event stream in a `next` without data, then
        # completes; the protocol's `error` message would do as well. Never the user's data.
        messages = [await ws.receive(DELIVERY_TIMEOUT)]
        while messages[-1]["type"] == "next" and messages[-1]["payload"].get("data") is None:
            messages.append(await ws.receive())
        assert messages[-1]["type"] in ("complete", "error"), messages
        assert {message["id"] for message in messages} == {"mine"}
        errors: list[dict[str, Any]] = []
        for message in messages:
            if message["type"] == "next":
                assert message["payload"]["data"] is None, messages
                errors += message["payload"]["errors"]
            elif message["type"] == "error":
                errors += message["payload"]
        assert [error["extensions"]["code"] for error in errors] == ["UNAUTHENTICATED"], messages
        # A change made afterwards does not reach it.
        await update_user(server, admin, user, "Left Already")
        await wait_published(runtime, 2)
        await ws.expect_nothing(QUIET)
