"""Prometheus /metrics (core/metrics.py, server/metrics.py, server/observe.py): operations by name
and outcome, latency, errors by code, loader batch sizes, the pool, the outbox backlog, its
protection, the slow-operation log; websockets, subscriptions and multiprocess sums against a real
`serve --workers 2`."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from core.metrics import ANONYMOUS, OTHER, BoundedLabels
from core.permissions import Role
from core.scope import TenantScope
from core.settings import Settings
from models.base import utcnow
from models.events import OutboxEvent
from server.metrics import MULTIPROCESS_DIR, shared_between_workers
from server.runtime import Runtime
from tests.conftest import PRODUCTION_SETTINGS, TEST_SIGNING_KEY, own_app
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import Identity
from tests.support.live_server import LiveServer, TransportWsClient, server_env

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
OPERATIONS = "tenantgraph_graphql_operations_total"
ERRORS = "tenantgraph_graphql_errors_total"


def parse(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(http: httpx.AsyncClient, **headers: str) -> Samples:
    response = await http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version="), response.headers
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str) -> float:
    return sum(v for (sample, _), v in samples.items() if sample == name)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_an_operation_counts_once_by_name_type_and_outcome(
    http: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    before = await scrape(http)
    gql_result = await gql("query Ping { __typename }")
    assert gql_result.data == {"__typename": "Query"}
    after = await scrape(http)
    assert grew(before, after, OPERATIONS, operation="Ping", type="query", outcome="ok") == 1
    assert total(after, OPERATIONS) - total(before, OPERATIONS) == 1
    seconds = "tenantgraph_graphql_operation_duration_seconds"
    assert grew(before, after, f"{seconds}_count", operation="Ping", type="query") == 1
    assert 0 < grew(before, after, f"{seconds}_sum", operation="Ping", type="query") < 5
    assert grew(before, after, f"{seconds}_bucket", operation="Ping", type="query", le="+Inf") == 1


async def test_errors_count_by_code_and_the_outcome_is_the_first(
    http: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    before = await scrape(http)
    anonymous_me = await gql("query Me { me { email } }")
    invalid = await gql("query Broken { noSuchField }")
    after = await scrape(http)
    assert anonymous_me.error_codes == ["UNAUTHENTICATED"], anonymous_me.body
    assert invalid.error_codes == ["BAD_USER_INPUT"], invalid.body
    assert grew(before, after, OPERATIONS, operation="Me", type="query", outcome="UNAUTHENTICATED") == 1
    assert grew(before, after, OPERATIONS, operation="Broken", type="query", outcome="BAD_USER_INPUT") == 1
    assert grew(before, after, ERRORS, code="UNAUTHENTICATED") == 1
    assert grew(before, after, ERRORS, code="BAD_USER_INPUT") == 1


async def test_refusals_before_any_operation_count_as_errors_only(http: httpx.AsyncClient) -> None:
    before = await scrape(http)
    bad_token = await http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": "Bearer not-a-token"}
    )
    unknown_name = await http.post(
        "/graphql", json={"query": "query Ping { __typename }", "operationName": "No such-name"}
    )
    after = await scrape(http)
    assert bad_token.status_code == 401 and unknown_name.status_code == 400, (
        bad_token.text,
        unknown_name.text,
    )
    assert grew(before, after, ERRORS, code="UNAUTHENTICATED") == 1
    assert grew(before, after, ERRORS, code="BAD_REQUEST") == 1
    assert total(after, OPERATIONS) == total(before, OPERATIONS)


async def test_client_chosen_names_are_bounded(http: httpx.AsyncClient, gql: GraphQLClient) -> None:
    long_name = "L" * 65
    before = await scrape(http)
    (await gql(f"query {long_name} {{ __typename }}")).ok()
    (await gql("{ __typename }")).ok()
    after = await scrape(http)
    assert grew(before, after, OPERATIONS, operation=OTHER, type="query", outcome="ok") == 1
    assert grew(before, after, OPERATIONS, operation=ANONYMOUS, type="query", outcome="ok") == 1
    assert long_name not in str(after)


def test_at_most_the_limit_of_distinct_names_becomes_labels() -> None:
    labels = BoundedLabels(2)
    assert [labels(name) for name in ("A", "B", "C", "A", "B")] == ["A", "B", OTHER, "A", "B"]
    fresh = BoundedLabels(5)
    assert [fresh(None), fresh("bad-name"), fresh("x" * 65), fresh("x" * 64)] == [
        ANONYMOUS,
        OTHER,
        OTHER,
        "x" * 64,
    ]


async def test_loader_batch_sizes(http: httpx.AsyncClient, gql: GraphQLClient, identity: Identity) -> None:
    admin = await identity.account("acme", Role.TENANT_ADMIN)
    for _ in range(2):
        await identity.account("acme")
    before = await scrape(http)
    users = await gql("query Roles { users(first: 10) { edges { node { roles } } } }", token=admin.token)
    after = await scrape(http)
    assert len(users.ok()["users"]["edges"]) == 3
    batch = "tenantgraph_dataloader_batch_size"
    assert grew(before, after, f"{batch}_count", loader="IdentityLoaders._roles") == 1
    assert grew(before, after, f"{batch}_sum", loader="IdentityLoaders._roles") == 3
    assert grew(before, after, f"{batch}_bucket", loader="IdentityLoaders._roles", le="2.0") == 0
    assert grew(before, after, f"{batch}_bucket", loader="IdentityLoaders._roles", le="5.0") == 1


async def test_pool_connections_checked_out(http: httpx.AsyncClient, runtime: Runtime) -> None:
    # Background workers check connections out for a moment too: a few tries find a quiet one.
    differences = []
    for _ in range(10):
        idle = value(await scrape(http), "tenantgraph_db_pool_checked_out")
        async with runtime.db.engine.connect(), runtime.db.engine.connect(), runtime.db.engine.connect():
            held = await scrape(http)
        differences.append(value(held, "tenantgraph_db_pool_checked_out") - idle)
        if differences[-1] == 3:
            break
    assert differences[-1] == 3, differences
    assert value(held, "tenantgraph_db_pool_size") == 10


async def test_outbox_backlog_and_lag(http: httpx.AsyncClient, runtime: Runtime) -> None:
    quiet = await scrape(http)
    assert value(quiet, "tenantgraph_outbox_backlog") == 0
    assert value(quiet, "tenantgraph_outbox_lag_seconds") == 0
    for _attempt in range(5):
        async with runtime.db.transaction(TenantScope.all_tenants()) as session:
            event = OutboxEvent(topic="test.metrics", payload={}, created_at=utcnow() - timedelta(seconds=30))
            session.add(event)
        # Locked, the dispatcher (FOR UPDATE SKIP LOCKED) leaves it waiting while we look.
        async with runtime.db.transaction(TenantScope.all_tenants()) as session:
            locked = await session.scalar(
                select(OutboxEvent).where(OutboxEvent.id == event.id).with_for_update()
            )
            # Its poll may have published it between the two transactions: then try again.
            if locked is None or locked.published_at is not None:
                continue
            waiting = await scrape(http)
            break
    else:
        pytest.fail("the dispatcher published every event before it could be locked")
    assert value(waiting, "tenantgraph_outbox_backlog") == 1
    assert 30 <= value(waiting, "tenantgraph_outbox_lag_seconds") < 60


async def test_a_metrics_token_is_required_when_set(settings: Settings) -> None:
    async with own_app(settings.database_url, metrics_token="scrape-secret") as (_, http):
        missing = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer other"})
        samples = await scrape(http, Authorization="Bearer scrape-secret")
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["detail"] == "/metrics needs Authorization: Bearer <metrics token>."
    assert "tenantgraph_db_pool_size" in {name for name, _ in samples}


async def test_production_serves_metrics_only_with_a_token(settings: Settings) -> None:
    async with own_app(settings.database_url, **PRODUCTION_SETTINGS) as (_, http):
        refused = await http.get("/metrics")
    assert refused.status_code == 404, refused.text
    async with own_app(settings.database_url, **PRODUCTION_SETTINGS, metrics_token="scrape-secret") as (
        _,
        http,
    ):
        await scrape(http, Authorization="Bearer scrape-secret")


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def slow_log() -> Iterator[list[logging.LogRecord]]:
    handler = _Lines()
    logger = logging.getLogger("tenantgraph.slow")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


async def test_slow_operations_are_logged_with_their_sql_count(
    settings: Settings, identity: Identity
) -> None:
    account = await identity.account("acme")
    async with own_app(settings.database_url, slow_operation_ms=0.001) as (app, http):
        gql = GraphQLClient(http)
        await gql.warm(account.token)
        with slow_log() as records, count_statements(app.state.runtime.db.engine) as counter:
            (await gql("query MyEmail { me { email } }", token=account.token)).ok()
    [record] = records
    assert record.levelno == logging.WARNING
    name, kind, milliseconds, statements = record.args  # type: ignore[misc]
    assert (name, kind) == ("MyEmail", "query") and isinstance(milliseconds, float) and milliseconds > 0
    assert counter.count > 0 and statements == counter.count + len(counter.scope_statements)
    assert record.getMessage().startswith("slow operation MyEmail (query): ")


async def test_fast_operations_are_not_logged(settings: Settings) -> None:
    async with own_app(settings.database_url) as (_, http):
        with slow_log() as records:
            (await GraphQLClient(http)("query Ping { __typename }")).ok()
    assert records == []


async def test_workers_share_their_metrics(settings: Settings, identity: Identity, tmp_path: Path) -> None:
    """Two worker processes: any worker's /metrics sums the counters of both and the gauges of the
    live ones (websocket connections, subscriptions)."""
    account = await identity.account("acme")
    env = server_env(settings.database_url, settings.broadcast_url, TEST_SIGNING_KEY)
    server = LiveServer("metrics-workers", tmp_path, env, extra_args=("--workers", "2"))
    server.spawn()
    closing = {"Connection": "close"}  # new connections: the kernel spreads them over both workers
    try:
        await server.wait_healthy(within=90)  # two processes start on a busy machine
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            for _ in range(20):
                response = await http.post(
                    "/graphql", json={"query": "query Ping { __typename }"}, headers=closing
                )
                assert response.status_code == 200, response.text
            for _ in range(6):
                samples = await scrape(http, **closing)
                assert value(samples, OPERATIONS, operation="Ping", type="query", outcome="ok") == 20
            async with await TransportWsClient.connected(server.ws_url, account.token) as ws:
                await ws.subscribe("subscription Live { userUpdated { fullName } }")
                await ws.expect_nothing(0.5)
                for _ in range(4):
                    live = await scrape(http, **closing)
                    assert value(live, "tenantgraph_websocket_connections") == 1
                    assert value(live, "tenantgraph_active_subscriptions") == 1
                await ws.complete()
                await ws.expect_nothing(0.5)
                ended = await scrape(http, **closing)
                assert value(ended, "tenantgraph_active_subscriptions") == 0
                assert value(ended, OPERATIONS, operation="Live", type="subscription", outcome="ok") == 1
            open_connections = []
            for _ in range(50):  # the server notices the close a moment later
                open_connections.append(
                    value(await scrape(http, **closing), "tenantgraph_websocket_connections")
                )
                if open_connections[-4:] == [0, 0, 0, 0]:
                    break
                await asyncio.sleep(0.1)
            assert open_connections[-4:] == [0, 0, 0, 0], open_connections
    finally:
        assert server.stop() == 0, server.describe()


def test_workers_get_a_fresh_metrics_directory_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MULTIPROCESS_DIR, raising=False)
    with shared_between_workers():
        directory = Path(os.environ[MULTIPROCESS_DIR])
        assert directory.is_dir() and list(directory.iterdir()) == []
    assert MULTIPROCESS_DIR not in os.environ and not directory.exists()


def test_a_given_metrics_directory_is_kept_without_the_last_runs_values(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(MULTIPROCESS_DIR, str(tmp_path))
    (tmp_path / "counter_4242.db").write_bytes(b"stale")
    (tmp_path / "notes.txt").write_text("not ours")
    with shared_between_workers():
        assert os.environ[MULTIPROCESS_DIR] == str(tmp_path)
        assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]
    assert os.environ[MULTIPROCESS_DIR] == str(tmp_path)
