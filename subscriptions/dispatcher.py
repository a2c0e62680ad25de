"""The outbox dispatcher: publishes recorded domain events through broadcast, at least once.

Events are written in the same transaction as the change that caused them (services/events.py).
Every server process runs a dispatcher; rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED,
so each event is published by one process, and marked sent only after the publish succeeded.
While Redis is down nothing is marked sent, and publishing resumes when it is back. A process whose
Redis listener was cut off replays, to its own subscribers, what others published meanwhile;
subscribers drop the duplicates by event id (subscriptions/stream.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from broadcaster import Broadcast, Event
from sqlalchemy import delete, or_, select

from models.base import utcnow
from models.db import Database
from models.events import OutboxEvent
from models.tenancy import TenantScope
from services.events import channel_name
from subscriptions.redis_backend import BroadcastUnavailable, RedisBackend

log = logging.getLogger(__name__)

BATCH_SIZE = 200
# Clocks of two processes differ a little; replay a margin before the moment the link was lost.
REPLAY_MARGIN = timedelta(seconds=2)
MAX_BACKOFF_SECONDS = 5.0
# Published events are kept this long: enough for a reconnecting process to replay its gap.
RETENTION = timedelta(hours=24)
PRUNE_EVERY_SECONDS = 600.0


def event_message(event: OutboxEvent) -> str:
    return json.dumps(
        {
            "id": str(event.id),
            "seq": event.seq,
            "topic": event.topic,
            "tenantId": str(event.tenant_id) if event.tenant_id else None,
            "payload": event.payload,
            "createdAt": event.created_at.isoformat(),
        }
    )


class OutboxDispatcher:
    def __init__(self, db: Database, broadcast: Broadcast, poll_seconds: float = 1.0) -> None:
        self.db = db
        self.broadcast = broadcast
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.last_error: str | None = None

    def wake(self) -> None:
        """Called after a commit that recorded events: publish now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        failures = 0
        last_pruned = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                while await self.dispatch_once() == BATCH_SIZE:
                    pass
                if loop.time() - last_pruned >= PRUNE_EVERY_SECONDS:
                    await self.prune()
                    last_pruned = loop.time()
                failures, self.last_error = 0, None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep dispatching whatever one batch did
                failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                level = logging.WARNING if isinstance(exc, BroadcastUnavailable) else logging.ERROR
                log.log(level, "outbox dispatch failed (attempt %d): %s", failures, exc)
            delay = self.poll_seconds if not failures else min(MAX_BACKOFF_SECONDS, 0.1 * 2**failures)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            self._wake.clear()

    async def dispatch_once(self) -> int:
        """Publish one batch of unsent events in order; returns how many were sent."""
        async with self.db.transaction(TenantScope.all_tenants()) as session:
            events = list(
                await session.scalars(
                    select(OutboxEvent)
                    .where(OutboxEvent.published_at.is_(None))
                    .order_by(OutboxEvent.seq)
                    .limit(BATCH_SIZE)
                    .with_for_update(skip_locked=True)
                )
            )
            for event in events:
                await self.broadcast.publish(channel_name(event.topic, event.tenant_id), event_message(event))
                # Marked in this transaction: if a later publish fails, the ones before it are
                # published again, which subscribers de-duplicate.
                event.published_at = utcnow()
            return len(events)

    async def prune(self, older_than: timedelta = RETENTION) -> int:
        """Forget published events older than the replay window; unpublished ones always stay."""
        async with self.db.transaction(TenantScope.all_tenants()) as session:
            result = await session.execute(
                delete(OutboxEvent).where(OutboxEvent.published_at < utcnow() - older_than)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def attach_gap_filler(self) -> None:
        backend = self.broadcast._backend
        if isinstance(backend, RedisBackend):
            backend.on_reconnect = self.replay_since

    async def replay_since(self, lost_at: datetime) -> None:
        """Deliver to this process's subscribers what was published while its listener was down.

        Unpublished events are included: a dispatcher publishes before it commits published_at,
        so an event published just before this listener re-subscribed may still look unpublished
        here. Delivering it early is harmless; its publication is then a duplicate, dropped."""
        async with self.db.session(TenantScope.all_tenants()) as session:
            events = list(
                await session.scalars(
                    select(OutboxEvent)
                    .where(
                        or_(
                            OutboxEvent.published_at.is_(None),
                            OutboxEvent.published_at >= lost_at - REPLAY_MARGIN,
                        )
                    )
                    .order_by(OutboxEvent.seq)
                )
            )
        for event in events:
            await deliver_locally(
                self.broadcast, channel_name(event.topic, event.tenant_id), event_message(event)
            )
        if events:
            log.info("replayed %d events missed while the broadcast link was down", len(events))


async def deliver_locally(broadcast: Broadcast, channel: str, message: Any) -> None:
    # broadcaster 0.3.1 (pinned) keeps its local subscriber queues here; no public API exists.
    for queue in list(broadcast._subscribers.get(channel, ())):
        await queue.put(Event(channel, message))
