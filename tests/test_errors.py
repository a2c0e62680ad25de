"""Error shapes: every top-level error has an extensions.code; unexpected errors are masked in
production; introspection and field suggestions are off in production; JSON log lines."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from core.permissions import Role
from models.db import Database
from server.cli import migrate
from server.logging import configure_logging, correlation_id
from tests.conftest import PRODUCTION_SETTINGS, gql_of_own_app, make_settings
from tests.harness.servers import PostgresServer
from tests.support.graphql import GraphQLClient, GraphQLResult
from tests.support.identity import Identity, global_id

TENANT_LOOKUP = '{ tenantBySlug(slug: "acme") { name } }'
LEAKS = ("traceback", "select ", "undefinedtable", "asyncpg", "sqlalchemy", "tenants_gone", 'relation "')


@pytest.fixture(scope="module")
async def broken_database(postgres: PostgresServer) -> str:
    """A database of its own whose tenants table has disappeared under the running code."""
    url = postgres.create_database("errors_broken")
    await asyncio.to_thread(migrate, make_settings(url, "memory://"))  # alembic runs its own loop
    db = Database(url)
    async with db.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE tenants RENAME TO tenants_gone"))
    await db.dispose()
    return url


@pytest.fixture(scope="module")
async def production(broken_database: str) -> AsyncIterator[GraphQLClient]:
    async with gql_of_own_app(broken_database, **PRODUCTION_SETTINGS) as client:
        yield client


@pytest.fixture(scope="module")
async def development_broken(broken_database: str) -> AsyncIterator[GraphQLClient]:
    async with gql_of_own_app(broken_database) as client:
        yield client


def _only_error(result: GraphQLResult) -> dict[str, Any]:
    assert len(result.errors) == 1, result.body
    return result.errors[0]


# ---- extensions.code on every top-level error ------------------------------------------------


async def test_unauthenticated(gql: GraphQLClient) -> None:
    result = await gql("{ me { id } }")
    assert result.data is None
    assert result.error_codes == ["UNAUTHENTICATED"]
    assert _only_error(result)["message"] == "Sign in first."


async def test_bad_bearer_token_is_401_unauthenticated(gql: GraphQLClient) -> None:
    result = await gql("{ me { id } }", token="not-a-jwt")
    assert result.status == 401
    assert result.headers["www-authenticate"] == "Bearer"
    assert result.error_codes == ["UNAUTHENTICATED"]


async def test_forbidden(gql: GraphQLClient, identity: Identity) -> None:
    account = await identity.account("acme", Role.USER)
    result = await gql("{ users { totalCount } }", token=account.token)
    assert result.data is None
    assert result.error_codes == ["FORBIDDEN"]
    assert _only_error(result)["path"] == ["users"]


async def test_forbidden_tenant_header_for_non_admin(gql: GraphQLClient, identity: Identity) -> None:
    account = await identity.account("acme", Role.TENANT_ADMIN)
    other = await identity.tenant("globex")
    result = await gql("{ me { id } }", token=account.token, headers={"X-Tenant-Id": str(other.id)})
    assert result.status == 403
    assert result.error_codes == ["FORBIDDEN"]


async def test_not_found(gql: GraphQLClient, identity: Identity) -> None:
    admin = await identity.account("acme", Role.TENANT_ADMIN)
    missing = global_id("User", uuid.uuid4())
    result = await gql("query($id: ID!) { user(id: $id) { id } }", {"id": missing}, token=admin.token)
    assert result.error_codes == ["NOT_FOUND"]
    assert _only_error(result)["message"] == "User not found."


@pytest.mark.parametrize(
    ("query", "variables", "message_part"),
    [
        ("{ me { nope } }", {}, "Cannot query field 'nope' on type 'User'"),
        (
            "query($first: Int) { users(first: $first) { totalCount } }",
            {"first": "many"},
            "Variable '$first' has invalid value",
        ),
        ("query($id: ID!) { user(id: $id) { id } }", {}, "non-null type 'ID!' to be provided"),
        ("{ me { id }", {}, "Syntax Error"),
    ],
    ids=["unknown-field", "bad-variable", "missing-variable", "syntax"],
)
async def test_bad_user_input(
    gql: GraphQLClient, query: str, variables: dict[str, Any], message_part: str
) -> None:
    result = await gql(query, variables)
    assert result.data is None
    assert result.error_codes == ["BAD_USER_INPUT"], result.body
    assert message_part in _only_error(result)["message"]


async def test_bad_user_input_from_a_service(gql: GraphQLClient, identity: Identity) -> None:
    admin = await identity.account("acme", Role.TENANT_ADMIN)
    result = await gql("{ users(first: 1000) { totalCount } }", token=admin.token)
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert _only_error(result)["message"] == "`first` must be between 0 and 100."


async def test_bad_variable_is_not_masked_in_production(production: GraphQLClient) -> None:
    result = await production("query($s: String!) { tenantBySlug(slug: $s) { name } }", {"s": 5})
    assert result.error_codes == ["BAD_USER_INPUT"], result.body
    assert "Variable '$s' has invalid value" in _only_error(result)["message"]


# ---- unexpected errors ---------------------------------------------------------------------


async def test_unexpected_error_is_masked_in_production(production: GraphQLClient) -> None:
    result = await production(TENANT_LOOKUP)
    assert result.status == 200
    assert result.data == {"tenantBySlug": None}
    error = _only_error(result)
    assert error["message"] == "Internal server error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert error["path"] == ["tenantBySlug"]
    body = json.dumps(result.body).lower()
    for leak in LEAKS:
        assert leak not in body, (leak, body)


async def test_expected_errors_are_not_masked_in_production(production: GraphQLClient) -> None:
    result = await production("{ me { id } }")
    assert result.error_codes == ["UNAUTHENTICATED"]
    assert _only_error(result)["message"] == "Sign in first."


async def test_unexpected_error_in_development(development_broken: GraphQLClient) -> None:
    result = await development_broken(TENANT_LOOKUP)
    assert result.data == {"tenantBySlug": None}
    error = _only_error(result)
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "tenants" in error["message"]  # developers see the cause


# ---- introspection and field suggestions -----------------------------------------------------


async def test_introspection_refused_in_production(production: GraphQLClient) -> None:
    for query in ("{ __schema { queryType { name } } }", '{ __type(name: "User") { name } }'):
        result = await production(query)
        assert result.data is None, result.body
        assert result.errors, result.body
        assert all("introspection has been disabled" in e["message"] for e in result.errors)
        assert set(result.error_codes) == {"BAD_USER_INPUT"}
    assert (await production("{ __typename }")).ok() == {"__typename": "Query"}


async def test_introspection_allowed_in_development(gql: GraphQLClient) -> None:
    data = (await gql("{ __schema { queryType { name } } }")).ok()
    assert data == {"__schema": {"queryType": {"name": "Query"}}}


async def test_no_field_suggestions_in_production(production: GraphQLClient) -> None:
    result = await production('{ tenantBySlg(slug: "acme") { name } }')
    error = _only_error(result)
    assert "Cannot query field 'tenantBySlg' on type 'Query'" in error["message"]
    assert "Did you mean" not in json.dumps(result.body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_field_suggestions_in_development(gql: GraphQLClient) -> None:
    result = await gql('{ tenantBySlg(slug: "acme") { name } }')
    error = _only_error(result)
    assert "Did you mean 'tenantBySlug'" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


# ---- logs ----------------------------------------------------------------------------------


def _json_lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


async def test_json_log_lines_carry_the_correlation_id(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("INFO", json_lines=True)
    token = correlation_id.set("corr-abc")
    try:
        logging.getLogger("tenantgraph.test").info("hello %s", "world")
    finally:
        correlation_id.reset(token)
    logging.getLogger("tenantgraph.test").warning("outside a request")
    lines = _json_lines(capsys.readouterr().err)
    assert [(line["level"], line["logger"], line["correlation_id"], line["message"]) for line in lines] == [
        ("INFO", "tenantgraph.test", "corr-abc", "hello world"),
        ("WARNING", "tenantgraph.test", "-", "outside a request"),
    ]
    assert all("time" in line for line in lines)


async def test_production_logs_the_masked_error_as_json(
    production: GraphQLClient, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("INFO", json_lines=True)  # what create_app does in production, onto capsys
    result = await production(TENANT_LOOKUP, headers={"X-Correlation-Id": "prod-trace-1"})
    assert result.headers["x-correlation-id"] == "prod-trace-1"
    assert result.errors[0]["message"] == "Internal server error."
    lines = [line for line in _json_lines(capsys.readouterr().err) if line["logger"] == "tenantgraph.errors"]
    assert len(lines) == 1, lines
    assert lines[0]["level"] == "ERROR"
    assert lines[0]["correlation_id"] == "prod-trace-1"
    assert "tenants" in lines[0]["exc_info"]  # the cause stays in the server log
