"""/metrics in Prometheus's text format: the metrics of core/metrics.py, and the outbox backlog
read from the database at each scrape.

With several worker processes (`serve --workers N`), each writes its values to files in
PROMETHEUS_MULTIPROC_DIR and any worker's /metrics answers the sum over all of them.

Protection: with TENANTGRAPH_METRICS_TOKEN set, /metrics answers only `Authorization: Bearer
<token>` (Prometheus's `authorization` scrape setting); without one it is open in development and
not served in production (traffic, operation names and error rates are not for everyone)."""

from __future__ import annotations

import hmac
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import event
from sqlalchemy.pool import QueuePool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from core.metrics import DB_POOL_CHECKED_OUT, DB_POOL_SIZE, count_statement
from core.scope import TenantScope
from models.db import Database
from server.runtime import Runtime
from services.backlogs import Backlog, outbox_backlog
from services.outages import log_outage, outage

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def instrument_database(db: Database) -> None:
    """Counts the SQL statements of each operation and the connections checked out of the pool."""
    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count_statement)
    event.listen(engine.pool, "checkout", _checked_out)
    event.listen(engine.pool, "checkin", _checked_in)
    if isinstance(engine.pool, QueuePool):
        DB_POOL_SIZE.set(engine.pool.size())


def _checked_out(*_: Any) -> None:
    DB_POOL_CHECKED_OUT.inc()


def _checked_in(*_: Any) -> None:
    DB_POOL_CHECKED_OUT.dec()


class _Outbox:
    """The outbox backlog of one scrape, as two gauges."""

    def __init__(self, backlog: Backlog) -> None:
        self.backlog = backlog

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "tenantgraph_outbox_backlog",
            "Outbox events recorded and not yet published (counted up to 10000).",
            value=self.backlog.count,
        )
        yield GaugeMetricFamily(
            "tenantgraph_outbox_lag_seconds",
            "Age of the oldest outbox event not yet published (0 when none waits).",
            value=self.backlog.oldest_age_seconds,
        )


def _authorized(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


async def metrics(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    token = runtime.settings.metrics_token
    if token and not _authorized(request, token):
        raise HTTPException(
            401, "/metrics needs Authorization: Bearer <metrics token>.", {"WWW-Authenticate": "Bearer"}
        )
    if not token and runtime.settings.production:
        raise HTTPException(404)
    body = generate_latest(_registry())
    try:
        async with runtime.db.session(TenantScope.all_tenants()) as session:
            backlog = await outbox_backlog(session)
    except Exception as error:
        # The database away: every other metric still answers (they matter most now).
        if outage(error) is None:
            raise
        log_outage(error, "/metrics")
    else:
        outbox = CollectorRegistry()
        outbox.register(_Outbox(backlog))
        body += generate_latest(outbox)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _registry() -> CollectorRegistry:
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def process_stopped() -> None:
    """A worker process ends: its gauges leave the sum (its counters stay counted)."""
    if os.environ.get(MULTIPROCESS_DIR):
        multiprocess.mark_process_dead(os.getpid())


@contextmanager
def shared_between_workers() -> Iterator[None]:
    """For the block (worker processes started in it): metrics shared through files in
    PROMETHEUS_MULTIPROC_DIR, a fresh temporary directory unless one is given (whose files of an
    earlier run are deleted: they would count again)."""
    given = os.environ.get(MULTIPROCESS_DIR)
    directory = Path(given) if given else Path(tempfile.mkdtemp(prefix="tenantgraph-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_DIR] = str(directory)
    try:
        yield
    finally:
        if not given:
            del os.environ[MULTIPROCESS_DIR]
            shutil.rmtree(directory, ignore_errors=True)
