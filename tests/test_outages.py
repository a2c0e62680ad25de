"""PostgreSQL or Redis out of reach during a request: a GraphQL error with code SERVICE_UNAVAILABLE
(503 before execution, e.g. while authenticating), a 503 problem on REST, one log line each and
never a plain-text 500 or a traceback; requests are served again once the server is back.

Servers of this module's own are stopped and started (the session's are shared by other tests)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.applications import Starlette

from models.db import Database
from server.app import create_app
from server.cli import migrate
from server.webhooks import hyperswitch_signature
from services.outages import DATABASE_UNAVAILABLE, REDIS_UNAVAILABLE, outage
from tests.conftest import PRODUCTION_SETTINGS, app_client, make_settings, root_logging_kept
from tests.harness.servers import PostgresServer, RedisServer
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, Identity

ME = "{ me { email } }"
TENANT_LOOKUP = '{ tenantBySlug(slug: "acme") { name } }'
LOGIN = 'mutation { login(input: {tenantSlug: "acme", email: "%s", password: "%s"}) { accessToken } }'
UPDATE_ME = 'mutation { updateMe(input: {fullName: "Renamed"}) { user { fullName } userErrors { code } } }'
LEAKS = ("traceback", "select ", "asyncpg", "sqlalchemy", "errno", "connect call", "127.0.0.1")
HYPERSWITCH_KEY = "hyperswitch-production-like"


@pytest.fixture(scope="module")
def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    with PostgresServer(tmp_path_factory.mktemp("outage-postgres")) as server:
        yield server


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("outage-redis")) as server:
        yield server


@pytest.fixture(scope="module")
async def outage_app(own_postgres: PostgresServer, own_redis: RedisServer) -> AsyncIterator[Starlette]:
    """A production-mode app on servers of its own; the access cache is off, so that every
    request authenticates against the database."""
    overrides = {**PRODUCTION_SETTINGS, "hyperswitch_webhook_key": HYPERSWITCH_KEY, "access_cache_seconds": 0}
    settings = make_settings(own_postgres.url, own_redis.url, **overrides)
    await asyncio.to_thread(migrate, settings)  # alembic runs its own event loop
    with root_logging_kept():
        application = create_app(settings)
        async with application.router.lifespan_context(application):
            yield application


@pytest.fixture
async def client(outage_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(outage_app) as client:
        yield client


@pytest.fixture
async def account(outage_app: Starlette, client: httpx.AsyncClient) -> Account:
    return await Identity(outage_app.state.runtime.db, GraphQLClient(client)).account("acme")


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    root = logging.getLogger()
    root.addHandler(caplog.handler)  # the app (re)configured the root logger
    caplog.clear()
    try:
        yield caplog
    finally:
        root.removeHandler(caplog.handler)


@contextmanager
def stopped(server: PostgresServer | RedisServer) -> Iterator[None]:
    server.stop()
    try:
        yield
    finally:
        server.start()


async def post(client: httpx.AsyncClient, query: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.post("/graphql", json={"query": query}, headers=headers)


def assert_no_leak(response: httpx.Response) -> None:
    for leak in LEAKS:
        assert leak not in response.text.lower(), (leak, response.text)


def assert_unavailable_field(response: httpx.Response, field: str, message: str, data: Any) -> None:
    """Executed, and the field's read failed: 200 (GraphQL over HTTP) with its error."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["data"] == data
    assert [(e["message"], e["path"], e["extensions"]) for e in body["errors"]] == [
        (message, [field], {"code": "SERVICE_UNAVAILABLE"})
    ]
    assert_no_leak(response)


def assert_outage_logged_once_per_request(logs: pytest.LogCaptureFixture, requests: int) -> None:
    outages = [r for r in logs.records if r.name == "tenantgraph.outages"]
    assert len(outages) == requests, [r.getMessage() for r in outages]
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in outages)
    # Nothing of the requests is logged as a bug (the outbox dispatcher, a background loop, may
    # complain on its own).
    request_loggers = ("tenantgraph.errors", "strawberry", "uvicorn", "starlette", "server")
    assert not [r for r in logs.records if r.name.startswith(request_loggers) and r.levelno >= logging.ERROR]


# ---- PostgreSQL -----------------------------------------------------------------------------


