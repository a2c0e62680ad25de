"""The outbox dispatcher against real PostgreSQL and Redis, on a database of its own (the app's
own dispatcher would otherwise claim the rows first)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from core.scope import TenantScope
from models.base import utcnow
from models.db import Database
from models.events import OutboxEvent
from models.identity.accounts import TenantKind
from realtime.broadcast import Broadcast, create_broadcast
from realtime.dispatcher import OutboxDispatcher
from realtime.redis_backend import BroadcastUnavailable
from realtime.stream import channel_name, domain_events
from server.cli import migrate
from services.events import USER_UPDATED, record_event
from services.identity.bootstrap import ensure_tenant
from tests.conftest import make_settings
from tests.harness.servers import PostgresServer, RedisServer

ALL = TenantScope.all_tenants()


@pytest.fixture(scope="module")
def outbox_url(postgres: PostgresServer) -> str:
    url = postgres.create_database("outbox")
    migrate(make_settings(url, "memory://"))
    return url


@pytest.fixture
async def db(outbox_url: str) -> AsyncIterator[Database]:
    database = Database(outbox_url)
    async with database.transaction(ALL) as session:
        await session.execute(OutboxEvent.__table__.delete())
    yield database
    await database.dispose()


@pytest.fixture
async def broadcast(redis_server: RedisServer) -> AsyncIterator[Broadcast]:
    channel = create_broadcast(redis_server.url)
    await channel.connect()
    yield channel
    await channel.disconnect()


async def record(db: Database, tenant_id: uuid.UUID, count: int) -> list[uuid.UUID]:
    async with db.transaction(ALL) as session:
        events = [
            record_event(session, topic=USER_UPDATED, tenant_id=tenant_id, payload={"userId": str(i)})
            for i in range(count)
        ]
    return [e.id for e in events]


async def tenant(db: Database) -> uuid.UUID:
    async with db.transaction(ALL) as session:
        return (await ensure_tenant(session, f"t-{uuid.uuid4().hex[:8]}", "T", TenantKind.ENTERPRISE)).id


async def unpublished(db: Database) -> int:
    async with db.session(ALL) as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
            )
            or 0
        )


async def test_events_are_published_in_order_and_marked_sent(db: Database, broadcast: Broadcast) -> None:
    tenant_id = await tenant(db)
    ids = await record(db, tenant_id, 3)
    received: list[str] = []

    async def listen() -> None:
        async for event in domain_events(broadcast, channel_name(USER_UPDATED, tenant_id)):
            received.append(event["id"])
            if len(received) == 3:
                return

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0.2)
    assert await OutboxDispatcher(db, broadcast).dispatch_once() == 3
    await asyncio.wait_for(listener, timeout=5)
    assert received == [str(i) for i in ids]
    assert await unpublished(db) == 0


async def test_nothing_is_marked_sent_while_redis_is_down(
    db: Database, broadcast: Broadcast, redis_server: RedisServer
) -> None:
    tenant_id = await tenant(db)
    await record(db, tenant_id, 2)
    dispatcher = OutboxDispatcher(db, broadcast)
    redis_server.stop()
    try:
        with pytest.raises(BroadcastUnavailable):
            await dispatcher.dispatch_once()
        assert await unpublished(db) == 2
    finally:
        redis_server.start()
    assert await dispatcher.dispatch_once() == 2
    assert await unpublished(db) == 0


async def test_subscribers_drop_duplicates_by_event_id(db: Database, broadcast: Broadcast) -> None:
    tenant_id = await tenant(db)
    (event_id,) = await record(db, tenant_id, 1)
    second = uuid.uuid4()
    stream = domain_events(broadcast, channel_name(USER_UPDATED, tenant_id))
    first_event = asyncio.create_task(anext(stream))
    await asyncio.sleep(0.2)
    channel = channel_name(USER_UPDATED, tenant_id)
    message = {"id": str(event_id), "topic": USER_UPDATED, "payload": {}}
    await broadcast.publish(channel, json.dumps(message))
    await broadcast.publish(channel, json.dumps(message))  # at-least-once: delivered again
    await broadcast.publish(channel, json.dumps({**message, "id": str(second)}))
    assert (await asyncio.wait_for(first_event, 5))["id"] == str(event_id)
    assert (await asyncio.wait_for(anext(stream), 5))["id"] == str(second)
    await stream.aclose()


async def test_prune_forgets_only_old_published_events(db: Database, broadcast: Broadcast) -> None:
    tenant_id = await tenant(db)
    old, recent, pending = await record(db, tenant_id, 3)
    async with db.transaction(ALL) as session:
        await session.execute(
            update(OutboxEvent).where(OutboxEvent.id == old).values(published_at=utcnow() - timedelta(days=2))
        )
        await session.execute(
            update(OutboxEvent).where(OutboxEvent.id == recent).values(published_at=utcnow())
        )
    assert await OutboxDispatcher(db, broadcast).prune() == 1
    async with db.session(ALL) as session:
        left = set(await session.scalars(select(OutboxEvent.id)))
    assert left == {recent, pending}
