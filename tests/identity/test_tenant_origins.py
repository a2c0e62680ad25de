"""A tenant's contacts, billing email and allowed origins (seed 002 PATCH /tenants/{id}) against real
PostgreSQL: stored normalised, every bad input a userError, tenant admins of that tenant only, one
batched read per request; and CORS enforcing the origins (server/cors.py): a listed origin of a
tenant in service is allowed without credentials, the settings' origins with them, others not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from core.permissions import Role
from core.scope import TenantScope
from models.db import Database
from models.identity.accounts import Tenant, TenantStatus
from server.runtime import Runtime
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from services.identity.origins import MAX_ORIGINS_PER_TENANT, TenantOrigins, normalised_origin
from tests.conftest import own_app
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import Account, quick_account

ALL = TenantScope.all_tenants()
FIELDS = "contactName contactEmail contactPhone billingEmail allowedOrigins"
UPDATE = f"""
mutation($input: UpdateTenantContactInput!) {{
  updateTenantContact(input: $input) {{ tenant {{ slug {FIELDS} }} userErrors {{ field code message }} }}
}}
"""
TENANT = f"{{ tenant {{ {FIELDS} }} }}"
TENANTS = "{ tenants(first: 50) { nodes { slug allowedOrigins } } }"
PLATFORM_ORIGIN = "https://console.platform.example"
APP_ORIGIN = "https://app.acme.example"


async def update(gql: GraphQLClient, account: Account, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql(UPDATE, {"input": fields}, token=account.token)).ok()[
        "updateTenantContact"
    ]
    return payload


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("https://App.Acme.Example", "https://app.acme.example"),
        ("https://app.acme.example:443/", "https://app.acme.example"),
        ("https://app.acme.example:8443", "https://app.acme.example:8443"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1", "http://127.0.0.1"),
        ("http://[::1]:5173", "http://[::1]:5173"),
        ("http://app.acme.example", None),  # plain http off the loopback host
        ("https://app.acme.example/path", None),
        ("https://app.acme.example?x=1", None),
        ("https://user@app.acme.example", None),
        ("https://*.acme.example", None),
        ("https://203.0.113.9", None),
        ("https://app.acme.example:99999", None),
        ("ftp://app.acme.example", None),
        ("app.acme.example", None),
        ("https://intranet.local", None),
        ("*", None),
        ("", None),
    ],
)
def test_origin_rules(raw: str, stored: str | None) -> None:
    assert normalised_origin(raw) == stored


async def test_contacts_and_origins_are_stored_normalised(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    payload = await update(
        gql,
        admin,
        contactName="  Wile E. Coyote ",
        contactEmail="Wile@Acme.Example",
        contactPhone="+49 (30) 123 4567",
        billingEmail="Billing@Acme.Example",
        allowedOrigins=["https://App.Acme.Example:443", "http://localhost:3000", APP_ORIGIN],
    )
    assert payload["userErrors"] == []
    expected = {
        "contactName": "Wile E. Coyote",
        "contactEmail": "wile@acme.example",
        "contactPhone": "+49301234567",
        "billingEmail": "billing@acme.example",
        "allowedOrigins": ["http://localhost:3000", APP_ORIGIN],  # duplicates dropped, by origin
    }
    assert payload["tenant"] == {"slug": "acme", **expected}
    assert (await gql(TENANT, token=admin.token)).ok()["tenant"] == expected
    # Omitted fields stay; null (or blank) clears; the origin list is replaced as a whole.
    payload = await update(
        gql, admin, contactPhone=None, billingEmail=" ", allowedOrigins=["https://b.acme.example"]
    )
    assert payload["tenant"] == {
        "slug": "acme",
        **expected,
        "contactPhone": None,
        "billingEmail": None,
        "allowedOrigins": ["https://b.acme.example"],
    }
    cleared = await update(gql, admin, allowedOrigins=None)
    assert cleared["tenant"]["allowedOrigins"] == []


async def test_bad_contacts_and_origins_are_user_errors(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    payload = await update(
        gql,
        admin,
        contactName="x" * 201,
        contactEmail="nobody",
        contactPhone="12",
        billingEmail="billing@",
        allowedOrigins=[APP_ORIGIN, "http://evil.example"],
    )
    assert {(tuple(e["field"]), e["code"]) for e in payload["userErrors"]} == {
        (("input", "contactName"), "TOO_LONG"),
        (("input", "contactEmail"), "INVALID_EMAIL"),
        (("input", "contactPhone"), "INVALID_PHONE"),
        (("input", "billingEmail"), "INVALID_EMAIL"),
        (("input", "allowedOrigins", "1"), "INVALID_ORIGIN"),
    }
    many = [f"https://app{n}.acme.example" for n in range(MAX_ORIGINS_PER_TENANT + 1)]
    assert codes(await update(gql, admin, allowedOrigins=many)) == ["TOO_MANY_ORIGINS"]
    too_long = await update(gql, admin, allowedOrigins=["https://" + "a" * 300 + ".example"])
    assert [(e["field"], e["code"]) for e in too_long["userErrors"]] == [
        (["input", "allowedOrigins", "0"], "TOO_LONG")
    ]
    # Nothing of it was stored.
    assert (await gql(TENANT, token=admin.token)).ok()["tenant"] == dict.fromkeys(FIELDS.split(), None) | {
        "allowedOrigins": []
    }


async def test_only_the_tenants_admins_change_it(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    member = await quick_account(runtime, "acme", Role.USER)
    other = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    refused = await gql(UPDATE, {"input": {"billingEmail": "x@acme.example"}}, token=member.token)
    assert refused.error_codes == ["FORBIDDEN"]
    # Another tenant's admin naming acme: not found, like a tenant that does not exist.
    variables = {"input": {"tenantId": admin.tenant_gid, "allowedOrigins": ["https://evil.example"]}}
    crossed = await gql(UPDATE, variables, token=other.token)
    assert crossed.error_codes == ["NOT_FOUND"]
    assert (await gql(TENANT, token=admin.token)).ok()["tenant"]["allowedOrigins"] == []
    # A platform admin may change any tenant's.
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    variables = {"input": {"tenantId": admin.tenant_gid, "allowedOrigins": [APP_ORIGIN]}}
    by_platform = (await gql(UPDATE, variables, token=platform.token)).ok()["updateTenantContact"]
    assert by_platform["userErrors"] == [] and by_platform["tenant"]["allowedOrigins"] == [APP_ORIGIN]


async def test_origins_of_many_tenants_are_one_read(runtime: Runtime, gql: GraphQLClient) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    for slug in ("acme", "globex", "initech"):
        admin = await quick_account(runtime, slug, Role.TENANT_ADMIN)
        await update(gql, admin, allowedOrigins=[f"https://app.{slug}.example", f"https://b.{slug}.example"])
    await gql.warm(platform.token)
    with count_statements(runtime.db.engine) as counter:
        nodes = (await gql(TENANTS, token=platform.token)).ok()["tenants"]["nodes"]
    assert {node["slug"]: node["allowedOrigins"] for node in nodes} == {
        PLATFORM_TENANT_SLUG: [],
        **{
            slug: [f"https://app.{slug}.example", f"https://b.{slug}.example"]
            for slug in ("acme", "globex", "initech")
        },
    }
    origin_reads = [s for s in counter.statements if "tenant_origins" in s]
    assert len(origin_reads) == 1, counter.statements
    assert counter.count == 2, counter.statements  # the page of tenants, then their origins


# ---- CORS -------------------------------------------------------------------------------------


@pytest.fixture
async def cors_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """An app of its own that reads the tenants' origins on every request (no refresh delay)."""
    async with own_app(
        runtime.settings.database_url, allowed_origins=[PLATFORM_ORIGIN], tenant_origins_refresh_seconds=0
    ) as (_, client):
        yield client


