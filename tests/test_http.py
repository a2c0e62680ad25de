"""The HTTP surface: GET for queries only, body size limit, every refusal in JSON (a GraphQL error
body on /graphql, application/problem+json elsewhere), correlation ids, probes."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select, text
from starlette.applications import Starlette

from core.scope import TenantScope
from core.settings import Settings
from models.identity.accounts import User
from server.app import create_app
from server.cli import migrate
from server.runtime import Runtime
from tests.conftest import app_client, make_settings, root_logging_kept
from tests.harness.servers import PostgresServer
from tests.support.identity import Identity, quick_account

MIB = 1024 * 1024
HEX_ID = re.compile(r"^[0-9a-f]{32}$")
# JSON bodies that are neither an operation nor a batch.
SCALARS = (b"1", b'"x"', b"null", b"true")

REGISTER = (
    'mutation { register(input: {tenantSlug: "acme", email: "viaget@acme.example", '
    'fullName: "Via Get", password: "a-long-enough-password"}) { user { email } userErrors { code } } }'
)


async def _users_with_email(runtime: Runtime, email: str) -> int:
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        return int(
            await session.scalar(select(func.count()).select_from(User).where(User.email == email)) or 0
        )


# ---- GET ----------------------------------------------------------------------------------


async def test_query_over_get(http: httpx.AsyncClient, identity: Identity) -> None:
    await identity.tenant("acme")
    response = await http.get("/graphql", params={"query": '{tenantBySlug(slug:"acme"){name}}'})
    assert response.status_code == 200
    assert response.json()["data"] == {"tenantBySlug": {"name": "Acme"}}


async def test_query_over_get_with_variables(http: httpx.AsyncClient, identity: Identity) -> None:
    await identity.tenant("acme")
    response = await http.get(
        "/graphql",
        params={
            "query": "query($s: String!){tenantBySlug(slug:$s){slug name}}",
            "variables": json.dumps({"s": "acme"}),
        },
    )
    assert response.json()["data"] == {"tenantBySlug": {"slug": "acme", "name": "Acme"}}


async def test_query_over_get_with_null_variables_and_extensions(http: httpx.AsyncClient) -> None:
    """Only a body must be an operation or a batch: GET's JSON parameters may be null."""
    params = {"query": "{ __typename }", "variables": "null", "extensions": "null"}
    response = await http.get("/graphql", params=params)
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"__typename": "Query"}


async def test_mutation_over_get_is_refused_and_does_nothing(
    http: httpx.AsyncClient, identity: Identity, runtime: Runtime
) -> None:
    await identity.tenant("acme")
    response = await http.get("/graphql", params={"query": REGISTER})
    _assert_graphql_refusal(
        response, 405, "BAD_REQUEST", "Mutations are not allowed over GET: send them with POST."
    )
    assert response.headers["allow"] == "POST"
    assert await _users_with_email(runtime, "viaget@acme.example") == 0

    # The very same mutation over POST does create the user: the refusal above was about GET.
    posted = await http.post("/graphql", json={"query": REGISTER})
    assert posted.json()["data"]["register"] == {"user": {"email": "viaget@acme.example"}, "userErrors": []}
    assert await _users_with_email(runtime, "viaget@acme.example") == 1


# ---- body size limit ----------------------------------------------------------------------


def _assert_too_large(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "errors": [
            {
                "message": f"Request bodies are limited to {limit} bytes.",
                "extensions": {"code": "BAD_REQUEST", "maxBytes": limit},
            }
        ]
    }


def _padded_query(total_bytes: int) -> bytes:
    """A valid GraphQL request of exactly ``total_bytes`` bytes (the padding is a member of the
    body that GraphQL over HTTP ignores; string variables have a length limit of their own)."""
    empty = json.dumps({"query": "{ __typename }", "padding": ""}).encode()
    pad = "x" * (total_bytes - len(empty))
    body = json.dumps({"query": "{ __typename }", "padding": pad}).encode()
    assert len(body) == total_bytes
    return body


async def test_body_over_limit_is_413_problem(http: httpx.AsyncClient, settings: Settings) -> None:
    response = await http.post(
        "/graphql", content=_padded_query(2 * MIB), headers={"content-type": "application/json"}
    )
    _assert_too_large(response, settings.max_body_bytes)


async def test_body_just_under_limit_is_served(http: httpx.AsyncClient, settings: Settings) -> None:
    assert settings.max_body_bytes == MIB
    response = await http.post(
        "/graphql", content=_padded_query(MIB - 16), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}


