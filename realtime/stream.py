"""Subscribing to a channel's domain events, each event once."""

from __future__ import annotations

import json
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any

from realtime.broadcast import Broadcast

log = logging.getLogger(__name__)

SEEN_IDS_KEPT = 10_000


def channel_name(topic: str, tenant_id: uuid.UUID | None) -> str:
    """The broadcast channel of one topic in one tenant (``platform`` for tenant-less events)."""
    return f"{topic}:{tenant_id or 'platform'}"


def _nothing() -> None:
    return None


async def domain_events(
    broadcast: Broadcast, channel: str, on_subscribed: Callable[[], None] = _nothing
) -> AsyncIterator[dict[str, Any]]:
    """Yields each event of ``channel`` (the dispatcher's JSON message) once: delivery is at least
    once, so events are de-duplicated by id; a malformed message is logged and dropped.
    ``on_subscribed`` is called once the subscription is registered."""
    seen: OrderedDict[str, None] = OrderedDict()
    async with broadcast.subscribe(channel) as subscriber:
        on_subscribed()
        async for event in subscriber:
            try:
                message = json.loads(event.message)
                event_id = str(message["id"])
            except (ValueError, TypeError, KeyError):
                log.warning("dropped a malformed message on %s: %.200r", channel, event.message)
                continue
            if event_id in seen or not isinstance(message, dict):
                continue
            seen[event_id] = None
            if len(seen) > SEEN_IDS_KEPT:
                seen.popitem(last=False)
            yield message
