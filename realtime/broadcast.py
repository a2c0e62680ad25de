"""The process's event fan-out: channels, local subscriber queues and a backend that carries
events between processes (our reconnecting Redis backend, or memory in the embedded run).

broadcaster's own ``Broadcast`` is not used: in 0.3.1 concurrent first subscribers of one channel
overwrite each other's queue set (one never receives anything), and it has no public way to
deliver a replayed event to local subscribers or to tell a probe about its backend. Backends keep
broadcaster's public ``BroadcastBackend`` interface."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlparse

from broadcaster import BroadcastBackend, Event

from realtime.redis_backend import RedisBackend

log = logging.getLogger(__name__)

# Called with each message of its channel, inside the delivery loop: before the next message is
# handed to anyone. Must be quick and must not block.
Listener = Callable[[str], None]


class MemoryBackend(BroadcastBackend):
    """Events stay inside this process (the embedded default)."""

    def __init__(self) -> None:
        self._subscribed: set[str] = set()
        self._published: asyncio.Queue[Event] = asyncio.Queue()

    async def connect(self) -> None:
        self._published = asyncio.Queue()

    async def disconnect(self) -> None:
        return None

    async def subscribe(self, channel: str) -> None:
        self._subscribed.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._subscribed.discard(channel)

    async def publish(self, channel: str, message: Any) -> None:
        await self._published.put(Event(channel=channel, message=message))

    async def next_published(self) -> Event:
        while True:
            event = await self._published.get()
            if event.channel in self._subscribed:
                return event


class Unsubscribed(Exception):
    """The subscription was left while waiting for its next event."""


class Subscriber:
    """One subscription's events, in order, until it is left."""

    def __init__(self, queue: asyncio.Queue[Event | None]) -> None:
        self._queue = queue

    async def get(self) -> Event:
        event = await self._queue.get()
        if event is None:
            raise Unsubscribed
        return event

    async def __aiter__(self) -> AsyncIterator[Event]:
        while (event := await self._queue.get()) is not None:
            yield event


class Broadcast:
    def __init__(self, backend: BroadcastBackend) -> None:
        self.backend = backend
        self._queues: dict[str, set[asyncio.Queue[Event | None]]] = {}
        self._listeners: dict[str, list[Listener]] = {}
        # A channel's backend (un)subscribe and its queue registration happen under one lock.
        self._channel_locks: dict[str, asyncio.Lock] = {}
        self._listener: asyncio.Task[None] | None = None

    @property
    def link_connected(self) -> bool:
        """Whether events of other processes reach this one right now: the Redis listener is
        connected (the memory backend, one process, always is)."""
        backend = self.backend
        return backend.state == "connected" if isinstance(backend, RedisBackend) else True

    def on_link_restored(self, callback: Callable[[], None]) -> None:
        """``callback()`` runs each time the link to other processes comes back after it was lost
        (events of other processes may have been missed), before any new event is delivered."""
        if isinstance(self.backend, RedisBackend):
            self.backend.reconnect_listeners.append(callback)

    async def __aenter__(self) -> Broadcast:
        await self.connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.disconnect()

    def subscribed_channels(self) -> set[str]:
        """Channels this process has local subscribers (or listeners) on."""
        return set(self._queues) | set(self._listeners)

    async def connect(self) -> None:
        await self.backend.connect()
        self._listener = asyncio.create_task(self._listen())

    async def disconnect(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await self.backend.disconnect()

    async def _listen(self) -> None:
        while True:
            event = await self.backend.next_published()
            await self.deliver_locally(event.channel, event.message)

    async def publish(self, channel: str, message: Any) -> None:
        await self.backend.publish(channel, message)

    async def deliver_locally(self, channel: str, message: Any) -> None:
        """Hand an event to this process's subscribers only (a replay after a reconnect)."""
        for listener in list(self._listeners.get(channel, ())):
            try:
                listener(message)
            except Exception:  # one listener's bug must not stop delivery to everyone else
                log.exception("listener of %s failed", channel)
        for queue in list(self._queues.get(channel, ())):
            await queue.put(Event(channel, message))

    def _has_receivers(self, channel: str) -> bool:
        return bool(self._queues.get(channel) or self._listeners.get(channel))

    @asynccontextmanager
    async def _joined(
        self, channel: str, join: Callable[[], None], leave: Callable[[], None]
    ) -> AsyncIterator[None]:
        """The backend is subscribed to ``channel`` while it has a receiver (queue or listener)."""
        lock = self._channel_locks.setdefault(channel, asyncio.Lock())
        async with lock:
            if not self._has_receivers(channel):
                await self.backend.subscribe(channel)
            join()
        try:
            yield
        finally:
            async with lock:
                leave()
                if not self._has_receivers(channel):
                    await self.backend.unsubscribe(channel)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscriber]:
        queue: asyncio.Queue[Event | None] = asyncio.Queue()

        def leave() -> None:
            queues = self._queues.get(channel)
            if queues is not None:
                queues.discard(queue)
                if not queues:
                    del self._queues[channel]

        try:
            async with self._joined(
                channel, lambda: self._queues.setdefault(channel, set()).add(queue), leave
            ):
                yield Subscriber(queue)
        finally:
            await queue.put(None)

    @asynccontextmanager
    async def listen(self, channel: str, listener: Listener) -> AsyncIterator[None]:
        """``listener(message)`` is called with every message of ``channel`` while the block runs,
        synchronously in the delivery loop (a message it has seen is applied before any later
        message of any channel reaches a subscriber)."""

        def leave() -> None:
            listeners = self._listeners.get(channel)
            if listeners is not None and listener in listeners:
                listeners.remove(listener)
                if not listeners:
                    del self._listeners[channel]

        async with self._joined(
            channel, lambda: self._listeners.setdefault(channel, []).append(listener), leave
        ):
            yield


def create_broadcast(url: str) -> Broadcast:
    """``redis://``/``rediss://`` use our reconnecting backend; ``memory://`` the in-process one."""
    scheme = urlparse(url).scheme
    if scheme in ("redis", "rediss"):
        return Broadcast(RedisBackend(url))
    if scheme == "memory":
        return Broadcast(MemoryBackend())
    raise ValueError(
        f"unsupported broadcast URL scheme {scheme!r} (expected redis://, rediss:// or memory://)"
    )