async def test_chunked_body_over_limit_is_413(http: httpx.AsyncClient, settings: Settings) -> None:
    body = _padded_query(2 * MIB)
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            sent.append(start)
            yield body[start : start + 64 * 1024]

    response = await http.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    _assert_too_large(response, settings.max_body_bytes)


async def test_body_over_limit_on_a_rest_path_is_413_problem(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    response = await http.post("/webhooks/stripe", content=b"x" * (settings.max_body_bytes + 1))
    _assert_problem(
        response,
        413,
        "Request Entity Too Large",
        f"Request bodies are limited to {settings.max_body_bytes} bytes.",
        maxBytes=settings.max_body_bytes,
    )


async def test_refusals_carry_cors_headers(settings: Settings, restore_logging: None) -> None:
    """A browser page on an allowed origin can read a refusal made in middleware."""
    origin = "https://app.example"
    application = create_app(make_settings(settings.database_url, "memory://", allowed_origins=[origin]))
    async with application.router.lifespan_context(application):
        async with app_client(application) as client:
            response = await client.post(
                "/graphql",
                content=_padded_query(2 * MIB),
                headers={"origin": origin, "content-type": "application/json"},
            )
    _assert_too_large(response, settings.max_body_bytes)
    assert response.headers["access-control-allow-origin"] == origin


# ---- every refusal is JSON ----------------------------------------------------------------


def _assert_graphql_refusal(response: httpx.Response, status: int, code: str, message: str) -> None:
    """A GraphQL request refused before it ran: one error, no data (GraphQL over HTTP)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"errors": [{"message": message, "extensions": {"code": code}}]}


def _assert_problem(response: httpx.Response, status: int, title: str, detail: str, **extra: object) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Unable to parse request body as JSON"),
        (b"{}", "No GraphQL query found in the request."),
        (b'{"query": null}', "No GraphQL query found in the request."),
        (b'{"query": 42}', "The GraphQL operation's `query` must be a string or null, if provided."),
        (
            b'{"query": "{ __typename }", "variables": [1]}',
            "The GraphQL operation's `variables` must be an object or null, if provided.",
        ),
        (
            b'{"query": "query A { __typename }", "operationName": "C"}',
            'Unknown operation named "C".',
        ),
        *(
            (scalar, "Expected a JSON object (an operation), or an array of them (a batch).")
            for scalar in SCALARS
        ),
    ],
    ids=[
        "bad-json",
        "no-query",
        "null-query",
        "query-not-string",
        "variables-not-object",
        "unknown-operation",
        *(f"json-{scalar.decode()}" for scalar in SCALARS),
    ],
)
async def test_requests_that_are_not_graphql_are_bad_request(
    http: httpx.AsyncClient, body: bytes, message: str
) -> None:
    response = await http.post("/graphql", content=body, headers={"content-type": "application/json"})
    _assert_graphql_refusal(response, 400, "BAD_REQUEST", message)


async def test_unsupported_content_type_is_bad_request(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", content=b"{ __typename }", headers={"content-type": "text/plain"})
    _assert_graphql_refusal(response, 400, "BAD_REQUEST", "Unsupported content type")


async def test_get_with_unparsable_variables_is_bad_request(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": "{ __typename }", "variables": "{oops"})
    _assert_graphql_refusal(response, 400, "BAD_REQUEST", "Unable to parse request body as JSON")


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_subscription_over_http_is_bad_request(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, method: str
) -> None:
    logging.getLogger().addHandler(caplog.handler)  # the app (re)configured the root logger
    query = "subscription { userUpdated { id } }"
    if method == "POST":
        response = await http.post("/graphql", json={"query": query})
    else:
        response = await http.get("/graphql", params={"query": query})
    _assert_graphql_refusal(
        response,
        400,
        "BAD_REQUEST",
        "Subscriptions are not served over HTTP: open a websocket to /graphql "
        "(graphql-transport-ws or graphql-ws) and subscribe there.",
    )
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.records


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_other_methods_on_graphql_are_405_graphql_errors(http: httpx.AsyncClient, method: str) -> None:
    response = await http.request(method, "/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/json"
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    message = f"{method} is not allowed here; use {response.headers['allow']}."
    _assert_graphql_refusal(response, 405, "BAD_REQUEST", message)


async def test_unknown_path_is_404_problem(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphq", headers={"accept": "text/html"})
    _assert_problem(response, 404, "Not Found", "Nothing is served at /graphq.")


async def test_wrong_method_on_a_rest_path_is_405_problem(http: httpx.AsyncClient) -> None:
    response = await http.get("/webhooks/stripe")
    _assert_problem(response, 405, "Method Not Allowed", "GET is not allowed here; use POST.")
    assert response.headers["allow"] == "POST"


async def test_a_bug_outside_graphql_is_a_500_problem(
    postgres: PostgresServer, restore_logging: None
) -> None:
    """A bug that escapes a REST route (here: the invoices table is gone) is a JSON 500 without
    the cause; the server log keeps the traceback."""
    url = postgres.create_database("http_bug")
    settings = make_settings(url, "memory://")
    await asyncio.to_thread(migrate, settings)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        runtime: Runtime = application.state.runtime
        account = await quick_account(runtime, "acme")
        async with runtime.db.engine.begin() as connection:
            await connection.execute(text("ALTER TABLE invoices RENAME TO invoices_gone"))
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get(
                f"/invoices/{uuid.uuid4()}/pdf", headers={"Authorization": f"Bearer {account.token}"}
            )
    _assert_problem(response, 500, "Internal Server Error", "Internal server error.")
    assert "invoices_gone" not in response.text


# ---- correlation id -----------------------------------------------------------------------


async def test_correlation_id_is_echoed(http: httpx.AsyncClient) -> None:
    response = await http.get("/health", headers={"X-Correlation-Id": "req-42.abc:DEF_9"})
    assert response.headers["x-correlation-id"] == "req-42.abc:DEF_9"
    graphql = await http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Correlation-Id": "gql-7"}
    )
    assert graphql.headers["x-correlation-id"] == "gql-7"


@pytest.mark.parametrize("given", [None, "", "has spaces", "x" * 200, "semi;colon", "a/b"])
async def test_correlation_id_is_generated_when_absent_or_invalid(
    http: httpx.AsyncClient, given: str | None
) -> None:
    headers = {} if given is None else {"X-Correlation-Id": given}
    first = await http.get("/health", headers=headers)
    second = await http.get("/health", headers=headers)
    generated = first.headers["x-correlation-id"]
    assert HEX_ID.match(generated), generated
    assert generated != given
    assert second.headers["x-correlation-id"] != generated  # a fresh one per request


@pytest.fixture(scope="module")
async def broken_app(postgres: PostgresServer) -> AsyncIterator[Starlette]:
    """A development app over a database of its own whose tenants table is gone: any tenant
    lookup fails with an error nobody planned for."""
    url = postgres.create_database("http_broken")
    settings = make_settings(url, "memory://")
    await asyncio.to_thread(migrate, settings)  # alembic runs its own event loop
    with root_logging_kept():
        application = create_app(settings)
        async with application.router.lifespan_context(application):
            async with application.state.runtime.db.engine.begin() as connection:
                await connection.execute(text("ALTER TABLE tenants RENAME TO tenants_gone"))
            yield application


async def test_correlation_id_is_on_log_lines_of_the_request(
    broken_app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    logging.getLogger().addHandler(caplog.handler)  # the app (re)configured the root logger
    async with app_client(broken_app) as client:
        response = await client.post(
            "/graphql",
            json={"query": '{ tenantBySlug(slug: "acme") { name } }'},
            headers={"X-Correlation-Id": "trace-me-123"},
        )
    assert response.headers["x-correlation-id"] == "trace-me-123"
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    errors = [r for r in caplog.records if r.name == "tenantgraph.errors"]
    assert len(errors) == 1, caplog.records
    assert errors[0].levelno == logging.ERROR
    assert errors[0].correlation_id == "trace-me-123"  # type: ignore[attr-defined]
    assert errors[0].exc_info is not None  # the server log keeps the cause that clients never see


# ---- probes -------------------------------------------------------------------------------


async def test_health(http: httpx.AsyncClient) -> None:
    response = await http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_client_gone_before_its_body_is_read_logs_one_line(
    app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    logging.getLogger().addHandler(caplog.handler)  # the app (re)configured the root logger
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
        "query_string": b"",
        "http_version": "1.1",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
    }
    sent: list[dict[str, object]] = []

    async def disconnected() -> dict[str, object]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    with caplog.at_level(logging.INFO):
        await app(scope, disconnected, send)  # type: ignore[arg-type]
    assert sent == []  # nobody to answer
    ours = [r for r in caplog.records if "disconnected" in r.getMessage()]
    assert [(r.levelno, r.getMessage()) for r in ours] == [
        (logging.INFO, "client disconnected before its POST /graphql was read")
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.records
