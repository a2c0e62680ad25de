"""Access changes across processes: two real server processes on one PostgreSQL and Redis, each
holding the access state of sessions in memory (services/identity/access.py).

A logout, suspension or role change made on process A reaches process B by its ACCESS_CHANGED
event (outbox, Redis): B refuses the session's next request once that event is delivered, well
under a second later. While Redis is down B trusts nothing it holds, and after the reconnect it
has forgotten everything. Subscriptions on B end by the event, without waiting for a domain event."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from core.permissions import Role
from core.scope import TenantScope
from core.settings import Settings
from models.base import utcnow
from models.identity.accounts import AuthSession, User, UserStatus
from server.runtime import Runtime
from tests.conftest import TEST_SIGNING_KEY
from tests.harness.servers import RedisServer
from tests.realtime.test_user_updated import wait_readiness
from tests.support.identity import quick_account
from tests.support.live_server import LiveServer, LiveServers, TransportWsClient, server_env

ME = "{ me { email } }"
USERS = "{ users(first: 1) { totalCount } }"
LOGOUT = "mutation { logout { sessionsEnded } }"
SUSPEND = "mutation($input: UserIdInput!) { suspendUser(input: $input) { user { status } } }"
REMOVE_ROLES = "mutation($input: UserRolesInput!) { removeRoles(input: $input) { user { roles } } }"
ORDERS = "subscription { orderStatusChanged { to order { number } } }"
# Entries that would outlive every test here: anything B forgets, it forgets by event or flush.
CACHE_SECONDS = "60"
# Waiting for a change to reach B is bounded by this; the test then asserts it took under a second.
PROPAGATION_TIMEOUT = 5.0
PROPAGATED_WITHIN = 1.0
ALL = TenantScope.all_tenants()


@pytest.fixture(scope="module")
async def servers(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[list[LiveServer]]:
    env = server_env(
        settings.database_url,
        settings.broadcast_url,
        TEST_SIGNING_KEY,
        TENANTGRAPH_ACCESS_CACHE_SECONDS=CACHE_SECONDS,
    )
    pool = LiveServers(tmp_path_factory.mktemp("access-servers"), env)
    try:
        yield await pool.start(2)
    finally:
        await pool.stop_all()


async def call(
    server: LiveServer, query: str, token: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10.0) as client:
        return await client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )


async def ok(
    server: LiveServer, query: str, token: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await call(server, query, token, variables)
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json().get("errors") or []]


async def refused_after(server: LiveServer, query: str, token: str, code: str) -> float:
    """Seconds until ``server`` answers ``query`` with ``code`` (polled, bounded)."""
    started = time.monotonic()
    while True:
        if code in codes(await call(server, query, token)):
            return time.monotonic() - started
        assert time.monotonic() - started < PROPAGATION_TIMEOUT, f"{server.name} never answered {code}"
        await asyncio.sleep(0.02)


async def assert_served_from_memory(runtime: Runtime, server: LiveServer) -> None:
    """``server`` answers a session it has seen from memory: a revocation made in SQL behind the
    API's back (no event) does not reach it."""
    probe = await quick_account(runtime, "probe")
    await ok(server, ME, probe.token)
    async with runtime.db.transaction(ALL) as session:
        await session.execute(
            update(AuthSession).where(AuthSession.user_id == probe.user_id).values(revoked_at=utcnow())
        )
    await ok(server, ME, probe.token)


async def test_logout_on_one_process_is_refused_on_the_other(
    runtime: Runtime, servers: list[LiveServer]
) -> None:
    a, b = servers
    account = await quick_account(runtime, "acme")
    await ok(b, ME, account.token)
    await assert_served_from_memory(runtime, b)

    assert await ok(a, LOGOUT, account.token) == {"logout": {"sessionsEnded": 1}}
    assert await refused_after(b, ME, account.token, "UNAUTHENTICATED") < PROPAGATED_WITHIN
    # A itself refused it at once (it dropped its entry right after the commit).
    assert codes(await call(a, ME, account.token)) == ["UNAUTHENTICATED"]


async def test_suspension_on_one_process_is_refused_on_the_other(
    runtime: Runtime, servers: list[LiveServer]
) -> None:
    a, b = servers
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user, bystander = await quick_account(runtime, "acme"), await quick_account(runtime, "acme")
    for account in (user, bystander):
        await ok(b, ME, account.token)
    await assert_served_from_memory(runtime, b)

    await ok(a, SUSPEND, admin.token, {"input": {"id": user.gid}})
    assert await refused_after(b, ME, user.token, "UNAUTHENTICATED") < PROPAGATED_WITHIN
    await ok(b, ME, bystander.token)


