"""Tenants against real PostgreSQL: creation with the first tenant admin, slug rules, the tenants
connection, who sees which tenant, updates, suspension (sessions end) and the public slug lookup."""

from __future__ import annotations

import uuid
from typing import Any

from core.permissions import Role
from core.scope import TenantScope
from models.identity.accounts import Tenant, TenantKind, TenantStatus
from server.runtime import Runtime
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from tests.support.graphql import GraphQLClient, GraphQLResult
from tests.support.identity import Identity, global_id, quick_account


async def make_tenant(
    runtime: Runtime, slug: str, name: str, kind: TenantKind, status: TenantStatus = TenantStatus.ACTIVE
) -> uuid.UUID:
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        tenant = Tenant(id=uuid.uuid4(), slug=slug, name=name, kind=kind, status=status, settings={})
        session.add(tenant)
    return tenant.id


TENANT_FIELDS = "id slug name kind status contactEmail settings"

CREATE_TENANT = f"""
mutation Create($input: CreateTenantInput!) {{
  createTenant(input: $input) {{
    tenant {{ {TENANT_FIELDS} }}
    admin {{ email fullName roles tenant {{ slug }} }}
    initialAdminPassword
    userErrors {{ field code message }}
  }}
}}
"""

TENANTS = """
query Tenants($filter: TenantFilterInput, $orderBy: TenantOrderInput, $first: Int, $after: String) {
  tenants(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    nodes { slug }
    pageInfo { hasNextPage endCursor }
  }
}
"""

