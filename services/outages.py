"""Which failures are outages — PostgreSQL or Redis out of reach — rather than bugs: the client is
told SERVICE_UNAVAILABLE and to try again, and the log gets one line, not a traceback."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from core.errors import ServiceUnavailable
from realtime.redis_backend import BroadcastUnavailable

log = logging.getLogger("tenantgraph.outages")

DATABASE_UNAVAILABLE = "The database is unavailable; try again."
REDIS_UNAVAILABLE = "The event and rate-limit store is unavailable; try again."

# SQLSTATEs of an unreachable server: class 08 (connection exceptions), class 53 (insufficient
# resources: too many connections, out of memory or disk), shutting down or starting up (57P0x).
_OUTAGE_SQLSTATES = ("08", "53", "57P01", "57P02", "57P03")
_MAX_CAUSES = 16


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, what caused it and what it wraps (a driver's exception inside SQLAlchemy's)."""
    seen: set[int] = set()
    pending = [error]
    while pending and len(seen) < _MAX_CAUSES:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = (current.__cause__, current.__context__, getattr(current, "orig", None))
        pending.extend(e for e in linked if isinstance(e, BaseException))


def _database_down(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, OperationalError | PoolTimeoutError):
        return True
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(_OUTAGE_SQLSTATES):
        return True
    # The pool connecting afresh gets the socket's own error, unwrapped.
    return isinstance(error, ConnectionError | TimeoutError | socket.gaierror)


def outage(error: BaseException) -> ServiceUnavailable | None:
    """SERVICE_UNAVAILABLE when ``error`` comes from PostgreSQL or Redis being out of reach."""
    for cause in _causes(error):
        if isinstance(cause, RedisConnectionError | RedisTimeoutError | BroadcastUnavailable):
            return ServiceUnavailable(REDIS_UNAVAILABLE)
        if _database_down(cause):
            return ServiceUnavailable(DATABASE_UNAVAILABLE)
    return None


def log_outage(error: BaseException, where: object) -> None:
    """One line for an outage (its cause is outside this process: a traceback would say nothing)."""
    first_line = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    log.warning("service unavailable in %s: %s: %s", where, type(error).__name__, first_line)
