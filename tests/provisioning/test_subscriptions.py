"""``provisioningProgress`` and ``provisioningUpdates`` end to end: a real server process speaking
graphql-transport-ws, the outbox and Redis (stopped and started once). Requests change in the
test's process (a worker of the test's own); the events reach the server process through Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.permissions import Role
from core.settings import Settings
from models.provisioning import ProvisioningStatus
from realtime.stream import channel_name
from services.provisioning.provider import SimulatedProvider
from services.provisioning.states import PROVISIONING_CHANGED
from services.provisioning.worker import run_steps_once
from tests.conftest import TEST_SIGNING_KEY
from tests.harness.servers import RedisServer
from tests.provisioning.conftest import ADVANCE, SUSPEND, Cloud
from tests.support.channels import wait_listened
from tests.support.live_server import LiveServer, LiveServers, TransportWsClient, server_env

S = ProvisioningStatus
PROGRESS = """
subscription($id: ID!) {
  provisioningProgress(requestId: $id) {
    status percent from step actor
    request { id status percent steps { name status } owner { email } }
  }
}
"""
UPDATES = "subscription { provisioningUpdates { status percent request { id owner { email } } } }"
TIMEOUT = 10.0


@pytest.fixture(scope="module")
async def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    """A server process that runs no provisioning worker itself (the tests drive the steps)."""
    env = server_env(
        settings.database_url,
        settings.broadcast_url,
        TEST_SIGNING_KEY,
        TENANTGRAPH_PROVISIONING_POLL_SECONDS="0",
    )
    pool = LiveServers(tmp_path_factory.mktemp("provisioning-servers"), env)
    try:
        (started,) = await pool.start(1)
        yield started
    finally:
        await pool.stop_all()


async def wait_subscribed(redis_url: str, tenant_id: uuid.UUID) -> None:
    """Until the server listens on the tenant's channel."""
    await wait_listened(redis_url, channel_name(PROVISIONING_CHANGED, tenant_id))


async def progress_until_complete(ws: TransportWsClient, id: str = "1") -> list[dict[str, Any]]:
    """Every ``next`` of the operation until its ``complete``."""
    seen = []
    while True:
        message = await ws.receive(TIMEOUT)
        assert message.get("id") == id, message
        if message["type"] == "complete":
            return seen
        assert message["type"] == "next" and "errors" not in message["payload"], message
        seen.append(message["payload"]["data"]["provisioningProgress"])


async def test_progress_sends_the_current_state_first_then_changes_until_active(
    cloud: Cloud, server: LiveServer, settings: Settings
) -> None:
    owner = await cloud.shop.account()
    request = await cloud.request(owner, status=S.RUNNING)
    await cloud.act(ADVANCE, cloud.shop.operator, request)  # one step done before anyone listens
    ws = await TransportWsClient.connected(server.ws_url, owner.token)
    try:
        await ws.subscribe(PROGRESS, {"id": request})
        first = (await ws.next_data("1", TIMEOUT))["provisioningProgress"]
        assert (first["status"], first["percent"], first["from"], first["actor"]) == ("RUNNING", 20, None, "")
        assert [s["status"] for s in first["request"]["steps"]] == ["COMPLETED"] + ["PENDING"] * 4
        assert first["request"]["owner"] == {"email": owner.email}
        await wait_subscribed(settings.broadcast_url, cloud.shop.tenant_id)
        assert await run_steps_once(cloud.worker(SimulatedProvider(step_seconds=0.05)))
        rest = await progress_until_complete(ws)
    finally:
        await ws.close()
    assert rest, "no change after the first state"
    percents = [m["percent"] for m in [first, *rest]]
    assert percents == sorted(percents)
    assert (rest[-1]["status"], rest[-1]["percent"], rest[-1]["from"]) == ("ACTIVE", 100, "RUNNING")
    assert {m["status"] for m in rest[:-1]} == {"RUNNING"}
    assert [s["status"] for s in rest[-1]["request"]["steps"]] == ["COMPLETED"] * 5


async def test_a_request_in_a_terminal_state_gets_its_state_and_completes(
    cloud: Cloud, server: LiveServer
) -> None:
    owner = await cloud.shop.account()
    failed = await cloud.request(owner, status=S.FAILED)
    ws = await TransportWsClient.connected(server.ws_url, owner.token)
    try:
        await ws.subscribe(PROGRESS, {"id": failed})
        assert [m["status"] for m in await progress_until_complete(ws)] == ["FAILED"]
    finally:
        await ws.close()


