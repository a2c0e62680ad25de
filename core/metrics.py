"""The Prometheus metrics of a server process, defined once here so that every layer may count
(server/metrics.py serves them at /metrics). With PROMETHEUS_MULTIPROC_DIR set before this module
is imported, values live in files shared by the worker processes (`serve --workers N`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

K = TypeVar("K")
V = TypeVar("V")
M = TypeVar("M", Counter, Histogram)

# No `_created` series beside each counter and histogram: twice the series, seldom read.
disable_created_metrics()

OPERATIONS = Counter(
    "tenantgraph_graphql_operations",
    "GraphQL operations run, by operation name, type and outcome (ok, or the extensions.code of "
    "the first error).",
    ["operation", "type", "outcome"],
)
OPERATION_SECONDS = Histogram(
    "tenantgraph_graphql_operation_duration_seconds",
    "Time to parse, validate and execute a query or mutation, by operation name and type.",
    ["operation", "type"],
)
ERRORS = Counter(
    "tenantgraph_graphql_errors",
    "GraphQL errors sent to clients, by extensions.code (refusals before any operation ran too).",
    ["code"],
)
LOADER_BATCH_SIZE = Histogram(
    "tenantgraph_dataloader_batch_size",
    "Keys per dataloader batch (one SQL statement each), by loader.",
    ["loader"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
# Gauges are summed over the live worker processes in multiprocess mode.
DB_POOL_CHECKED_OUT = Gauge(
    "tenantgraph_db_pool_checked_out",
    "Database connections checked out of the pool now.",
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(
    "tenantgraph_db_pool_size",
    "Connections the pool keeps open (it may open max_overflow more under load).",
    multiprocess_mode="livesum",
)
WEBSOCKETS = Gauge(
    "tenantgraph_websocket_connections",
    "Open websocket connections (both protocols).",
    multiprocess_mode="livesum",
)
SUBSCRIPTIONS = Gauge(
    "tenantgraph_active_subscriptions",
    "GraphQL subscriptions running now (a query or mutation sent over a websocket counts while it runs).",
    multiprocess_mode="livesum",
)
SUBSCRIPTION_DELIVERIES = Counter(
    "tenantgraph_subscription_deliveries",
    "Subscription events handed to this process's subscribers, by way: plain (the subscription "
    "executes the event itself) or express (it is sent what a subscriber of the same document, "
    "variables and kind of viewer made of it).",
    ["way"],
)

# Operation names are chosen by clients: only GraphQL names up to this long are labels, and only
# the first this many distinct ones per process; the rest count as OTHER.
MAX_LABEL_CHARS = 64
MAX_OPERATION_NAMES = 200
MAX_ERROR_CODES = 50
ANONYMOUS = "(anonymous)"
OTHER = "(other)"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_name(value: str) -> bool:
    """A GraphQL name of at most MAX_LABEL_CHARS characters."""
    return len(value) <= MAX_LABEL_CHARS and _NAME.fullmatch(value) is not None


class BoundedLabels:
    """Label values from clients: a name is admitted while fewer than ``limit`` are known (checked
    once per distinct name); anything else is OTHER."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._known: set[str] = set()

    def __call__(self, value: str | None) -> str:
        if value is None:
            return ANONYMOUS
        if value in self._known:
            return value
        if len(self._known) >= self.limit or not is_name(value):
            return OTHER
        self._known.add(value)
        return value


operation_label = BoundedLabels(MAX_OPERATION_NAMES)
error_code_label = BoundedLabels(MAX_ERROR_CODES)


class StatementCount:
    """SQL statements sent for one operation (server/metrics.py counts them on the engine)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


# Set when an operation starts; loader batches and tasks it starts inherit it.
statement_count: ContextVar[StatementCount | None] = ContextVar("statement_count", default=None)


def count_statement(*_: object) -> None:
    """A before_cursor_execute listener: one more statement for the running operation."""
    counter = statement_count.get()
    if counter is not None:
        counter.count += 1


class Labelled(Generic[M]):
    """A metric's child for some label values, looked up once per distinct values (``labels``
    takes a lock and checks every value each time; a request should not pay that)."""

    def __init__(self, metric: M) -> None:
        self.metric: M = metric
        self._children: dict[tuple[str, ...], M] = {}

    def __call__(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self.metric.labels(*values)
        return child


operations = Labelled(OPERATIONS)
operation_seconds = Labelled(OPERATION_SECONDS)
errors = Labelled(ERRORS)
loader_batch_size = Labelled(LOADER_BATCH_SIZE)

Batch = Callable[[list[K]], Coroutine[Any, Any, list[V]]]


def measured_batch(batch: Batch[K, V]) -> Batch[K, V]:
    """``batch``, observing how many keys each call gets (labelled by its qualified name)."""
    sizes = loader_batch_size(batch.__qualname__)

    async def run(keys: list[K]) -> list[V]:
        sizes.observe(len(keys))
        return await batch(keys)

    return run
