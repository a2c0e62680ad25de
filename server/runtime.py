"""Everything one server process holds for its lifetime: settings, database, broadcast, the
rate limiter and the outbox dispatcher."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from broadcaster import Broadcast

from models.db import Database
from server.ratelimit import RateLimiter, create_rate_limiter
from server.settings import Settings
from subscriptions.broadcast import create_broadcast
from subscriptions.dispatcher import OutboxDispatcher

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    broadcast: Broadcast
    rate_limiter: RateLimiter
    dispatcher: OutboxDispatcher

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        db = Database(settings.database_url)
        broadcast = create_broadcast(settings.broadcast_url)
        return cls(
            settings=settings,
            db=db,
            broadcast=broadcast,
            rate_limiter=create_rate_limiter(
                settings.rate_limit_redis_url, settings.auth_rate_limit_window_seconds
            ),
            dispatcher=OutboxDispatcher(db, broadcast, poll_seconds=settings.outbox_poll_seconds),
        )

    async def start(self) -> None:
        await self.broadcast.connect()
        self.dispatcher.attach_gap_filler()
        self.dispatcher.start()

    async def stop(self) -> None:
        await self.dispatcher.stop()
        await self.broadcast.disconnect()
        await self.rate_limiter.close()
        await self.db.dispose()