async def test_reconnecting_gets_the_true_current_state(
    cloud: Cloud, server: LiveServer, settings: Settings
) -> None:
    owner = await cloud.shop.account()
    request = await cloud.request(owner, status=S.RUNNING)
    ws = await TransportWsClient.connected(server.ws_url, owner.token)
    await ws.subscribe(PROGRESS, {"id": request})
    assert (await ws.next_data("1", TIMEOUT))["provisioningProgress"]["percent"] == 0
    await ws.close()  # the client goes away; meanwhile three steps are done
    for _ in range(3):
        await cloud.act(ADVANCE, cloud.shop.operator, request)
    again = await TransportWsClient.connected(server.ws_url, owner.token)
    try:
        await again.subscribe(PROGRESS, {"id": request})
        first = (await again.next_data("1", TIMEOUT))["provisioningProgress"]
        assert (first["status"], first["percent"]) == ("RUNNING", 60)
        await wait_subscribed(settings.broadcast_url, cloud.shop.tenant_id)
        await cloud.act(ADVANCE, cloud.shop.operator, request)
        step = (await again.next_data("1", TIMEOUT))["provisioningProgress"]
        assert (step["percent"], step["from"], step["step"]) == (80, None, "DEPLOY")
    finally:
        await again.close()


async def test_strangers_and_other_tenants_cannot_follow_a_request(cloud: Cloud, server: LiveServer) -> None:
    owner, stranger = await cloud.shop.account(), await cloud.shop.account()
    request = await cloud.request(owner, status=S.RUNNING)
    ws = await TransportWsClient.connected(server.ws_url, stranger.token)
    try:
        await ws.subscribe(PROGRESS, {"id": request})
        message = await ws.receive(TIMEOUT)
        assert message["type"] in ("error", "next"), message
        errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
        assert errors and errors[0]["extensions"]["code"] == "NOT_FOUND", message
    finally:
        await ws.close()


async def test_updates_reach_the_owner_and_staff_and_nobody_else(
    cloud: Cloud, server: LiveServer, settings: Settings
) -> None:
    shop = cloud.shop
    owner, other, manager = await shop.account(), await shop.account(), await shop.account(Role.MANAGER)
    clients = {
        name: await TransportWsClient.connected(server.ws_url, account.token)
        for name, account in (("owner", owner), ("other", other), ("manager", manager))
    }
    try:
        for client in clients.values():
            await client.subscribe(UPDATES, {})
        await wait_subscribed(settings.broadcast_url, shop.tenant_id)
        request = await cloud.request(owner, status=S.ACTIVE)
        # The test made three changes (created, RUNNING, ACTIVE) in one transaction: each event
        # carries the request as it is now.
        for name in ("owner", "manager"):
            updates = [(await clients[name].next_data("1", TIMEOUT))["provisioningUpdates"] for _ in range(3)]
            assert {u["request"]["id"] for u in updates} == {request}
            assert updates[-1]["status"] == "ACTIVE"
            assert updates[-1]["request"]["owner"] == {"email": owner.email}
        await cloud.act(SUSPEND, manager, request)
        for name in ("owner", "manager"):
            update = (await clients[name].next_data("1", TIMEOUT))["provisioningUpdates"]
            assert update["status"] == "SUSPENDED"
        await clients["other"].expect_nothing(0.7)
    finally:
        for client in clients.values():
            await client.close()


async def test_progress_gets_to_active_across_a_redis_restart(
    cloud: Cloud, server: LiveServer, settings: Settings, redis_server: RedisServer
) -> None:
    owner = await cloud.shop.account()
    request = await cloud.request(owner, status=S.RUNNING)
    ws = await TransportWsClient.connected(server.ws_url, owner.token)
    try:
        await ws.subscribe(PROGRESS, {"id": request})
        assert (await ws.next_data("1", TIMEOUT))["provisioningProgress"]["percent"] == 0
        await wait_subscribed(settings.broadcast_url, cloud.shop.tenant_id)
        redis_server.stop()
        try:
            # Every step runs while Redis is away: the events wait in the outbox.
            assert await run_steps_once(cloud.worker())
            assert (await cloud.row(request)).status == S.ACTIVE
        finally:
            redis_server.start()
        rest = await progress_until_complete(ws)
    finally:
        await ws.close()
    assert rest and (rest[-1]["status"], rest[-1]["percent"]) == ("ACTIVE", 100)


async def test_a_platform_admin_follows_another_tenants_request(
    cloud: Cloud, server: LiveServer, settings: Settings
) -> None:
    owner = await cloud.shop.account()
    request = await cloud.request(owner, status=S.RUNNING)
    ws = await TransportWsClient.connected(server.ws_url, cloud.shop.operator.token)
    try:
        await ws.subscribe(PROGRESS, {"id": request})
        first = (await ws.next_data("1", TIMEOUT))["provisioningProgress"]
        assert (first["status"], first["request"]["owner"]) == ("RUNNING", {"email": owner.email})
        await wait_subscribed(settings.broadcast_url, cloud.shop.tenant_id)
        assert await run_steps_once(cloud.worker())
        rest = await progress_until_complete(ws)
    finally:
        await ws.close()
    assert rest[-1]["status"] == "ACTIVE"
