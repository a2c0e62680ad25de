"""Redis pub/sub backend for ``broadcaster`` that survives Redis outages.

broadcaster's own Redis backend never reconnects: after any outage its listener
is dead for good and open subscriber iterators silently stop receiving. This
backend keeps the set of subscribed channels itself and runs one listener task
that, on any connection problem, throws the pub/sub connection away, reconnects
with exponential backoff, re-subscribes to every channel and resumes delivery.

Messages published while the listener was disconnected are lost (Redis pub/sub
has no history); ``on_reconnect`` is called with the time the connection was
lost so the application can replay them from its outbox table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from broadcaster import BroadcastBackend, Event
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["BroadcastUnavailable", "ReconnectCallback", "RedisBackend", "State"]

logger = logging.getLogger(__name__)

State = Literal["connected", "reconnecting", "disconnected"]
ReconnectCallback = Callable[[datetime], Awaitable[None]]
T = TypeVar("T")


class BroadcastUnavailable(Exception):
    """Redis cannot be reached right now; the caller should retry later."""


class _NeverRetry(Retry):
    """No retry and no failure handler: redis-py's pub/sub failure handler reconnects the
    connection behind our back and re-subscribes only the channels *it* knows about, without
    telling anyone that messages were lost in between. Any connection problem must surface as an
    exception so the listener rebuilds the subscription from our own channel set and reports the
    gap."""

    def __init__(self) -> None:
        super().__init__(NoBackoff(), 0)

    async def call_with_retry(
        self,
        do: Callable[[], Awaitable[T]],
        fail: Callable[..., Any],
        is_retryable: Callable[[Exception], bool] | None = None,
        with_failure_count: bool = False,
    ) -> T:
        return await do()


class _NonReconnectingPubSub(PubSub):
    """A PubSub whose lost connection stays lost (see ``_NeverRetry``)."""

    async def connect(self) -> None:
        conn = self.connection
        if conn is not None and not conn.is_connected:
            raise RedisConnectionError("pub/sub connection was lost")
        await super().connect()


def _text(value: bytes | str) -> str:
    if isinstance(value, bytes):
        # Never let a non-UTF-8 payload kill the listener.
        return value.decode("utf-8", errors="replace")
    return value


class RedisBackend(BroadcastBackend):
    """Self-healing Redis pub/sub backend for ``broadcaster.Broadcast``.

    Health is exposed for readiness probes: ``state`` is ``"connected"``,
    ``"reconnecting"`` (listener down, retrying) or ``"disconnected"`` (before
    ``connect()`` / after ``disconnect()``); ``last_error`` is the most recent
    connection error of the listener (kept after recovery, for diagnostics).

    ``connect()`` does not fail when Redis is down at start-up: the listener
    keeps retrying in the background (state ``"reconnecting"``) and
    ``on_reconnect`` is called once it gets through.
    """

    def __init__(
        self,
        url: str,
        *,
        on_reconnect: ReconnectCallback | None = None,
        socket_timeout: float = 2.0,
        socket_connect_timeout: float = 1.0,
        backoff_initial: float = 0.05,
        backoff_max: float = 2.0,
        health_check_interval: float = 10.0,
        poll_interval: float = 1.0,
    ) -> None:
        self._url = url
        self.on_reconnect: ReconnectCallback | None = on_reconnect
        # Called synchronously once the subscription is rebuilt after a loss, before any message
        # of the new connection is delivered (e.g. to drop state that missed messages may concern).
        self.reconnect_listeners: list[Callable[[], None]] = []
        self._socket_timeout = socket_timeout
        self._socket_connect_timeout = socket_connect_timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._health_check_interval = health_check_interval
        self._poll_interval = poll_interval

        self._channels: set[str] = set()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        # Serialises (re-)subscription: either the listener rebuilds the whole
        # subscription, or one subscribe()/unsubscribe() call talks to Redis.
        self._lock = asyncio.Lock()
        # subscribe() waits for Redis' confirmation so that a message published
        # right after subscribe() returns is never missed.
        self._confirmations: dict[str, list[asyncio.Future[None]]] = {}

        self._publisher: Redis | None = None
        self._subscriber: Redis | None = None
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None
        self._callback_tasks: set[asyncio.Task[None]] = set()

        self._state: State = "disconnected"
        self._last_error: str | None = None
        self._lost_at: datetime | None = None

    # -- health -----------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def last_error(self) -> str | None:
        return self._last_error

    @property
    def disconnected_since(self) -> datetime | None:
        """UTC time the listener lost Redis, while it is reconnecting."""
        return self._lost_at if self._state == "reconnecting" else None

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(self._channels)

    # -- BroadcastBackend -------------------------------------------------

    async def connect(self) -> None:
        if self._listener is not None:
            raise RuntimeError("RedisBackend is already connected")
        common: dict[str, Any] = {
            "socket_timeout": self._socket_timeout,
            "socket_connect_timeout": self._socket_connect_timeout,
        }
        # One immediate retry on a fresh connection: after a Redis restart the
        # pooled connection is stale even though Redis is back. Timeouts are
        # not retried so publish() stays bounded by the socket timeouts.
        self._publisher = Redis.from_url(
            self._url, retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)), **common
        )
        # No retries at all on the listener side: failures must surface.
        self._subscriber = Redis.from_url(self._url, retry=_NeverRetry(), **common)
        self._queue = asyncio.Queue()  # nothing stale from a previous connect()
        self._state = "reconnecting"
        try:
            await self._establish()
        except Exception as exc:
            self._lost(exc)
        self._listener = asyncio.create_task(self._run(), name=f"RedisBackend listener {self._safe_url()}")

    async def disconnect(self) -> None:
        self._state = "disconnected"
        tasks = [t for t in (self._listener, *self._callback_tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._listener = None
        self._callback_tasks.clear()
        for waiters in self._confirmations.values():
            for waiter in waiters:
                waiter.cancel()
        self._confirmations.clear()
        if self._pubsub is not None:
            await self._close_pubsub(self._pubsub)
            self._pubsub = None
        for client in (self._subscriber, self._publisher):
            if client is not None:
                await client.aclose()
        self._subscriber = self._publisher = None
        self._lost_at = None

    async def subscribe(self, channel: str) -> None:
        # Never raises for connection problems: the channel is remembered and
        # subscribed by the listener as soon as Redis is reachable again.
        # (broadcaster.Broadcast.subscribe breaks if the backend raises here.)
        self._channels.add(channel)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        async with self._lock:
            pubsub = self._pubsub
            if pubsub is None or channel not in self._channels:
                return
            self._confirmations.setdefault(channel, []).append(waiter)
            try:
                await pubsub.subscribe(channel)
            except Exception as exc:
                # The listener notices the dead connection and re-subscribes.
                logger.warning("SUBSCRIBE %s failed, will retry after reconnect: %s", channel, exc)
                self._drop_waiter(channel, waiter)
                return
        try:
            await asyncio.wait_for(waiter, self._socket_timeout)
        except TimeoutError:
            logger.warning("no SUBSCRIBE confirmation for %s within %.1fs", channel, self._socket_timeout)
        finally:
            self._drop_waiter(channel, waiter)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        async with self._lock:
            pubsub = self._pubsub
            if pubsub is None or channel in self._channels:
                return
            try:
                await pubsub.unsubscribe(channel)
            except Exception as exc:
                # Harmless: the reconnect subscribes only to remaining channels.
                logger.debug("UNSUBSCRIBE %s failed: %s", channel, exc)

    async def publish(self, channel: str, message: Any) -> None:
        if self._publisher is None:
            raise BroadcastUnavailable("RedisBackend is not connected")
        try:
            await self._publisher.publish(channel, message)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise BroadcastUnavailable(f"Redis unavailable for PUBLISH to {channel!r}: {exc}") from exc

    async def next_published(self) -> Event:
        return await self._queue.get()

    # -- listener ---------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        while True:
            if self._pubsub is None:
                await asyncio.sleep(self._backoff_delay(failures))
                try:
                    await self._establish()
                except Exception as exc:
                    failures += 1
                    self._lost(exc)  # _establish() closed its own pub/sub
                    continue
            pubsub = self._pubsub
            if pubsub is None:  # _establish() sets it on success; never None here
                continue
            connected_at = loop.time()
            try:
                await self._read_forever(pubsub)
            except Exception as exc:
                # A connection that stayed up a while starts backoff afresh;
                # one that flaps keeps backing off.
                failures = 0 if loop.time() - connected_at > self._backoff_max else failures + 1
                broken = self._lost(exc)
                if broken is not None:
                    await self._close_pubsub(broken)

    async def _establish(self) -> None:
        """Open a fresh pub/sub connection and subscribe to every channel."""
        if self._subscriber is None:
            raise BroadcastUnavailable("RedisBackend is not connected")
        pubsub = _NonReconnectingPubSub(self._subscriber.connection_pool)
        try:
            # Connect eagerly (outside the lock: may take up to the connect
            # timeout) so the listener can read even before the first
            # subscribe -- no "empty pubsub" race for the first subscription.
            await pubsub.connect()
            async with self._lock:
                channels = sorted(self._channels)
                if channels:
                    await pubsub.subscribe(*channels)
                    await self._await_confirmations(pubsub, set(channels))
                self._pubsub = pubsub
                self._state = "connected"
        except BaseException:
            await self._close_pubsub(pubsub)
            raise
        lost_at, self._lost_at = self._lost_at, None
        if lost_at is not None:
            logger.info("Redis pub/sub reconnected, %d channel(s) re-subscribed", len(channels))
            for listener in list(self.reconnect_listeners):
                try:
                    listener()
                except Exception:
                    logger.exception("RedisBackend reconnect listener failed")
            self._notify_reconnect(lost_at)

    async def _await_confirmations(self, pubsub: PubSub, pending: set[str]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._socket_timeout
        while pending:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise RedisTimeoutError(f"no SUBSCRIBE confirmation for {len(pending)} channel(s)")
            message = await pubsub.get_message(timeout=remaining)
            if message is None:
                continue
            self._handle(message)
            if message["type"] == "subscribe":
                pending.discard(_text(message["channel"]))

    async def _read_forever(self, pubsub: PubSub) -> None:
        loop = asyncio.get_running_loop()
        last_seen = loop.time()
        ping_sent_at: float | None = None
        while True:
            conn = pubsub.connection
            # A failed SUBSCRIBE from another task may have dropped the socket.
            if conn is None or not conn.is_connected:
                raise RedisConnectionError("pub/sub connection was closed")
            message = await pubsub.get_message(timeout=self._poll_interval)
            now = loop.time()
            if message is not None:
                last_seen, ping_sent_at = now, None
                self._handle(message)
                continue
            # A silent socket may be a half-open connection (no FIN after a
            # network failure): PING when idle, give up if no answer.
            if ping_sent_at is not None:
                if now - ping_sent_at > self._socket_timeout:
                    raise RedisTimeoutError("no PING reply on pub/sub connection")
            elif now - last_seen > self._health_check_interval:
                await pubsub.ping()
                ping_sent_at = now

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "message":
            self._queue.put_nowait(Event(channel=_text(message["channel"]), message=_text(message["data"])))
        elif kind == "subscribe":
            for waiter in self._confirmations.pop(_text(message["channel"]), []):
                if not waiter.done():
                    waiter.set_result(None)

    def _lost(self, exc: BaseException) -> PubSub | None:
        """Record a listener failure; return the broken pub/sub to close."""
        self._last_error = f"{type(exc).__name__}: {exc}"
        if self._state == "connected" or self._lost_at is None:
            logger.warning("Redis pub/sub connection lost (%s), reconnecting", self._last_error)
        else:
            logger.debug("Redis pub/sub reconnect failed: %s", self._last_error)
        if self._lost_at is None:
            self._lost_at = datetime.now(UTC)
        self._state = "reconnecting"
        pubsub, self._pubsub = self._pubsub, None
        return pubsub

    def _backoff_delay(self, failures: int) -> float:
        delay = float(min(self._backoff_max, self._backoff_initial * (2**failures)))
        # Jitter so that many processes do not reconnect in lockstep.
        return delay * random.uniform(0.8, 1.0)

    def _notify_reconnect(self, lost_at: datetime) -> None:
        callback = self.on_reconnect
        if callback is not None:
            # Own task: a slow outbox replay must not stall message delivery.
            self._spawn(callback(lost_at), "on_reconnect")

    def _spawn(self, coro: Awaitable[None], what: str) -> None:
        async def runner() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("RedisBackend %s failed", what)

        task = asyncio.create_task(runner(), name=f"RedisBackend {what}")
        self._callback_tasks.add(task)
        task.add_done_callback(self._callback_tasks.discard)

    @staticmethod
    async def _close_pubsub(pubsub: PubSub) -> None:
        with contextlib.suppress(Exception):
            await pubsub.aclose()

    def _drop_waiter(self, channel: str, waiter: asyncio.Future[None]) -> None:
        waiters = self._confirmations.get(channel)
        if waiters is not None and waiter in waiters:
            waiters.remove(waiter)
            if not waiters:
                del self._confirmations[channel]

    def _safe_url(self) -> str:
        # Task names end up in logs: never include a password.
        _, sep, tail = self._url.rpartition("@")
        return f"{self._url.split('://', 1)[0]}://***@{tail}" if sep else self._url
