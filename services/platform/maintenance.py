"""Maintenance mode: a platform admin switches it on (with a message) or off; while it is on,
every GraphQL operation of anyone but a platform admin is refused with SERVICE_UNAVAILABLE
(subgraph/maintenance.py) and the REST shims answer 503 (server/maintenance.py); the probes stay.

Each process keeps the state in memory (``MaintenanceGate``): no statement per request. A switch
records a ``maintenance.changed`` event in its transaction; the process that made it forgets its
state right after commit, every other process when the event arrives (a listener on the
broadcast, as access changes travel), and when the link to the other processes comes back. A
short TTL (maintenance_cache_seconds) bounds what a lost event could cost: a state older than it
is still the answer while a task of its own (outside any request's context) reads it again, so
no request waits for, or is charged with, that read."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from core.errors import Forbidden, invalid
from core.scope import TenantScope
from models.base import utcnow
from models.db import Database
from models.platform import MaintenanceState
from realtime.broadcast import Broadcast
from realtime.stream import channel_name
from services.context import ServiceContext
from services.events import record_event
from services.platform.errors import PlatformErrorCode

log = logging.getLogger(__name__)
MAINTENANCE_CHANGED = "maintenance.changed"
STATE_ID = 1
MAX_MESSAGE = 500
DEFAULT_MESSAGE = "The service is down for maintenance; please try again later."


@dataclass(frozen=True, slots=True)
class MaintenanceStatus:
    enabled: bool
    message: str


OFF = MaintenanceStatus(False, "")


async def read_status(db: Database) -> MaintenanceStatus:
    async with db.session(TenantScope.all_tenants()) as session:
        row = await session.get(MaintenanceState, STATE_ID)
    return MaintenanceStatus(row.enabled, row.message) if row is not None else OFF


class MaintenanceGate:
    """This process's view of maintenance mode (see the module's docstring)."""

    def __init__(self, db: Database, broadcast: Broadcast | None, ttl_seconds: float) -> None:
        self._db = db
        self._broadcast = broadcast
        self.ttl_seconds = ttl_seconds
        self._status: MaintenanceStatus | None = None
        self._read_at = 0.0
        # Bumped by every forget: a read that started before it must not keep what it read.
        self._generation = 0
        self._refresh: asyncio.Task[MaintenanceStatus] | None = None
        self._lock = asyncio.Lock()
        self._exit = AsyncExitStack()
        # Statements run (cache misses), for the tests.
        self.reads = 0

    async def start(self) -> None:
        # Read once now, so that no request pays the first read.
        try:
            await self._read()
        except Exception as error:  # not reachable or not migrated yet (said elsewhere): a request reads
            log.debug("maintenance state not read at start: %s", error)
        if self._broadcast is None:
            return
        self._broadcast.on_link_restored(self.forget)
        await self._exit.enter_async_context(
            self._broadcast.listen(channel_name(MAINTENANCE_CHANGED, None), self._on_message)
        )

    async def stop(self) -> None:
        if self._refresh is not None:
            self._refresh.cancel()
        await self._exit.aclose()
        self.forget()

    def _on_message(self, _message: Any) -> None:
        self.forget()

    def forget(self) -> None:
        self._status = None
        self._generation += 1

    async def current(self) -> MaintenanceStatus:
        status = self._status
        if status is None:
            return await self._read()
        if time.monotonic() - self._read_at >= self.ttl_seconds and self._refresh is None:
            self._refresh = asyncio.create_task(self._read(), context=contextvars.Context())
            self._refresh.add_done_callback(self._refreshed)
        return status

    def _refreshed(self, task: asyncio.Task[MaintenanceStatus]) -> None:
        self._refresh = None
        if not task.cancelled() and task.exception() is not None:
            log.warning("maintenance state not read again: %s", task.exception())

    async def _read(self) -> MaintenanceStatus:
        async with self._lock:
            status = self._status
            if status is not None and time.monotonic() - self._read_at < self.ttl_seconds:
                return status
            generation, read_at = self._generation, time.monotonic()
            self.reads += 1
            status = await read_status(self._db)
            if generation == self._generation:  # no change announced while reading
                self._status, self._read_at = status, read_at
            return status


async def set_maintenance(ctx: ServiceContext, enabled: bool, message: str | None) -> MaintenanceStatus:
    """Platform admins: switch maintenance mode on (``message`` shown to everyone refused) or off."""
    principal = ctx.require_principal()
    if not principal.is_platform_admin:
        raise Forbidden("Only platform administrators switch maintenance mode.")
    text = (message or "").strip()
    if len(text) > MAX_MESSAGE:
        raise invalid(
            "message", PlatformErrorCode.TOO_LONG, f"A message has at most {MAX_MESSAGE} characters."
        )
    if enabled and not text:
        text = DEFAULT_MESSAGE
    async with ctx.transaction(TenantScope.all_tenants()) as session:
        row = await session.get(MaintenanceState, STATE_ID, with_for_update=True)
        if row is None:
            row = MaintenanceState(id=STATE_ID)
            session.add(row)
        row.enabled = enabled
        row.message = text
        row.updated_at = utcnow()
        row.updated_by_id = principal.person_id
        record_event(session, topic=MAINTENANCE_CHANGED, tenant_id=None, payload={"enabled": enabled})
    return MaintenanceStatus(enabled, text)
