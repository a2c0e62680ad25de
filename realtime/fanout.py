"""Fan-out of domain events to this process's subscriptions, with the work per event done once.

One *feed* per channel (topic and tenant) and process, however many subscriptions share it: it
holds the channel's one broadcast subscription, drops duplicate deliveries by event id, and turns
each event into its payload with ``prepare`` (typically one database read) once; then it hands
that same payload to every subscriber's *inbox*. Subscribers decide in memory whether to pass it
on (realtime/ knows nothing of who may see what).

A failing ``prepare`` (the database or the pool away for a moment) is retried a few times, then
the event is skipped and logged; no subscription ever ends because of it. A subscriber's inbox
can also be *notified* (``Inbox.notify``): its next ``get`` answers None, asking it to check its
own rules again (e.g. its access changed)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

from realtime.broadcast import Broadcast
from realtime.stream import channel_name, domain_events

log = logging.getLogger(__name__)

T = TypeVar("T")
# The dispatcher's JSON message (id, topic, tenantId, payload, ...) -> what subscribers get, or
# None to drop the event (e.g. the row it names is gone).
Prepare = Callable[[dict[str, Any]], Awaitable[T | None]]

# Waits between the attempts to prepare one event (then it is skipped).
RETRY_DELAYS = (0.05, 0.2, 0.5, 1.0)


class _Notice:
    """Put in an inbox by ``notify``."""


_NOTICE = _Notice()


class FeedFailed(Exception):
    """The channel's feed stopped on an unexpected error (a bug: transient errors are retried)."""


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Inbox(Generic[T]):
    """One subscription's share of a feed: the prepared events in order, and notices."""

    __slots__ = ("_notified", "_queue")

    def __init__(self) -> None:
        self._queue: asyncio.Queue[T | _Notice | _Failure] = asyncio.Queue()
        self._notified = False

    def deliver(self, item: T) -> None:
        self._queue.put_nowait(item)

    def fail(self, error: BaseException) -> None:
        self._queue.put_nowait(_Failure(error))

    def notify(self) -> None:
        """Ask the subscriber to check its rules again before its next event (at most one notice
        waits at a time)."""
        if not self._notified:
            self._notified = True
            self._queue.put_nowait(_NOTICE)

    async def get(self) -> T | None:
        """The next event's payload, or None for a notice."""
        item = await self._queue.get()
        if isinstance(item, _Notice):
            self._notified = False
            return None
        if isinstance(item, _Failure):
            raise FeedFailed("this subscription's event feed stopped") from item.error
        return item


class _Feed(Generic[T]):
    def __init__(self, broadcast: Broadcast, channel: str, prepare: Prepare[T]) -> None:
        self.channel = channel
        self.inboxes: set[Inbox[T]] = set()
        self.subscribed = asyncio.Event()
        self._broadcast = broadcast
        self._prepare = prepare
        self.failure: BaseException | None = None
        self.task = asyncio.create_task(self._run(), name=f"feed {channel}")

    async def _run(self) -> None:
        try:
            await self._deliver_all()
        except Exception as exc:
            log.exception("feed %s stopped", self.channel)
            self.failure = exc
            self.subscribed.set()
            for inbox in list(self.inboxes):
                inbox.fail(exc)

    async def _deliver_all(self) -> None:
        async for message in domain_events(self._broadcast, self.channel, self.subscribed.set):
            prepared = await self._prepared(message)
            if prepared is None:
                continue
            for inbox in list(self.inboxes):
                inbox.deliver(prepared)

    async def _prepared(self, message: dict[str, Any]) -> T | None:
        for attempt, delay in enumerate((*RETRY_DELAYS, None), 1):
            try:
                return await self._prepare(message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be away for a moment: never end the feed
                if delay is None:
                    log.error(
                        "skipped event %s on %s after %d attempts: %s: %s",
                        message.get("id"),
                        self.channel,
                        attempt,
                        type(exc).__name__,
                        exc,
                    )
                    return None
                log.warning(
                    "event %s on %s: attempt %d failed (%s: %s), retrying",
                    message.get("id"),
                    self.channel,
                    attempt,
                    type(exc).__name__,
                    exc,
                )
                await asyncio.sleep(delay)
        return None


class Fanout:
    """The feeds of one process (one per channel with subscribers)."""

    def __init__(self, broadcast: Broadcast) -> None:
        self.broadcast = broadcast
        self._feeds: dict[str, _Feed[Any]] = {}

    def subscriber_count(self, topic: str, tenant_id: uuid.UUID | None) -> int:
        feed = self._feeds.get(channel_name(topic, tenant_id))
        return len(feed.inboxes) if feed is not None else 0

    @asynccontextmanager
    async def subscribe(
        self, topic: str, tenant_id: uuid.UUID | None, prepare: Prepare[T]
    ) -> AsyncIterator[Inbox[T]]:
        """An inbox of the channel's events while the block runs (from when it is entered: the
        channel's broadcast subscription stands by then).

        Every subscriber of one topic must pass the same ``prepare`` (one that depends on the
        message only): the first subscriber's prepares the events for all of them."""
        channel = channel_name(topic, tenant_id)
        found: _Feed[T] | None = self._feeds.get(channel)
        if found is None or found.task.done():
            found = self._feeds[channel] = _Feed(self.broadcast, channel, prepare)
        feed = found
        inbox: Inbox[T] = Inbox()
        feed.inboxes.add(inbox)
        try:
            await feed.subscribed.wait()
            if feed.failure is not None:
                raise FeedFailed("this subscription's event feed stopped") from feed.failure
            yield inbox
        finally:
            feed.inboxes.discard(inbox)
            if not feed.inboxes and self._feeds.get(channel) is feed:
                # The last one left: the feed stops and leaves the channel (a newcomer starts a new one).
                del self._feeds[channel]
                feed.task.cancel()

    async def close(self) -> None:
        feeds, self._feeds = list(self._feeds.values()), {}
        for feed in feeds:
            feed.task.cancel()
        for feed in feeds:
            with contextlib.suppress(asyncio.CancelledError):
                await feed.task
