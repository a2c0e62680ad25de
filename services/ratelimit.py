"""Fixed-window attempt counters for sign-in and password operations.

Redis when configured (shared by every server process), process memory in the embedded default."""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.errors import RateLimited

log = logging.getLogger(__name__)


class CounterStore(Protocol):
    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        """Count one attempt; returns (attempts in the current window, seconds until it ends)."""

    async def close(self) -> None:
        """Release the store's connections."""


class MemoryCounters:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        now = time.monotonic()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window_seconds:
            started, count = now, 0
        self._windows[key] = (started, count + 1)
        if len(self._windows) > 100_000:  # bound memory: forget finished windows
            self._windows = {k: v for k, v in self._windows.items() if now - v[0] < window_seconds}
        return count + 1, max(1, int(window_seconds - (now - started)))

    async def close(self) -> None:
        self._windows.clear()


class RedisCounters:
    def __init__(self, url: str) -> None:
        self._redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    async def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window_seconds, nx=True)
            pipe.ttl(key)
            count, _, ttl = await pipe.execute()
        return int(count), max(1, int(ttl))

    async def close(self) -> None:
        await self._redis.aclose()


def counter_key(action: str, label: str, identifier: str) -> str:
    """The counter's key: the identifier (user input: an email, an IP header) hashed, so that a
    key is 90 bytes or so however long the input."""
    digest = hashlib.sha256(identifier.encode(errors="surrogatepass")).hexdigest()
    return f"tenantgraph:rl:{action}:{label}:{digest}"


class RateLimiter:
    def __init__(self, store: CounterStore, window_seconds: int) -> None:
        self.store = store
        self.window_seconds = window_seconds

    async def check(self, action: str, limits: dict[str, tuple[str, int]]) -> None:
        """Count one attempt of ``action`` under each key; RATE_LIMITED when any is over its limit.

        ``limits`` maps a label ("ip", "account") to (identifier, allowed attempts per window)."""
        for label, (identifier, allowed) in limits.items():
            key = counter_key(action, label, identifier)
            try:
                count, retry_after = await self.store.hit(key, self.window_seconds)
            except RedisError:
                # Availability over strictness: a Redis outage must not lock every user out.
                log.warning("rate limiter unavailable; allowing %s", action)
                return
            if count > allowed:
                raise RateLimited(retry_after)

    async def close(self) -> None:
        await self.store.close()


def create_rate_limiter(redis_url: str | None, window_seconds: int) -> RateLimiter:
    store: CounterStore = RedisCounters(redis_url) if redis_url else MemoryCounters()
    return RateLimiter(store, window_seconds)
