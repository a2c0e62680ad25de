"""Create the application's ``Broadcast`` from a URL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlparse

import broadcaster
from broadcaster._base import Subscriber

from realtime.redis_backend import RedisBackend


class Broadcast(broadcaster.Broadcast):
    """broadcaster's Broadcast, safe for subscribers of one channel arriving at the same moment.

    broadcaster 0.3.1 registers a channel's first queue only after awaiting the backend's
    subscribe: a second subscriber arriving meanwhile subscribes again and overwrites the first
    one's queue set, so one of them never receives anything (and its exit raises KeyError).
    Here the backend (un)subscribe and the queue registration happen under one lock per channel."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._channel_locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscriber]:
        queue: asyncio.Queue[broadcaster.Event | None] = asyncio.Queue()
        lock = self._channel_locks.setdefault(channel, asyncio.Lock())
        async with lock:
            if not self._subscribers.get(channel):
                await self._backend.subscribe(channel)
                self._subscribers[channel] = set()
            self._subscribers[channel].add(queue)
        try:
            yield Subscriber(queue)
        finally:
            async with lock:
                queues = self._subscribers.get(channel)
                if queues is not None:
                    queues.discard(queue)
                    if not queues:
                        del self._subscribers[channel]
                        await self._backend.unsubscribe(channel)
            await queue.put(None)


def create_broadcast(url: str) -> Broadcast:
    """``redis://``/``rediss://`` use our reconnecting backend; ``memory://`` the in-process one."""
    scheme = urlparse(url).scheme
    if scheme in ("redis", "rediss"):
        # Not Broadcast(url): broadcaster's own Redis backend never reconnects.
        return Broadcast(backend=RedisBackend(url))
    if scheme == "memory":
        return Broadcast(url)
    raise ValueError(
        f"unsupported broadcast URL scheme {scheme!r} (expected redis://, rediss:// or memory://)"
    )