async def test_role_change_on_one_process_applies_on_the_other(
    runtime: Runtime, servers: list[LiveServer]
) -> None:
    a, b = servers
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    manager = await quick_account(runtime, "acme", Role.TENANT_ADMIN, Role.USER)
    assert (await ok(b, USERS, manager.token))["users"]["totalCount"] == 2
    await assert_served_from_memory(runtime, b)

    await ok(a, REMOVE_ROLES, admin.token, {"input": {"id": manager.gid, "roles": ["TENANT_ADMIN"]}})
    assert await refused_after(b, USERS, manager.token, "FORBIDDEN") < PROPAGATED_WITHIN
    await ok(b, ME, manager.token)  # still signed in, as a USER


async def test_suspension_ends_the_users_subscriptions_on_the_other_process(
    runtime: Runtime, servers: list[LiveServer]
) -> None:
    a, b = servers
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user, bystander = await quick_account(runtime, "acme", Role.MANAGER), await quick_account(runtime, "acme")
    async with (
        await TransportWsClient.connected(b.ws_url, user.token) as ws,
        await TransportWsClient.connected(b.ws_url, bystander.token) as other,
    ):
        await ws.subscribe(ORDERS, id="orders")
        await other.subscribe(ORDERS, id="orders")
        await ws.expect_nothing(0.3)
        await ok(a, SUSPEND, admin.token, {"input": {"id": user.gid}})
        # No order changes: the access event alone ends it, with UNAUTHENTICATED and no data.
        message = await ws.receive(PROPAGATION_TIMEOUT)
        assert message["type"] == "next" and message["payload"]["data"] is None, message
        assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == ["UNAUTHENTICATED"]
        assert await ws.receive() == {"id": "orders", "type": "complete"}
        # The connection stays open; a new subscription of the ended session is refused.
        await ws.subscribe(ORDERS, id="again")
        again = await ws.receive()
        errors = again["payload"] if again["type"] == "error" else again["payload"].get("errors")
        assert [e["extensions"]["code"] for e in errors or []] == ["UNAUTHENTICATED"], again
        await other.expect_nothing(0.3)


async def test_with_redis_down_the_other_process_trusts_nothing_it_holds(
    runtime: Runtime, servers: list[LiveServer], redis_server: RedisServer
) -> None:
    a, b = servers
    account = await quick_account(runtime, "acme")
    suspended_behind_the_back = await quick_account(runtime, "acme")
    for signed_in in (account, suspended_behind_the_back):
        await ok(b, ME, signed_in.token)
    try:
        redis_server.stop()
        await wait_readiness(b, "degraded")  # Redis away: still serving
        await wait_readiness(a, "degraded")  # Redis away: still serving

        # Requests go on (Redis is not in the request path); B reads every session afresh.
        assert await ok(a, LOGOUT, account.token) == {"logout": {"sessionsEnded": 1}}
        assert codes(await call(b, ME, account.token)) == ["UNAUTHENTICATED"]
        async with runtime.db.transaction(ALL) as session:
            await session.execute(
                update(User)
                .where(User.id == suspended_behind_the_back.user_id)
                .values(status=UserStatus.SUSPENDED)
            )
        assert codes(await call(b, ME, suspended_behind_the_back.token)) == ["UNAUTHENTICATED"]
    finally:
        if not redis_server.running:
            redis_server.start()
    await wait_readiness(b, "ready")
    await wait_readiness(a, "ready")


async def test_after_a_reconnect_the_other_process_has_forgotten_everything(
    runtime: Runtime, servers: list[LiveServer], redis_server: RedisServer
) -> None:
    _, b = servers
    account = await quick_account(runtime, "acme")
    await ok(b, ME, account.token)
    try:
        redis_server.stop()
        await wait_readiness(b, "degraded")  # Redis away: still serving
        # Suspended in SQL meanwhile (no event could have told anyone); B is not asked.
        async with runtime.db.transaction(ALL) as session:
            await session.execute(
                update(User).where(User.id == account.user_id).values(status=UserStatus.SUSPENDED)
            )
        redis_server.start()
        await wait_readiness(b, "ready")
    finally:
        if not redis_server.running:
            redis_server.start()
    # B held the session as active (for 60 s); the reconnect dropped it, so it reads it again.
    assert codes(await call(b, ME, account.token)) == ["UNAUTHENTICATED"]
