"""Over a real second server process (graphql-transport-ws, Redis between the processes):
``streamStatusChanged`` ticks for LIVE, viewers and ENDED, never for another tenant's streams;
maintenance mode switched on in this process refuses in the other one too."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from core.permissions import Role
from core.settings import Settings
from realtime.stream import channel_name
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from services.streams.streams import STREAM_CHANGED
from tests.conftest import TEST_SIGNING_KEY
from tests.streams.conftest import Studio, new_studio
from tests.support.identity import Account, quick_account
from tests.support.live_server import LiveServer, LiveServers, TransportWsClient, server_env, wait_listening

TIMEOUT = 10.0
CHANGED = """
subscription($id: ID) {
  streamStatusChanged(streamId: $id) {
    status isLive viewerCount from stream { id title streamKey owner { email } }
  }
}
"""
VIEWERS = """
mutation($input: SetStreamViewerCountInput!) {
  setStreamViewerCount(input: $input) { stream { viewerCount } userErrors { code } }
}
"""
SWITCH = """
mutation($input: SetMaintenanceModeInput!) {
  setMaintenanceMode(input: $input) { maintenanceMode { enabled message } userErrors { code } }
}
"""


@pytest.fixture(scope="module")
async def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    env = server_env(
        settings.database_url,
        settings.broadcast_url,
        TEST_SIGNING_KEY,
        TENANTGRAPH_PROVISIONING_POLL_SECONDS="0",
        TENANTGRAPH_MAINTENANCE_CACHE_SECONDS="60",
    )
    pool = LiveServers(tmp_path_factory.mktemp("stream-servers"), env)
    try:
        (started,) = await pool.start(1)
        yield started
    finally:
        await pool.stop_all()


async def _admin(studio: Studio) -> Account:
    return await quick_account(studio.runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)


async def test_live_viewers_and_ended_reach_subscribers_of_the_tenant_only(
    studio: Studio, server: LiveServer, settings: Settings
) -> None:
    key, stream_id = await studio.key(studio.streamer)
    other = await new_studio(studio.runtime, studio.gql, studio.http)
    other_key, _ = await other.key(other.streamer)
    admin = await _admin(studio)
    ws = await TransportWsClient.connected(server.ws_url, studio.viewer.token)
    one = await TransportWsClient.connected(server.ws_url, studio.streamer.token)
    try:
        await ws.subscribe(CHANGED, {})
        await one.subscribe(CHANGED, {"id": stream_id})
        await wait_listening(settings.broadcast_url, channel_name(STREAM_CHANGED, studio.streamer.tenant_id))
        await asyncio.sleep(0.2)
        assert await other.publish(other_key) == 204  # another tenant: nothing for ours
        assert await studio.publish(key) == 204
        live = (await ws.next_data("1", TIMEOUT))["streamStatusChanged"]
        assert (live["status"], live["isLive"], live["from"], live["viewerCount"]) == (
            "LIVE",
            True,
            "DRAFT",
            0,
        )
        assert live["stream"]["id"] == stream_id and live["stream"]["streamKey"] is None
        assert live["stream"]["owner"] == {"email": studio.streamer.email}
        own = (await one.next_data("1", TIMEOUT))["streamStatusChanged"]
        assert own["stream"]["streamKey"] == key  # the owner's own view
        counted = await studio.ok(VIEWERS, admin, input={"id": stream_id, "viewerCount": 42})
        assert counted["setStreamViewerCount"] == {"stream": {"viewerCount": 42}, "userErrors": []}
        viewers = (await ws.next_data("1", TIMEOUT))["streamStatusChanged"]
        assert (viewers["viewerCount"], viewers["from"], viewers["status"]) == (42, None, "LIVE")
        assert await studio.done(key) == 204
        ended = (await ws.next_data("1", TIMEOUT))["streamStatusChanged"]
        assert (ended["status"], ended["isLive"], ended["from"], ended["viewerCount"]) == (
            "ENDED",
            False,
            "LIVE",
            0,
        )
        await ws.expect_nothing(0.3)
    finally:
        await ws.close()
        await one.close()
    refused = await studio.gql(
        VIEWERS, {"input": {"id": stream_id, "viewerCount": 1}}, token=studio.streamer.token
    )
    assert refused.error_codes == ["FORBIDDEN"]
    not_live = await studio.ok(VIEWERS, admin, input={"id": stream_id, "viewerCount": 1})
    assert not_live["setStreamViewerCount"]["userErrors"] == [{"code": "INVALID_TRANSITION"}]


async def _post(url: str, query: str, token: str | None, **variables: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=url) as client:
        return await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


async def test_maintenance_switched_here_refuses_in_the_other_process(
    studio: Studio, server: LiveServer
) -> None:
    admin = await _admin(studio)
    me = "{ me { email } }"
    before = await _post(server.base_url, me, studio.viewer.token)
    assert before.json()["data"]["me"]["email"] == studio.viewer.email  # the other process has cached "off"
    switched = await studio.ok(SWITCH, admin, input={"enabled": True, "message": "Back at 15:00"})
    assert switched["setMaintenanceMode"]["maintenanceMode"] == {"enabled": True, "message": "Back at 15:00"}
    try:
        # This process at once.
        here = await studio.gql(me, token=studio.viewer.token)
        assert here.error_codes == ["SERVICE_UNAVAILABLE"] and here.errors[0]["message"] == "Back at 15:00"
        # The other one by the event (its cache would hold "off" for 60 s otherwise).
        deadline = time.monotonic() + 5.0
        while True:
            answer = (await _post(server.base_url, me, studio.viewer.token)).json()
            codes = [e["extensions"]["code"] for e in answer.get("errors") or []]
            if codes == ["SERVICE_UNAVAILABLE"]:
                break
            assert time.monotonic() < deadline, answer
            await asyncio.sleep(0.05)
        admin_there = (await _post(server.base_url, "{ me { email } }", admin.token)).json()
        assert admin_there["data"]["me"]["email"] == admin.email
        mode = (await _post(server.base_url, "{ maintenanceMode { enabled message } }", None)).json()
        assert mode["data"]["maintenanceMode"] == {"enabled": True, "message": "Back at 15:00"}
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            health = await client.get("/health")
            shim = await client.post("/streams/ingest/publish", data={"name": "x"})
        assert health.status_code == 200
        assert shim.status_code == 503 and shim.headers["content-type"] == "application/problem+json"
        assert shim.json()["detail"] == "Back at 15:00"
        ws = await TransportWsClient.connected(server.ws_url, studio.viewer.token)
        try:
            await ws.subscribe(CHANGED, {})
            message = await ws.receive(TIMEOUT)
            assert message["type"] == "next" and message["payload"]["data"] is None, message
            assert message["payload"]["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        finally:
            await ws.close()
    finally:
        off = await studio.ok(SWITCH, admin, input={"enabled": False})
        assert off["setMaintenanceMode"]["maintenanceMode"]["enabled"] is False
    deadline = time.monotonic() + 5.0
    while "errors" in (await _post(server.base_url, me, studio.viewer.token)).json():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


async def test_maintenance_costs_no_statement_in_steady_state(studio: Studio) -> None:
    gate = studio.runtime.maintenance
    await studio.gql.warm(studio.viewer.token)
    reads = gate.reads
    for _ in range(5):
        await studio.gql.warm(studio.viewer.token)
    assert gate.reads == reads
    non_admin = await studio.gql(SWITCH, {"input": {"enabled": True}}, token=studio.moderator.token)
    assert non_admin.error_codes == ["FORBIDDEN"]
