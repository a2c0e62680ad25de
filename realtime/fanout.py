"""Fan-out of domain events to this process's subscriptions, with the work per event done once.

One *feed* per channel (topic and tenant) and process, however many subscriptions share it: it
holds the channel's one broadcast subscription, drops duplicate deliveries by event id, and turns
each event into its payload with ``prepare`` (typically one database read) once; then it hands
that same payload to every subscriber's *inbox*. Subscribers decide in memory whether to pass it
on (realtime/ knows nothing of who may see what).

A failing ``prepare`` (the database or the pool away for a moment) is retried a few times, then
the event is skipped and logged; no subscription ever ends because of it. A subscriber's inbox
can also be *notified* (``Inbox.notify``): its next ``get`` answers None, asking it to check its
own rules again (e.g. its access changed).

A subscriber may also take events the *express* way (``Inbox.express``): instead of waking its
task, the feed asks it in passing for a key (what it would make of the event, e.g. its document
and kind of viewer) and groups the subscribers by key. The first of each group takes the event
the plain way; once it is done with it (its message made and sent), the feed hands what it made
to the rest of the group. A subscriber with anything queued or in hand is never expressed: its
events stay in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Any, Generic, Protocol, TypeVar

from core.metrics import SUBSCRIPTION_DELIVERIES
from realtime.broadcast import Broadcast
from realtime.stream import channel_name, domain_events

log = logging.getLogger(__name__)
_PLAIN = SUBSCRIPTION_DELIVERIES.labels(way="plain")
_EXPRESS = SUBSCRIPTION_DELIVERIES.labels(way="express")

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)
# The dispatcher's JSON message (id, topic, tenantId, payload, ...) -> what subscribers get, or
# None to drop the event (e.g. the row it names is gone).
Prepare = Callable[[dict[str, Any]], Awaitable[T | None]]

# Waits between the attempts to prepare one event (then it is skipped).
RETRY_DELAYS = (0.05, 0.2, 0.5, 1.0)
# How long the rest of an express group waits for its first to be done with an event; then they
# take it the plain way.
FIRST_OF_GROUP_SECONDS = 0.5


class Skip:
    """The express key of an event that is not for this subscriber."""


SKIP = Skip()


class Express(Protocol[T_contra]):
    def key(self, item: T_contra) -> Hashable | None:
        """What this subscriber would make of ``item`` (equal keys: the same message), SKIP when
        it would drop it, None when it must take it the plain way."""
        ...

    def made(self, item: T_contra, key: Hashable) -> object | None:
        """What the first of the group with ``key`` made of ``item``, if it left anything."""
        ...

    def send(self, made: object) -> None:
        """Send this subscriber that (from the first of its group)."""
        ...


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

    __slots__ = ("_done", "_in_hand", "_notified", "_queue", "closed", "express")

    def __init__(self) -> None:
        self._queue: asyncio.Queue[T | _Notice | _Failure] = asyncio.Queue()
        self._notified = False
        # Something was taken by ``get`` and the subscriber is not back for the next one yet.
        self._in_hand = False
        self._done: asyncio.Future[None] | None = None
        self.closed = False
        self.express: Express[T] | None = None

    @property
    def idle(self) -> bool:
        return not self._in_hand and self._queue.empty()

    def express_key(self, item: T) -> Hashable | None:
        if self.express is None or not self.idle:
            return None
        return self.express.key(item)

    def done(self) -> asyncio.Future[None]:
        """Resolved when the subscriber is back for its next event (or gone)."""
        if self._done is None:
            self._done = asyncio.get_running_loop().create_future()
            if self.closed:
                self._done.set_result(None)
        return self._done

    def close(self) -> None:
        self.closed = True
        self._release()

    def _release(self) -> None:
        self._in_hand = False
        if self._done is not None:
            if not self._done.done():
                self._done.set_result(None)
            self._done = None

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
        self._release()
        item = await self._queue.get()
        self._in_hand = True
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
            if prepared is not None:
                await self._deliver(prepared)

    async def _deliver(self, item: T) -> None:
        groups: dict[Hashable, list[Inbox[T]]] = {}
        plain = 0
        for inbox in list(self.inboxes):
            key = inbox.express_key(item)
            if key is None:
                inbox.deliver(item)
                plain += 1
            elif key is not SKIP:
                groups.setdefault(key, []).append(inbox)
        if groups:
            plain += await self._deliver_grouped(item, groups)
        _PLAIN.inc(plain)

    async def _deliver_grouped(self, item: T, groups: dict[Hashable, list[Inbox[T]]]) -> int:
        """Delivers to the first of each group, then what it made to the rest; returns how many
        took the plain way."""
        for members in groups.values():
            members[0].deliver(item)
        await asyncio.wait([members[0].done() for members in groups.values()], timeout=FIRST_OF_GROUP_SECONDS)
        plain, expressed = len(groups), 0
        for key, (first, *rest) in groups.items():
            made = first.express.made(item, key) if first.express is not None else None
            for inbox in rest:
                if inbox.closed:
                    continue
                if made is not None and inbox.express is not None and inbox.idle:
                    inbox.express.send(made)
                    expressed += 1
                else:
                    inbox.deliver(item)
                    plain += 1
        _EXPRESS.inc(expressed)
        return plain

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
            inbox.close()
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