async def preflight(client: httpx.AsyncClient, origin: str) -> httpx.Response:
    headers = {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
    }
    return await client.options("/graphql", headers=headers)


async def simple(client: httpx.AsyncClient, origin: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": "{ __typename }"}, headers={"origin": origin})


async def test_cors_allows_the_origins_tenants_list(
    runtime: Runtime, gql: GraphQLClient, cors_client: httpx.AsyncClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    # Not listed yet: refused like any unknown origin.
    refused = await preflight(cors_client, APP_ORIGIN)
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in (await simple(cors_client, APP_ORIGIN)).headers

    await update(gql, admin, allowedOrigins=[APP_ORIGIN])
    allowed = await preflight(cors_client, APP_ORIGIN)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    # A tenant's origin gets no credentials (cookies): a tenant admin may list any origin.
    assert "access-control-allow-credentials" not in allowed.headers
    answered = await simple(cors_client, APP_ORIGIN)
    assert answered.json()["data"] == {"__typename": "Query"}
    assert answered.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "access-control-allow-credentials" not in answered.headers
    # Other origins stay refused, the listed one only by exact origin.
    assert "access-control-allow-origin" not in (await simple(cors_client, "https://evil.example")).headers
    assert "access-control-allow-origin" not in (await simple(cors_client, APP_ORIGIN + ":8443")).headers

    # The platform's own origins keep their credentials.
    platform = await preflight(cors_client, PLATFORM_ORIGIN)
    assert platform.headers["access-control-allow-origin"] == PLATFORM_ORIGIN
    assert platform.headers["access-control-allow-credentials"] == "true"


async def test_cors_forgets_origins_of_tenants_out_of_service_and_removed_ones(
    runtime: Runtime, gql: GraphQLClient, cors_client: httpx.AsyncClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    await update(gql, admin, allowedOrigins=[APP_ORIGIN])
    assert (await preflight(cors_client, APP_ORIGIN)).status_code == 200
    async with runtime.db.transaction(ALL) as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == "acme"))
        assert tenant is not None
        tenant.status = TenantStatus.SUSPENDED
    assert (await preflight(cors_client, APP_ORIGIN)).status_code == 400
    async with runtime.db.transaction(ALL) as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == "acme"))
        assert tenant is not None
        tenant.status = TenantStatus.ACTIVE
    assert (await preflight(cors_client, APP_ORIGIN)).status_code == 200
    await update(gql, admin, allowedOrigins=[])
    assert (await preflight(cors_client, APP_ORIGIN)).status_code == 400


async def test_origins_read_failing_is_no_error(runtime: Runtime) -> None:
    """CORS sits outside every other middleware: a database that cannot be reached must not turn a
    request into a 500; the origins are then those of the last read (none here)."""
    dead = Database(runtime.settings.database_url.replace(f":{runtime.db.engine.url.port}/", ":1/"))
    try:
        assert await TenantOrigins(dead, 0).current() == frozenset()
    finally:
        await dead.dispose()


async def test_origins_are_read_again_only_after_the_refresh_period(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    origins = TenantOrigins(runtime.db, 3600)
    assert await origins.current() == frozenset()
    await update(gql, admin, allowedOrigins=[APP_ORIGIN])
    assert await origins.current() == frozenset()  # within the period: the set read before
    assert await TenantOrigins(runtime.db, 0).current() == frozenset({APP_ORIGIN})
