"""Subscribing to domain events of one topic and tenant, each event once."""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from realtime.broadcast import Broadcast

SEEN_IDS_KEPT = 10_000


def channel_name(topic: str, tenant_id: uuid.UUID | None) -> str:
    """The broadcast channel of one topic in one tenant (``platform`` for tenant-less events)."""
    return f"{topic}:{tenant_id or 'platform'}"


async def domain_events(
    broadcast: Broadcast, topic: str, tenant_id: uuid.UUID | None
) -> AsyncIterator[dict[str, Any]]:
    """Yields each event (as the dispatcher's JSON message) once: delivery is at least once, so
    events are de-duplicated by id."""
    seen: OrderedDict[str, None] = OrderedDict()
    async with broadcast.subscribe(channel_name(topic, tenant_id)) as subscriber:
        async for event in subscriber:
            message = json.loads(event.message)
            if message["id"] in seen:
                continue
            seen[message["id"]] = None
            if len(seen) > SEEN_IDS_KEPT:
                seen.popitem(last=False)
            yield message
