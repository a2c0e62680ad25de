"""The live access state of sign-in sessions, held in memory by each process.

Checking a bearer against its session, user and tenant on every request (and every subscription
event) used to be one four-table join each time. The store keeps, per session id, what that join
says — the user, their roles, whether the session was ended, whether user and tenant may sign
in and whether the user must change their password — and answers from memory; the join runs only
on a miss.

It stays exact because every change that affects it records an ACCESS_CHANGED event in its own
transaction (services/events.py:record_access_change): the process that made the change drops the
entries at once after commit (ServiceContext.on_access_changed), every other process when the
event arrives (a listener on the broadcast, applied before any later event is delivered). And it
is only trusted while it can hear those events:

- while the broadcast link is down (Redis reconnecting), nothing is served from memory: every
  check queries, and nothing is stored;
- when the link comes back, everything is dropped (events may have been missed) and watchers
  (live subscriptions) re-check;
- every entry expires after ``ttl_seconds`` (TENANTGRAPH_ACCESS_CACHE_SECONDS; 0 turns the cache
  off), which bounds a change made behind the API's back (SQL by hand) or a lost event;
- a query that overlapped a drop does not store its (possibly older) answer.

Subscriptions ``watch`` their session: a change of it, its user or its tenant (or a reconnect)
calls them back, so that a revoked session or a suspended user ends its subscriptions by event,
not by a query per event."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import bindparam, select

from core.errors import Forbidden, Unauthenticated
from core.permissions import Role, held_permissions
from core.principal import Principal
from core.scope import TenantScope
from models.base import utcnow
from models.db import Reads
from models.identity.accounts import AuthSession, Tenant, TenantStatus, User, UserRole, UserStatus
from models.identity.roles import CustomRole, UserCustomRole
from realtime.broadcast import Broadcast
from realtime.stream import channel_name
from services.events import ACCESS_CHANGED, AccessChange
from services.identity.bans import banned_at

log = logging.getLogger(__name__)

ALL_TENANTS = TenantScope.all_tenants()
MAX_ENTRIES = 200_000
# Subscriptions re-checking at the same moment (after a reconnect) share one query per this many.
BATCH_SIZE = 500
# A subscription that cannot re-check (the database away) tries again after these waits, then
# every last one, until it can: it never ends for that reason.
RETRY_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)

# Built once: every miss runs it. Sessions with their user, tenant and roles, across tenants (the
# caller compares each session's user and tenant with what its token claims).
_SESSIONS_ACCESS = (
    select(
        AuthSession.id,
        AuthSession.user_id,
        AuthSession.tenant_id,
        AuthSession.revoked_at,
        User.status,
        Tenant.status,
        UserRole.role,
        User.must_change_password,
        CustomRole.permissions,
        User.banned_at,
        User.banned_until,
        Tenant.deleted_at,
        Tenant.trial_ends_at,
    )
    .join(User, (User.id == AuthSession.user_id) & (User.tenant_id == AuthSession.tenant_id))
    .join(Tenant, Tenant.id == User.tenant_id)
    .outerjoin(UserRole, (UserRole.user_id == User.id) & (UserRole.tenant_id == User.tenant_id))
    # One row per system role and custom role: a user holds a few of each.
    .outerjoin(
        UserCustomRole, (UserCustomRole.user_id == User.id) & (UserCustomRole.tenant_id == User.tenant_id)
    )
    .outerjoin(CustomRole, CustomRole.id == UserCustomRole.role_id)
    .where(AuthSession.id.in_(bindparam("ids", expanding=True)))
)

Watcher = Callable[[], None]


@dataclass(frozen=True, slots=True)
class SessionAccess:
    """What one session may do now."""

    user_id: uuid.UUID
    tenant_id: uuid.UUID
    roles: frozenset[Role]
    revoked: bool
    # The user is active and not banned, and their tenant may sign in (not deleted, trial not over).
    active: bool
    expires_at: float = 0.0
    # When ``active`` turns by the clock alone (a trial's end, a ban's unblock date), on the
    # monotonic clock: a stored entry expires then, so that it is read again.
    turns_at: float = math.inf
    # users.must_change_password: the session may only change the password (and sign out).
    password_change_required: bool = False
    # The roles' default permissions and the custom roles' grants (core/permissions.py).
    permissions: frozenset[str] = frozenset()

    def principal_for(self, claimed: Principal) -> Principal:
        """``claimed`` (a token's principal) as it stands now; Unauthenticated when the session
        ended or its user or tenant is suspended, Forbidden when it acts in another tenant
        (X-Tenant-Id) without being a platform administrator any more."""
        if self.revoked or self.user_id != claimed.user_id or self.tenant_id != claimed.home_tenant_id:
            raise Unauthenticated("This session has ended; sign in again.")
        if not self.active:
            raise Unauthenticated("This account or tenant is suspended.")
        if claimed.acting_tenant_id is not None and Role.PLATFORM_ADMIN not in self.roles:
            raise Forbidden("Only platform administrators may act in another tenant (X-Tenant-Id).")
        if (
            claimed.roles == self.roles
            and claimed.password_change_required == self.password_change_required
            and claimed.permissions == self.permissions
        ):
            return claimed
        return replace(
            claimed,
            roles=self.roles,
            password_change_required=self.password_change_required,
            permissions=self.permissions,
        )


# session id, user id, tenant id, revoked at, user status, tenant status, a role (or None),
# must change password, a custom role's permissions (or None), banned at, banned until, tenant
# deleted at, trial ends at
AccessRow = tuple[
    uuid.UUID,
    uuid.UUID,
    uuid.UUID,
    datetime | None,
    UserStatus,
    TenantStatus,
    Role | None,
    bool,
    list[str] | None,
    datetime | None,
    datetime | None,
    datetime | None,
    datetime | None,
]


def _active(row: AccessRow, now: datetime) -> tuple[bool, float]:
    """Whether the row's user and tenant may act at ``now``, and when that turns by the clock
    (monotonic; inf: not by the clock)."""
    user_status, tenant_status = row[4], row[5]
    banned_since, banned_until, deleted_at, trial_ends_at = row[9:13]
    active = (
        user_status == UserStatus.ACTIVE
        and Tenant.signs_in(tenant_status, deleted_at, trial_ends_at, now)
        and not banned_at(banned_since, banned_until, now)
    )
    turns = [
        moment
        for moment in (
            trial_ends_at if tenant_status == TenantStatus.TRIAL else None,
            banned_until if banned_since is not None else None,
        )
        if moment is not None and moment > now
    ]
    if not turns:
        return active, math.inf
    return active, time.monotonic() + (min(turns) - now).total_seconds()


def _accesses(rows: Iterable[AccessRow]) -> dict[uuid.UUID, SessionAccess]:
    grouped: dict[uuid.UUID, list[AccessRow]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    found, now = {}, utcnow()
    for session_id, session_rows in grouped.items():
        first = session_rows[0]
        _, user_id, tenant_id, revoked_at, _, _, _, must_change = first[:8]
        roles = frozenset(row[6] for row in session_rows if row[6] is not None)
        active, turns_at = _active(first, now)
        found[session_id] = SessionAccess(
            user_id=user_id,
            tenant_id=tenant_id,
            roles=roles,
            permissions=held_permissions(roles, (row[8] for row in session_rows)),
            revoked=revoked_at is not None,
            active=active,
            turns_at=turns_at,
            password_change_required=must_change,
        )
    return found


class AccessStore:
    """The access state of sessions, per process. ``reads`` is where misses of subscriptions and
    other callers without a request of their own are read (the process's database)."""

    def __init__(self, reads: Reads, broadcast: Broadcast | None, ttl_seconds: float) -> None:
        self.reads = reads
        self._broadcast = broadcast
        self.ttl_seconds = ttl_seconds
        self._entries: OrderedDict[uuid.UUID, SessionAccess] = OrderedDict()
        self._by_user: dict[uuid.UUID, set[uuid.UUID]] = {}
        self._by_tenant: dict[uuid.UUID, set[uuid.UUID]] = {}
        # Bumped by every drop: an answer read across one is not stored.
        self._generation = 0
        # Live subscriptions by session; their sessions by user and by tenant.
        self._watchers: dict[uuid.UUID, dict[Watcher, None]] = {}
        self._watched_users: dict[uuid.UUID, set[uuid.UUID]] = {}
        self._watched_tenants: dict[uuid.UUID, set[uuid.UUID]] = {}
        self._pending: dict[uuid.UUID, asyncio.Future[SessionAccess | None]] = {}
        self._batch_scheduled = False
        self._listening = False
        self._exit = AsyncExitStack()
        # Queries run, for tests and the bench (misses of the cache).
        self.queries = 0

    # -- lifecycle --------------------------------------------------------

    async def start(self) -> None:
        """Listen for ACCESS_CHANGED events of every process; until then nothing is trusted."""
        if self._broadcast is None or self._listening:
            return
        self._broadcast.on_link_restored(self.flush)
        await self._exit.enter_async_context(
            self._broadcast.listen(channel_name(ACCESS_CHANGED, None), self._on_message)
        )
        self._listening = True

    async def stop(self) -> None:
        self._listening = False
        await self._exit.aclose()
        self.flush()

    @property
    def trusted(self) -> bool:
        """Whether what is in memory may be served: the cache is on, the store hears every
        process's events and the broadcast link is up."""
        return (
            self.ttl_seconds > 0
            and self._listening
            and self._broadcast is not None
            and self._broadcast.link_connected
        )

    # -- answers ----------------------------------------------------------

    def cached(self, session_id: uuid.UUID) -> SessionAccess | None:
        """The session's access from memory, when it may be trusted and has not expired."""
        if not self.trusted:
            return None
        entry = self._entries.get(session_id)
        if entry is None:
            return None
        if entry.expires_at <= time.monotonic():
            self._drop(session_id)
            return None
        return entry

    async def principal(self, claimed: Principal, reads: Reads | None = None) -> Principal:
        """``claimed`` as it stands now: from memory, else one statement on ``reads`` (an HTTP
        request's own connection) or the store's database."""
        entry = self.cached(claimed.session_id)
        if entry is None:
            entry = (await self._query([claimed.session_id], reads or self.reads)).get(claimed.session_id)
        if entry is None:
            raise Unauthenticated("This session has ended; sign in again.")
        return entry.principal_for(claimed)

    async def current(self, claimed: Principal) -> Principal:
        """Like ``principal`` for a live subscription: misses of many subscriptions at once share
        one query, and while the database cannot answer it retries (logging) instead of failing.
        Raises only when access is gone."""
        entry = self.cached(claimed.session_id)
        failures = 0
        while entry is None:
            try:
                entry = await self._batched(claimed.session_id)
                if entry is None:
                    raise Unauthenticated("This session has ended; sign in again.")
            except asyncio.CancelledError:
                raise
            except (Unauthenticated, Forbidden):
                raise
            except Exception as exc:  # the database or the pool away: try again, keep the subscription
                delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
                failures += 1
                log.warning(
                    "checking session %s failed (%s: %s); retrying in %.1fs",
                    claimed.session_id,
                    type(exc).__name__,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
        return entry.principal_for(claimed)

    @contextmanager
    def watching(self, claimed: Principal, watcher: Watcher) -> Iterator[None]:
        """``watcher()`` is called whenever the access of ``claimed``'s session, user or tenant
        may have changed (and after a reconnect), until the block ends."""
        session_id = claimed.session_id
        keys = ((self._watched_users, claimed.user_id), (self._watched_tenants, claimed.home_tenant_id))
        self._watchers.setdefault(session_id, {})[watcher] = None
        for index, key in keys:
            index.setdefault(key, set()).add(session_id)
        try:
            yield
        finally:
            watchers = self._watchers.get(session_id)
            if watchers is not None:
                watchers.pop(watcher, None)
                if not watchers:
                    del self._watchers[session_id]
                    for index, key in keys:
                        _discard(index, key, session_id)

    # -- invalidation -----------------------------------------------------

    def forget(self, change: AccessChange) -> None:
        """Drops what is held about the change's sessions, users and tenants, and tells their
        watchers."""
        self._generation += 1
        for session_id in _sessions_of(change, self._by_user, self._by_tenant):
            self._drop(session_id)
        for session_id in _sessions_of(change, self._watched_users, self._watched_tenants):
            for watcher in list(self._watchers.get(session_id, ())):
                self._notify(watcher)

    def flush(self) -> None:
        """Drops everything and tells every watcher (the link came back: events may be lost)."""
        self._generation += 1
        self._entries.clear()
        self._by_user.clear()
        self._by_tenant.clear()
        for watchers in list(self._watchers.values()):
            for watcher in list(watchers):
                self._notify(watcher)

    def _on_message(self, raw: str) -> None:
        try:
            change = AccessChange.from_payload(json.loads(raw)["payload"])
        except (ValueError, TypeError, KeyError):
            # Cannot tell whom it concerns: drop everything rather than keep something stale.
            log.warning("malformed %s message, flushing the access cache: %.200r", ACCESS_CHANGED, raw)
            self.flush()
            return
        self.forget(change)

    @staticmethod
    def _notify(watcher: Watcher) -> None:
        try:
            watcher()
        except Exception:
            log.exception("access watcher failed")

    # -- storage ----------------------------------------------------------

    def _drop(self, session_id: uuid.UUID) -> None:
        entry = self._entries.pop(session_id, None)
        if entry is None:
            return
        _discard(self._by_user, entry.user_id, session_id)
        _discard(self._by_tenant, entry.tenant_id, session_id)

    def _store(self, session_id: uuid.UUID, entry: SessionAccess) -> None:
        self._drop(session_id)
        now = time.monotonic()
        self._entries[session_id] = replace(entry, expires_at=min(now + self.ttl_seconds, entry.turns_at))
        self._by_user.setdefault(entry.user_id, set()).add(session_id)
        self._by_tenant.setdefault(entry.tenant_id, set()).add(session_id)
        # Entries are in the order they were stored, so expired ones are at the front (one that
        # turns by the clock may expire earlier: ``cached`` checks each it answers).
        while self._entries:
            oldest_id, oldest = next(iter(self._entries.items()))
            if oldest.expires_at > now and len(self._entries) <= MAX_ENTRIES:
                break
            self._drop(oldest_id)

    async def _query(self, session_ids: Sequence[uuid.UUID], reads: Reads) -> dict[uuid.UUID, SessionAccess]:
        generation, trusted = self._generation, self.trusted
        self.queries += 1
        async with reads.session(ALL_TENANTS) as session:
            rows = (await session.execute(_SESSIONS_ACCESS, {"ids": list(session_ids)})).all()
        found = _accesses(rows)
        if trusted and self.trusted and generation == self._generation:
            for session_id, entry in found.items():
                self._store(session_id, entry)
        return found

    async def _batched(self, session_id: uuid.UUID) -> SessionAccess | None:
        """The session's access, read together with the other sessions asked for meanwhile."""
        future = self._pending.get(session_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            # Its error is retrieved even when every caller was cancelled meanwhile.
            future.add_done_callback(lambda done: done.cancelled() or done.exception())
            self._pending[session_id] = future
            if not self._batch_scheduled:
                self._batch_scheduled = True
                asyncio.get_running_loop().call_soon(self._start_batches)
        return await asyncio.shield(future)

    def _start_batches(self) -> None:
        self._batch_scheduled = False
        pending, self._pending = self._pending, {}
        ids = list(pending)
        for start in range(0, len(ids), BATCH_SIZE):
            batch = {session_id: pending[session_id] for session_id in ids[start : start + BATCH_SIZE]}
            task = asyncio.get_running_loop().create_task(self._run_batch(batch))
            task.add_done_callback(_consumed)

    async def _run_batch(self, batch: dict[uuid.UUID, asyncio.Future[SessionAccess | None]]) -> None:
        try:
            found = await self._query(list(batch), self.reads)
        except Exception as exc:
            for future in batch.values():
                if not future.done():
                    future.set_exception(exc)
            return
        for session_id, future in batch.items():
            if not future.done():
                future.set_result(found.get(session_id))


def _discard(index: dict[uuid.UUID, set[uuid.UUID]], key: uuid.UUID, session_id: uuid.UUID) -> None:
    sessions = index.get(key)
    if sessions is not None:
        sessions.discard(session_id)
        if not sessions:
            del index[key]


def _consumed(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()


def _sessions_of(
    change: AccessChange,
    by_user: dict[uuid.UUID, set[uuid.UUID]],
    by_tenant: dict[uuid.UUID, set[uuid.UUID]],
) -> set[uuid.UUID]:
    """The change's sessions, and those the indexes list under its users and tenants."""
    sessions = set(change.sessions)
    for user_id in change.users:
        sessions |= by_user.get(user_id, set())
    for tenant_id in change.tenants:
        sessions |= by_tenant.get(tenant_id, set())
    return sessions