TENANT = f"query Tenant($id: ID) {{ tenant(id: $id) {{ {TENANT_FIELDS} }} }}"
UPDATE_TENANT = f"""
mutation Update($input: UpdateTenantInput!) {{
  updateTenant(input: $input) {{ tenant {{ {TENANT_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
SUSPEND_TENANT = """
mutation($input: TenantIdInput!) {
  suspendTenant(input: $input) { tenant { status } userErrors { field code } }
}
"""
REACTIVATE_TENANT = """
mutation($input: TenantIdInput!) { reactivateTenant(input: $input) { tenant { status } userErrors { code } } }
"""
TENANT_BY_SLUG = "query($slug: String!) { tenantBySlug(slug: $slug) { slug name } }"
REFRESH = """
mutation($token: String!) { refreshToken(input: {refreshToken: $token}) { accessToken userErrors { code } } }
"""
ME = "{ me { email roles tenant { slug } } }"


def new_tenant(slug: str, **extra: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": f"{slug.title()} Inc",
        "adminEmail": f"boss@{slug}.example",
        "adminFullName": "Boss",
        **extra,
    }


async def create(gql: GraphQLClient, token: str, **fields: Any) -> dict[str, Any]:
    slug = fields.pop("slug")
    result: dict[str, Any] = (
        await gql(CREATE_TENANT, {"input": new_tenant(slug, **fields)}, token=token)
    ).ok()["createTenant"]
    return result


def assert_error(result: GraphQLResult, code: str) -> None:
    assert result.data is None, result.body
    assert result.error_codes == [code], result.body


async def tenant_count(gql: GraphQLClient, token: str) -> int:
    count: int = (await gql(TENANTS, token=token)).ok()["tenants"]["totalCount"]
    return count


# ---- creation -------------------------------------------------------------------------------


async def test_create_tenant_with_admin_password(
    identity: Identity, runtime: Runtime, gql: GraphQLClient
) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    created = await create(
        gql,
        platform.token,
        slug="initech",
        kind="RESELLER",
        contactEmail="Ops@Initech.example",
        settings={"plan": "gold", "seats": 5},
        adminPassword="initech-admin-pass",
    )
    assert created["userErrors"] == []
    tenant = created["tenant"]
    assert tenant == {
        "id": tenant["id"],
        "slug": "initech",
        "name": "Initech Inc",
        "kind": "RESELLER",
        "status": "ACTIVE",
        "contactEmail": "ops@initech.example",
        "settings": {"plan": "gold", "seats": 5},
    }
    assert created["admin"] == {
        "email": "boss@initech.example",
        "fullName": "Boss",
        "roles": ["TENANT_ADMIN"],
        "tenant": {"slug": "initech"},
    }
    assert created["initialAdminPassword"] is None

    login = (await identity.login("initech", "boss@initech.example", "initech-admin-pass")).ok()["login"]
    assert login["user"]["roles"] == ["TENANT_ADMIN"] and login["user"]["tenant"] == {"slug": "initech"}
    # The new admin sees the new tenant as its own.
    own = (await gql(TENANT, token=login["accessToken"])).ok()["tenant"]
    assert own == tenant


async def test_create_tenant_generates_a_one_time_admin_password(
    identity: Identity, runtime: Runtime, gql: GraphQLClient
) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    created = await create(gql, platform.token, slug="hooli")
    assert created["userErrors"] == []
    assert created["tenant"]["kind"] == "ENTERPRISE" and created["tenant"]["settings"] == {}
    generated = created["initialAdminPassword"]
    assert isinstance(generated, str) and len(generated) >= 12

    login = (await identity.login("hooli", "boss@hooli.example", generated)).ok()["login"]
    assert login["userErrors"] == []
    me = (await gql(ME, token=login["accessToken"])).ok()["me"]
    assert me == {"email": "boss@hooli.example", "roles": ["TENANT_ADMIN"], "tenant": {"slug": "hooli"}}
    # It is shown once: reading the tenant again never returns it.
    again = await gql(
        "query($id: ID) { tenant(id: $id) { slug } }", {"id": created["tenant"]["id"]}, token=platform.token
    )
    assert generated not in str(again.body)


async def test_create_tenant_rejects_bad_slugs_and_input(runtime: Runtime, gql: GraphQLClient) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    assert (await create(gql, platform.token, slug="taken"))["userErrors"] == []
    before = await tenant_count(gql, platform.token)

    cases = {
        "Bad Slug": "INVALID_SLUG",
        "UPPER": "INVALID_SLUG",
        "-leading": "INVALID_SLUG",
        "trailing-": "INVALID_SLUG",
        "a" * 64: "INVALID_SLUG",
        "": "INVALID_SLUG",
        "admin": "RESERVED_SLUG",
        "graphql": "RESERVED_SLUG",
        "taken": "CONFLICT",
    }
    for slug, code in cases.items():
        payload = await create(gql, platform.token, slug=slug, adminEmail="boss@corp.example")
        assert payload["tenant"] is None and payload["admin"] is None, slug
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", "slug"], code)], slug

    payload = await create(
        gql,
        platform.token,
        slug="fine",
        name=" ",
        adminEmail="nope",
        adminFullName="",
        adminPassword="qwerty",
    )
    assert sorted((tuple(e["field"]), e["code"]) for e in payload["userErrors"]) == [
        (("input", "adminEmail"), "INVALID_EMAIL"),
        (("input", "adminFullName"), "REQUIRED"),
        (("input", "adminPassword"), "WEAK_PASSWORD"),
        (("input", "name"), "REQUIRED"),
    ]
    assert await tenant_count(gql, platform.token) == before


# ---- reading tenants ------------------------------------------------------------------------


async def test_tenants_connection_with_filters(runtime: Runtime, gql: GraphQLClient) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    await make_tenant(runtime, "acme", "Acme Rockets", TenantKind.ENTERPRISE)
    await make_tenant(runtime, "bolt", "Bolt Resale", TenantKind.RESELLER, TenantStatus.TRIAL)
    await make_tenant(runtime, "cosmo", "Cosmo Rockets", TenantKind.RESELLER, TenantStatus.SUSPENDED)
    await make_tenant(runtime, "delta", "Delta", TenantKind.ENTERPRISE, TenantStatus.TRIAL)

    async def slugs(**variables: Any) -> tuple[list[str], int]:
        tenants = (await gql(TENANTS, variables, token=platform.token)).ok()["tenants"]
        return [node["slug"] for node in tenants["nodes"]], tenants["totalCount"]

    assert await slugs() == (["platform", "acme", "bolt", "cosmo", "delta"], 5)
    assert await slugs(filter={"status": "TRIAL"}) == (["bolt", "delta"], 2)
    assert await slugs(filter={"kind": "RESELLER"}) == (["bolt", "cosmo"], 2)
    assert await slugs(filter={"kind": "INTERNAL"}) == (["platform"], 1)
    assert await slugs(filter={"status": "TRIAL", "kind": "RESELLER"}) == (["bolt"], 1)
    # Search matches the slug or the name, case-insensitively.
    assert await slugs(filter={"search": "ROCKETS"}) == (["acme", "cosmo"], 2)
    assert await slugs(filter={"search": "elt"}) == (["delta"], 1)
    assert await slugs(filter={"search": "nothing-like-this"}) == ([], 0)
    by_name = await slugs(orderBy={"field": "NAME", "direction": "DESC"})
    assert by_name == (
        ["platform", "delta", "cosmo", "bolt", "acme"],
        5,
    )  # Platform, Delta, Cosmo Rockets, ...

    first = (await gql(TENANTS, {"first": 2, "orderBy": {"field": "SLUG"}}, token=platform.token)).ok()[
        "tenants"
    ]
    assert [n["slug"] for n in first["nodes"]] == ["acme", "bolt"] and first["pageInfo"]["hasNextPage"]
    rest = await gql(
        TENANTS,
        {"first": 10, "after": first["pageInfo"]["endCursor"], "orderBy": {"field": "SLUG"}},
        token=platform.token,
    )
    assert [n["slug"] for n in rest.ok()["tenants"]["nodes"]] == ["cosmo", "delta", "platform"]
    assert_error(await gql(TENANTS, {"first": 101}, token=platform.token), "BAD_USER_INPUT")


async def test_who_sees_which_tenant(runtime: Runtime, gql: GraphQLClient) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    admin_a = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user_a = await quick_account(runtime, "acme")
    user_b = await quick_account(runtime, "globex")

    # Platform admins read any tenant by id.
    globex = (await gql(TENANT, {"id": user_b.tenant_gid}, token=platform.token)).ok()["tenant"]
    assert globex == {
        "id": user_b.tenant_gid,
        "slug": "globex",
        "name": "Globex",
        "kind": "ENTERPRISE",
        "status": "ACTIVE",
        "contactEmail": None,
        "settings": {},
    }
    # Members read their own tenant, with or without its id.
    for account in (admin_a, user_a):
        assert (await gql(TENANT, token=account.token)).ok()["tenant"]["slug"] == "acme"
        assert (await gql(TENANT, {"id": account.tenant_gid}, token=account.token)).ok()["tenant"][
            "slug"
        ] == "acme"
    # Another tenant's id answers exactly like an id that does not exist.
    foreign = await gql(TENANT, {"id": user_b.tenant_gid}, token=admin_a.token)
    absent = await gql(TENANT, {"id": global_id("Tenant", uuid.uuid4())}, token=admin_a.token)
    assert_error(foreign, "NOT_FOUND")
    assert foreign.body == absent.body
    assert foreign.errors[0]["message"] == "Tenant not found."
    node = "query($id: ID!) { node(id: $id) { id ... on Tenant { slug } } }"
    assert (await gql(node, {"id": admin_a.tenant_gid}, token=admin_a.token)).ok()["node"]["slug"] == "acme"
    assert_error(await gql(node, {"id": user_b.tenant_gid}, token=admin_a.token), "NOT_FOUND")
    # Only platform admins list tenants.
    assert_error(await gql(TENANTS, token=admin_a.token), "FORBIDDEN")
    assert_error(await gql(TENANT), "UNAUTHENTICATED")


# ---- updates and suspension -----------------------------------------------------------------


async def test_update_tenant(runtime: Runtime, gql: GraphQLClient) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme")
    other = await quick_account(runtime, "globex", Role.TENANT_ADMIN)

    changes = {
        "id": admin.tenant_gid,
        "name": " Acme Corp ",
        "contactEmail": "Ops@Acme.example",
        "settings": {"a": 1},
    }
    updated = (await gql(UPDATE_TENANT, {"input": changes}, token=admin.token)).ok()["updateTenant"]
    assert updated["userErrors"] == []
    assert updated["tenant"] == {
        "id": admin.tenant_gid,
        "slug": "acme",
        "name": "Acme Corp",
        "kind": "ENTERPRISE",
        "status": "ACTIVE",
        "contactEmail": "ops@acme.example",
        "settings": {"a": 1},
    }
    assert (await gql(TENANT, token=user.token)).ok()["tenant"]["name"] == "Acme Corp"

    kind = (
        await gql(UPDATE_TENANT, {"input": {"id": admin.tenant_gid, "kind": "INTERNAL"}}, token=admin.token)
    ).ok()
    assert [(e["field"], e["code"]) for e in kind["updateTenant"]["userErrors"]] == [
        (["input", "kind"], "FORBIDDEN")
    ]
    bad = {"id": admin.tenant_gid, "name": "", "contactEmail": "nope"}
    rejected = (await gql(UPDATE_TENANT, {"input": bad}, token=admin.token)).ok()["updateTenant"]
    assert sorted(e["code"] for e in rejected["userErrors"]) == ["INVALID_EMAIL", "REQUIRED"]

    by_platform = await gql(
        UPDATE_TENANT, {"input": {"id": admin.tenant_gid, "kind": "RESELLER"}}, token=platform.token
    )
    assert by_platform.ok()["updateTenant"]["tenant"]["kind"] == "RESELLER"
    assert (await gql(TENANT, token=admin.token)).ok()["tenant"]["kind"] == "RESELLER"

    # A tenant admin cannot reach another tenant, and a plain user cannot update at all.
    foreign = await gql(
        UPDATE_TENANT, {"input": {"id": other.tenant_gid, "name": "Pwned"}}, token=admin.token
    )
    assert_error(foreign, "NOT_FOUND")
    assert (await gql(TENANT, token=other.token)).ok()["tenant"]["name"] == "Globex"
    assert_error(
        await gql(UPDATE_TENANT, {"input": {"id": user.tenant_gid, "name": "X"}}, token=user.token),
        "FORBIDDEN",
    )


async def test_suspend_and_reactivate_tenant(
    identity: Identity, runtime: Runtime, gql: GraphQLClient
) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme")
    bystander = await quick_account(runtime, "globex")

    assert_error(
        await gql(SUSPEND_TENANT, {"input": {"id": admin.tenant_gid}}, token=admin.token), "FORBIDDEN"
    )
    suspended = await gql(SUSPEND_TENANT, {"input": {"id": admin.tenant_gid}}, token=platform.token)
    assert suspended.ok()["suspendTenant"] == {"tenant": {"status": "SUSPENDED"}, "userErrors": []}

    for account in (admin, user):
        result = await gql(ME, token=account.token)
        assert result.status == 401 and result.error_codes == ["UNAUTHENTICATED"]
        refreshed = (await gql(REFRESH, {"token": account.refresh_token})).ok()["refreshToken"]
        assert refreshed["accessToken"] is None and [e["code"] for e in refreshed["userErrors"]] == [
            "SESSION_REVOKED"
        ]
    assert (await gql(ME, token=bystander.token)).ok()["me"]["tenant"] == {"slug": "globex"}
    refused = (await identity.login("acme", user.email, user.password)).ok()["login"]
    assert [e["code"] for e in refused["userErrors"]] == ["TENANT_SUSPENDED"]
    assert (await gql(TENANT, {"id": admin.tenant_gid}, token=platform.token)).ok()["tenant"][
        "status"
    ] == "SUSPENDED"

    reactivated = await gql(REACTIVATE_TENANT, {"input": {"id": admin.tenant_gid}}, token=platform.token)
    assert reactivated.ok()["reactivateTenant"] == {"tenant": {"status": "ACTIVE"}, "userErrors": []}
    login = (await identity.login("acme", user.email, user.password)).ok()["login"]
    assert login["userErrors"] == []
    assert (await gql(ME, token=login["accessToken"])).ok()["me"]["email"] == user.email
    # Sessions ended by the suspension stay ended.
    assert (await gql(ME, token=user.token)).status == 401

    own = await gql(SUSPEND_TENANT, {"input": {"id": platform.tenant_gid}}, token=platform.token)
    assert [e["code"] for e in own.ok()["suspendTenant"]["userErrors"]] == ["CANNOT_SUSPEND_OWN_TENANT"]


async def test_tenant_by_slug_is_public_and_minimal(runtime: Runtime, gql: GraphQLClient) -> None:
    await make_tenant(runtime, "acme", "Acme Rockets", TenantKind.ENTERPRISE)
    await make_tenant(runtime, "trial", "On Trial", TenantKind.RESELLER, TenantStatus.TRIAL)
    await make_tenant(runtime, "frozen", "Frozen Co", TenantKind.ENTERPRISE, TenantStatus.SUSPENDED)

    async def lookup(slug: str) -> Any:
        return (await gql(TENANT_BY_SLUG, {"slug": slug})).ok()["tenantBySlug"]

    assert await lookup("acme") == {"slug": "acme", "name": "Acme Rockets"}
    assert await lookup(" ACME ") == {"slug": "acme", "name": "Acme Rockets"}
    assert await lookup("trial") == {"slug": "trial", "name": "On Trial"}
    assert await lookup("frozen") is None
    assert await lookup("no-such-tenant") is None
    # Nothing else of the tenant is on offer.
    for field in ("id", "status", "kind", "contactEmail", "settings"):
        result = await gql(f'{{ tenantBySlug(slug: "acme") {{ slug {field} }} }}')
        assert result.data is None and result.error_codes == ["BAD_USER_INPUT"], field
        assert f"Cannot query field '{field}' on type 'PublicTenant'" in result.errors[0]["message"]