async def test_graphql_during_a_postgres_outage(
    client: httpx.AsyncClient, own_postgres: PostgresServer, account: Account, logs: pytest.LogCaptureFixture
) -> None:
    with stopped(own_postgres):
        # The pool's connections died with the server: the first read finds out.
        lookup = await post(client, TENANT_LOOKUP)
        assert_unavailable_field(lookup, "tenantBySlug", DATABASE_UNAVAILABLE, {"tenantBySlug": None})
        # New connections are refused; the bearer is checked before anything runs.
        me = await post(client, ME, account.token)
        assert me.status_code == 503
        assert me.headers["content-type"] == "application/json"
        assert me.json() == {
            "errors": [{"message": DATABASE_UNAVAILABLE, "extensions": {"code": "SERVICE_UNAVAILABLE"}}]
        }
        login = await post(client, LOGIN % (account.email, account.password))
        assert_unavailable_field(login, "login", DATABASE_UNAVAILABLE, None)
        again = await post(client, TENANT_LOOKUP)
        assert_unavailable_field(again, "tenantBySlug", DATABASE_UNAVAILABLE, {"tenantBySlug": None})
        assert_outage_logged_once_per_request(logs, 4)

    assert (await post(client, ME, account.token)).json() == {"data": {"me": {"email": account.email}}}
    assert (await post(client, TENANT_LOOKUP)).json() == {"data": {"tenantBySlug": {"name": "Acme"}}}


async def test_rest_during_a_postgres_outage(
    client: httpx.AsyncClient, own_postgres: PostgresServer, account: Account, logs: pytest.LogCaptureFixture
) -> None:
    event = json.dumps(
        {
            "event_id": f"evt_{uuid.uuid4().hex}",
            "event_type": "payment_succeeded",
            "content": {"type": "payment_details", "object": {"payment_id": f"pay_{uuid.uuid4().hex}"}},
        }
    ).encode()
    signed = {"X-Hyperswitch-Signature": hyperswitch_signature(event, HYPERSWITCH_KEY)}
    unavailable = {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": DATABASE_UNAVAILABLE,
    }
    with stopped(own_postgres):
        webhook = await client.post("/webhooks/hyperswitch", content=event, headers=signed)
        download = await client.get(
            f"/invoices/{uuid.uuid4()}/pdf", headers={"Authorization": f"Bearer {account.token}"}
        )
        for response in (webhook, download):
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json() == unavailable
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["down"] == ["database"]
        assert (await client.get("/health")).json() == {"status": "ok"}
        assert_outage_logged_once_per_request(logs, 2)

    # Back: the provider's retry of the same event is taken.
    retried = await client.post("/webhooks/hyperswitch", content=event, headers=signed)
    assert retried.status_code == 200, retried.text
    assert retried.json()["received"] is True


# ---- Redis ----------------------------------------------------------------------------------


async def test_requests_go_on_during_a_redis_outage(
    client: httpx.AsyncClient, own_redis: RedisServer, account: Account, logs: pytest.LogCaptureFixture
) -> None:
    """Redis is out of the request path: sign-in counts nothing while it is away, events wait in
    the outbox, and nothing is refused."""
    with stopped(own_redis):
        login = await post(client, LOGIN % (account.email, account.password))
        assert login.status_code == 200 and login.json()["data"]["login"]["accessToken"], login.text
        token = login.json()["data"]["login"]["accessToken"]
        assert (await post(client, ME, token)).json() == {"data": {"me": {"email": account.email}}}
        renamed = await post(client, UPDATE_ME, token)
        assert renamed.json() == {"data": {"updateMe": {"user": {"fullName": "Renamed"}, "userErrors": []}}}
    assert not [r for r in logs.records if r.name.startswith("tenantgraph.") and r.levelno >= logging.ERROR]


# ---- what counts as an outage (real failures of real servers) ---------------------------------


async def test_redis_errors_are_outages(own_redis: RedisServer) -> None:
    redis = Redis.from_url(own_redis.url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        with stopped(own_redis), pytest.raises(RedisConnectionError) as refused:
            await redis.ping()
    finally:
        await redis.aclose()
    unavailable = outage(refused.value)
    assert unavailable is not None and unavailable.code == "SERVICE_UNAVAILABLE"
    assert unavailable.message == REDIS_UNAVAILABLE


async def test_an_exhausted_pool_is_an_outage_and_a_bad_statement_is_not(
    own_postgres: PostgresServer,
) -> None:
    db = Database(own_postgres.url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    try:
        async with db.engine.connect():
            with pytest.raises(PoolTimeoutError) as exhausted:
                async with db.engine.connect():
                    pass
        async with db.engine.connect() as connection:
            with pytest.raises(ProgrammingError) as bad_sql:
                await connection.execute(text("SELECT * FROM no_such_table"))
    finally:
        await db.dispose()
    unavailable = outage(exhausted.value)
    assert unavailable is not None and unavailable.message == DATABASE_UNAVAILABLE
    assert outage(bad_sql.value) is None  # a bug: INTERNAL_SERVER_ERROR with its traceback
