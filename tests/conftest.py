"""Test fixtures: real PostgreSQL and Redis started for the session, one app per session,
clean tables and Redis before every test."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette

from core.settings import Settings
from models import Base
from server.app import create_app
from server.cli import migrate
from server.runtime import Runtime
from tests.harness.servers import PostgresServer, RedisServer
from tests.support.fake_dns import FakeDns, fake_dns
from tests.support.graphql import GraphQLClient
from tests.support.identity import Identity

TEST_SIGNING_KEY = "test-signing-key-that-is-long-enough-0123456789"


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    server = PostgresServer(tmp_path_factory.mktemp("postgres"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@contextmanager
def root_logging_kept() -> Iterator[None]:
    """Apps configure the process's logging (create_app reconfigures the root logger): put it back
    as it was when the block ends."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """For tests that create apps: the root logger is put back afterwards."""
    with root_logging_kept():
        yield


def make_settings(database_url: str, broadcast_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "broadcast_url": broadcast_url,
        "jwt_signing_key": TEST_SIGNING_KEY,
        "outbox_poll_seconds": 0.2,
        "auth_rate_limit_per_account": 1000,
        "auth_rate_limit_per_ip": 1000,
        # The shared apps run no provisioning worker: tests/provisioning runs its own.
        "provisioning_poll_seconds": 0,
        "provisioning_auto_start": False,
        # Web Push endpoints of the local push service (tests/support/web_push.py) are http.
        "web_push_allow_http": True,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings(postgres: PostgresServer, redis_server: RedisServer) -> Settings:
    settings = make_settings(postgres.url, redis_server.url)
    migrate(settings)
    return settings


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
def runtime(app: Starlette) -> Runtime:
    return app.state.runtime


DEADLOCK_SQLSTATE = "40P01"
TRUNCATE_ATTEMPTS = 5


async def truncate_all(runtime: Runtime) -> None:
    """Empty every table. A live server process of the module (its outbox relay, its workers) may hold
    row locks on a few of them; PostgreSQL then aborts one side as a deadlock, and when that side is
    ours, a second try finds the server's transaction gone."""
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    for attempt in range(1, TRUNCATE_ATTEMPTS + 1):
        try:
            async with runtime.db.engine.begin() as connection:
                await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != DEADLOCK_SQLSTATE or attempt == TRUNCATE_ATTEMPTS:
                raise
            await asyncio.sleep(0.1 * attempt)


@pytest.fixture(autouse=True)
async def clean_state(request: pytest.FixtureRequest) -> None:
    """Every test that uses the shared app starts from empty tables and an empty Redis."""
    if "app" not in request.fixturenames:
        return
    runtime: Runtime = request.getfixturevalue("runtime")
    await truncate_all(runtime)
    redis_url = runtime.settings.rate_limit_redis_url
    if redis_url:
        from redis.asyncio import Redis

        client = Redis.from_url(redis_url)
        await client.flushdb()
        await client.aclose()


@asynccontextmanager
async def app_client(
    app: Starlette, client_ip: str = "203.0.113.7", base_url: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of ``app`` in process, calling from ``client_ip``."""
    transport = httpx.ASGITransport(app=app, client=(client_ip, 50000))
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        yield client


@asynccontextmanager
async def own_app(
    database_url: str, **overrides: object
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """An app of its own (the test settings with ``overrides``, a memory broadcast) and its HTTP
    client, running for the block (stopped when it ends); the root logger is put back afterwards."""
    with root_logging_kept():
        application = create_app(make_settings(database_url, "memory://", **overrides))
        async with application.router.lifespan_context(application), app_client(application) as client:
            yield application, client


@asynccontextmanager
async def gql_of_own_app(database_url: str, **overrides: object) -> AsyncIterator[GraphQLClient]:
    """A GraphQL client of ``own_app``."""
    async with own_app(database_url, **overrides) as (_, client):
        yield GraphQLClient(client)


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(app) as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


@pytest.fixture
def identity(runtime: Runtime, gql: GraphQLClient) -> Identity:
    return Identity(runtime.db, gql)


@pytest.fixture
def dns_server(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDns]:
    """The local DNS server (tests/support/fake_dns.py): the only resolver delegation checks ask."""
    with fake_dns() as server:
        monkeypatch.setattr(runtime.settings, "dns_delegation_resolvers", f"127.0.0.1:{server.port}")
        monkeypatch.setattr(runtime.settings, "dns_delegation_timeout_seconds", 0.5)
        yield server


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    # Servers and subprocesses of the tests must not pick up a developer's own settings.
    for name in list(os.environ):
        if name.startswith("TENANTGRAPH_"):
            del os.environ[name]


# Everything production mode insists on (core/settings.py check_for_production).
PRODUCTION_SETTINGS: dict[str, object] = {
    "production": True,
    "jwt_signing_key": "production-signing-key-0123456789-abcdefghijklmn",
    "payment_provider_url": "http://127.0.0.1:9/",
    "payment_provider_secret_key": "sk_test_production_like",
    "stripe_webhook_secret": "whsec_production_like",
    "hyperswitch_webhook_key": "hyperswitch-production-like",
    "mfa_encryption_key": "mfa-encryption-key-production-like",
    "stream_ingest_secret": "stream-ingest-secret-production-like",
}
