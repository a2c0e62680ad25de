"""RedisBackend against a real redis-server, including restarts of that server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from broadcaster import Event
from redis.asyncio import Redis

from realtime.broadcast import Broadcast, create_broadcast
from realtime.redis_backend import BroadcastUnavailable, RedisBackend, State
from tests.harness.servers import RedisServer

# Unclosed sockets / never-awaited tasks show up as warnings: fail on them.
pytestmark = pytest.mark.filterwarnings("error")

RECEIVE_TIMEOUT = 3.0
STATE_TIMEOUT = 5.0


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def connected(
    url: str, backend: RedisBackend | None = None
) -> AsyncIterator[tuple[Broadcast, RedisBackend]]:
    backend = backend or RedisBackend(url)
    async with Broadcast(backend) as broadcast:
        yield broadcast, backend


async def wait_for_state(backend: RedisBackend, state: State) -> None:
    deadline = time.monotonic() + STATE_TIMEOUT
    while backend.state != state:
        assert time.monotonic() < deadline, f"state stayed {backend.state!r}, expected {state!r}"
        await asyncio.sleep(0.01)


async def record_states(backend: RedisBackend, seen: list[State]) -> None:
    # Polls often enough to catch the short "reconnecting" phase of a restart.
    while True:
        if not seen or seen[-1] != backend.state:
            seen.append(backend.state)
        await asyncio.sleep(0.005)


async def stop_for(server: RedisServer, seconds: float) -> None:
    await asyncio.to_thread(server.stop)
    await asyncio.sleep(seconds)
    await asyncio.to_thread(server.start)


@pytest.mark.asyncio
async def test_first_subscription_receives_first_message(redis_server: RedisServer) -> None:
    async with connected(redis_server.url) as (broadcast, backend):
        assert backend.state == "connected"
        async with broadcast.subscribe("chan") as subscriber:
            # subscribe() returns only once Redis has confirmed the SUBSCRIBE.
            client = Redis.from_url(redis_server.url)
            try:
                assert await client.pubsub_numsub("chan") == [(b"chan", 1)]
            finally:
                await client.aclose()
            await broadcast.publish("chan", "hello")
            event = await asyncio.wait_for(subscriber.get(), RECEIVE_TIMEOUT)
        assert event == Event("chan", "hello")
    assert backend.state == "disconnected"


@pytest.mark.asyncio
async def test_subscriber_survives_redis_restart(redis_server: RedisServer) -> None:
    calls: list[datetime] = []

    async def on_reconnect(lost_at: datetime) -> None:
        calls.append(lost_at)

    backend = RedisBackend(redis_server.url, on_reconnect=on_reconnect)
    async with connected(redis_server.url, backend) as (broadcast, _):
        async with broadcast.subscribe("chan") as subscriber:
            await broadcast.publish("chan", "before")
            assert (await asyncio.wait_for(subscriber.get(), RECEIVE_TIMEOUT)).message == "before"

            states: list[State] = []
            recorder = asyncio.create_task(record_states(backend, states))
            before = datetime.now(UTC)
            await stop_for(redis_server, 0.5)
            await wait_for_state(backend, "connected")
            recorder.cancel()
            await asyncio.gather(recorder, return_exceptions=True)
            assert states[0] == "connected" and "reconnecting" in states
            assert backend.state == "connected"
            assert backend.last_error is not None

            await broadcast.publish("chan", "after")
            assert (await asyncio.wait_for(subscriber.get(), RECEIVE_TIMEOUT)).message == "after"

        await asyncio.sleep(0.05)  # on_reconnect runs in its own task
        assert len(calls) == 1
        assert before <= calls[0] <= datetime.now(UTC)
        assert calls[0].tzinfo is not None


@pytest.mark.asyncio
async def test_publish_while_redis_down_raises_quickly(redis_server: RedisServer) -> None:
    async with connected(redis_server.url) as (broadcast, backend):
        await broadcast.publish("chan", "warm up the connection pool")
        await asyncio.to_thread(redis_server.stop)
        started = time.monotonic()
        with pytest.raises(BroadcastUnavailable):
            await broadcast.publish("chan", "lost")
        assert time.monotonic() - started < 2.0
        await wait_for_state(backend, "reconnecting")
        assert backend.disconnected_since is not None

        # Subscribing during the outage neither hangs nor raises, and the
        # subscription is made once Redis is back.
        async with broadcast.subscribe("late") as subscriber:
            await asyncio.to_thread(redis_server.start)
            await wait_for_state(backend, "connected")
            await broadcast.publish("late", "made it")
            assert (await asyncio.wait_for(subscriber.get(), RECEIVE_TIMEOUT)).message == "made it"


@pytest.mark.asyncio
async def test_connect_while_redis_down_then_recovers(redis_server: RedisServer) -> None:
    calls: list[datetime] = []

    async def on_reconnect(lost_at: datetime) -> None:
        calls.append(lost_at)

    await asyncio.to_thread(redis_server.stop)
    backend = RedisBackend(redis_server.url)
    backend.on_reconnect = on_reconnect  # settable after construction, too
    async with connected(redis_server.url, backend) as (broadcast, _):
        assert backend.state == "reconnecting"
        async with broadcast.subscribe("chan") as subscriber:
            await asyncio.to_thread(redis_server.start)
            await wait_for_state(backend, "connected")
            await broadcast.publish("chan", "hi")
            assert (await asyncio.wait_for(subscriber.get(), RECEIVE_TIMEOUT)).message == "hi"
        await asyncio.sleep(0.05)
        assert len(calls) == 1


@pytest.mark.asyncio
async def test_two_instances_share_redis_across_restart(redis_server: RedisServer) -> None:
    async with connected(redis_server.url) as (sender, sender_backend):
        async with connected(redis_server.url) as (receiver, receiver_backend):
            async with receiver.subscribe("chan") as subscriber:
                await sender.publish("chan", "one")
                assert (await asyncio.wait_for(subscriber.get(), RECEIVE_TIMEOUT)).message == "one"

                await stop_for(redis_server, 0.3)
                await wait_for_state(receiver_backend, "connected")
                await sender.publish("chan", "two")
                assert (await asyncio.wait_for(subscriber.get(), RECEIVE_TIMEOUT)).message == "two"
                await wait_for_state(sender_backend, "connected")


@pytest.mark.asyncio
async def test_unsubscribed_channel_not_resubscribed(redis_server: RedisServer) -> None:
    async with connected(redis_server.url) as (broadcast, backend):
        async with broadcast.subscribe("gone"):
            pass
        async with broadcast.subscribe("kept") as subscriber:
            assert backend.channels == {"kept"}
            await stop_for(redis_server, 0.1)
            await wait_for_state(backend, "connected")
            await broadcast.publish("gone", "nobody listens")
            await broadcast.publish("kept", "x")
            assert (await asyncio.wait_for(subscriber.get(), RECEIVE_TIMEOUT)) == Event("kept", "x")
            assert backend._queue.empty()  # "gone" was not delivered to the backend


@pytest.mark.asyncio
def leftover_tasks(before: set[asyncio.Task[object]]) -> set[str]:
    """Tasks started since ``before`` that belong to the backend or broadcaster (an app that
    other tests started in this session keeps its own background tasks going meanwhile)."""
    ours = ("/realtime/", "/broadcaster/", "/redis/")
    leftovers = set()
    for task in asyncio.all_tasks() - before:
        code = getattr(task.get_coro(), "cr_code", None)
        if not task.done() and (code is None or any(part in code.co_filename for part in ours)):
            leftovers.add(repr(task))
    return leftovers


async def test_disconnect_leaves_no_pending_tasks(redis_server: RedisServer) -> None:
    before = asyncio.all_tasks()
    backend = RedisBackend(redis_server.url, on_reconnect=lambda _: asyncio.sleep(10))
    async with connected(redis_server.url, backend) as (broadcast, _):
        async with broadcast.subscribe("chan") as subscriber:
            await stop_for(redis_server, 0.1)
            await wait_for_state(backend, "connected")  # on_reconnect now sleeping
            assert backend._callback_tasks
            await broadcast.publish("chan", "x")
            await asyncio.wait_for(subscriber.get(), RECEIVE_TIMEOUT)
    await asyncio.sleep(0)  # Broadcast.disconnect cancels but does not await its task
    assert backend.state == "disconnected"
    assert leftover_tasks(before) == set()


@pytest.mark.asyncio
async def test_disconnect_during_outage(redis_server: RedisServer) -> None:
    before = asyncio.all_tasks()
    async with connected(redis_server.url) as (_, backend):
        await asyncio.to_thread(redis_server.stop)
        await wait_for_state(backend, "reconnecting")
    await asyncio.sleep(0)
    assert backend.state == "disconnected"
    assert leftover_tasks(before) == set()


def test_create_broadcast_picks_backend() -> None:
    assert isinstance(create_broadcast("redis://127.0.0.1:6379/0").backend, RedisBackend)
    assert isinstance(create_broadcast("rediss://127.0.0.1:6380/0").backend, RedisBackend)
    assert not isinstance(create_broadcast("memory://").backend, RedisBackend)
    with pytest.raises(ValueError, match="unsupported broadcast URL scheme"):
        create_broadcast("kafka://localhost")
