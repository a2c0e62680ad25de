"""The outbox dispatcher: publishes recorded domain events through broadcast, at least once.

Events are written in the same transaction as the change that caused them (services/events.py).
Every server process runs a dispatcher; rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED,
so each event is published by one process, and marked sent only after the publish succeeded.
While Redis is down nothing is marked sent, and publishing resumes when it is back. A process whose
Redis listener was cut off replays, to its own subscribers, what others published meanwhile;
subscribers drop the duplicates by event id (realtime/stream.py)."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select

from core.scope import TenantScope
from core.workers import PollingWorker, Round
from models.base import utcnow
from models.db import Database
from models.events import OutboxEvent
from realtime.broadcast import Broadcast
from realtime.redis_backend import BroadcastUnavailable, RedisBackend
from realtime.stream import channel_name

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


class OutboxDispatcher(PollingWorker):
    """Publishes every ``poll_seconds``, and at once when woken after a commit that recorded events."""

    name = "outbox-dispatcher"

    def __init__(self, db: Database, broadcast: Broadcast, poll_seconds: float = 1.0) -> None:
        super().__init__(poll_seconds, retry_seconds=0.2, max_retry_seconds=MAX_BACKOFF_SECONDS)
        self.db = db
        self.broadcast = broadcast
        self._last_pruned: float | None = None

    async def run_round(self) -> Round:
        if await self.dispatch_once() == BATCH_SIZE:
            return Round.MORE
        now = asyncio.get_running_loop().time()
        if self._last_pruned is None or now - self._last_pruned >= PRUNE_EVERY_SECONDS:
            await self.prune()
            self._last_pruned = now
        return Round.DONE

    def log_level(self, exc: Exception) -> int:
        return logging.WARNING if isinstance(exc, BroadcastUnavailable) else logging.ERROR

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
        backend = self.broadcast.backend
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
            await self.broadcast.deliver_locally(
                channel_name(event.topic, event.tenant_id), event_message(event)
            )
        if events:
            log.info("replayed %d events missed while the broadcast link was down", len(events))
