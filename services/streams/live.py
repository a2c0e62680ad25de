"""``streamStatusChanged``: a stream went LIVE or ENDED, or its viewer count changed. Each event's
stream is read once per process (as it is now), however many subscribers it reaches; each
subscriber gets the streams it may read (one, or every stream of its tenant)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from core.principal import Principal
from core.scope import TenantScope
from loaders import Loaders
from models.db import Database
from models.streams import Stream, StreamStatus
from realtime.fanout import Fanout
from services.context import ServiceContext
from services.identity.access import AccessStore
from services.identity.live import Messenger, live_events, only_id
from services.streams.streams import STREAM_CHANGED, can_read_stream


@dataclass(frozen=True, slots=True)
class StreamChange:
    stream: Stream
    from_status: StreamStatus | None
    loaders: Loaders
    memo: dict[str, Any] = field(default_factory=dict, compare=False)


async def load_change(db: Database, message: dict[str, Any]) -> StreamChange | None:
    payload = message["payload"]
    loaders = Loaders(db, TenantScope.of(uuid.UUID(message["tenantId"])))
    stream = await loaders.streams.stream.load(uuid.UUID(payload["streamId"]))
    if stream is None:
        return None
    previous = payload.get("from")
    return StreamChange(stream, StreamStatus(previous) if previous else None, loaders)


def _visible(only: uuid.UUID | None, principal: Principal, change: StreamChange) -> bool:
    return only_id(only, change.stream.id) and can_read_stream(principal, change.stream)


def stream_changes(
    services: ServiceContext,
    fanout: Fanout,
    access: AccessStore,
    stream_id: uuid.UUID | None,
    messenger: Messenger[StreamChange] | None = None,
) -> AsyncIterator[StreamChange]:
    """Changes of one stream, or of every stream of the caller's tenant it may read."""
    prepare = partial(load_change, services.db)
    visible = partial(_visible, stream_id)
    return live_events(services, fanout, access, STREAM_CHANGED, prepare, visible, messenger)
