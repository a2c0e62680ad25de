"""Tenant administration against real PostgreSQL and Redis: settings merged by JSON merge patch,
the user count (one batched count per request), quotas where users and products are created, the
trial end, soft delete and restore, and branding (validated, public with the tenant by slug)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from core.permissions import Role
from core.scope import TenantScope
from models.catalog import Product
from models.identity.accounts import Tenant, TenantStatus, User, UserStatus
from server.runtime import Runtime
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import PASSWORD, Account, quick_account

ALL = TenantScope.all_tenants()
ERRORS = "userErrors { field code message }"
PROFILE = "id slug settings maxUsers maxProducts trialEndsAt deletedAt"
PATCH = f"""
mutation($input: PatchTenantSettingsInput!) {{
  patchTenantSettings(input: $input) {{ tenant {{ {PROFILE} }} {ERRORS} }}
}}
"""
UPDATE_TENANT = f"""
mutation($input: UpdateTenantInput!) {{ updateTenant(input: $input) {{ tenant {{ settings }} {ERRORS} }} }}
"""
LIMITS = f"""
mutation($input: UpdateTenantLimitsInput!) {{
  updateTenantLimits(input: $input) {{ tenant {{ {PROFILE} }} {ERRORS} }}
}}
"""
TENANT_PAYLOAD = f"{{ tenant {{ {PROFILE} }} {ERRORS} }}"
DELETE = f"mutation($input: TenantIdInput!) {{ deleteTenant(input: $input) {TENANT_PAYLOAD} }}"
RESTORE = f"mutation($input: TenantIdInput!) {{ restoreTenant(input: $input) {TENANT_PAYLOAD} }}"
BRANDING_FIELDS = (
    "displayName logoUrl logoDarkUrl faviconUrl primaryColor secondaryColor supportUrl termsUrl privacyUrl "
    "emailFromName"
)
BRANDING = f"""
mutation($input: UpdateTenantBrandingInput!) {{
  updateTenantBranding(input: $input) {{ branding {{ {BRANDING_FIELDS} }} {ERRORS} }}
}}
"""
TENANT = f"query($id: ID) {{ tenant(id: $id) {{ {PROFILE} userCount branding {{ {BRANDING_FIELDS} }} }} }}"
TENANTS = """
query($filter: TenantFilterInput) { tenants(filter: $filter, first: 50) { nodes { slug userCount } } }
"""
BY_SLUG = (
    f"query($slug: String!) {{ tenantBySlug(slug: $slug) {{ slug name branding {{ {BRANDING_FIELDS} }} }} }}"
)
LOGIN = f"""
mutation($input: LoginInput!) {{ login(input: $input) {{ accessToken {ERRORS} }} }}
"""
REFRESH = f"""
mutation($token: String!) {{ refreshToken(input: {{refreshToken: $token}}) {{ accessToken {ERRORS} }} }}
"""
REGISTER = f"""
mutation($input: RegisterInput!) {{ register(input: $input) {{ user {{ email }} {ERRORS} }} }}
"""
CREATE_USER = f"""
mutation($input: CreateUserInput!) {{ createUser(input: $input) {{ user {{ email }} {ERRORS} }} }}
"""
CREATE_PRODUCT = f"""
mutation($input: CreateProductInput!) {{ createProduct(input: $input) {{ product {{ sku }} {ERRORS} }} }}
"""
ME = "{ me { email } }"


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


def problems(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(error["field"], error["code"]) for error in payload["userErrors"]]


async def change_tenant(runtime: Runtime, tenant_id: uuid.UUID, **values: Any) -> None:
    async with runtime.db.transaction(ALL) as session:
        tenant = await session.get_one(Tenant, tenant_id)
        for name, value in values.items():
            setattr(tenant, name, value)


async def user_count(runtime: Runtime, tenant_id: uuid.UUID) -> int:
    async with runtime.db.session(ALL) as session:
        return int(
            await session.scalar(select(func.count()).select_from(User).where(User.tenant_id == tenant_id))
            or 0
        )


async def login(gql: GraphQLClient, account: Account) -> dict[str, Any]:
    variables = {"input": {"tenantSlug": account.tenant_slug, "email": account.email, "password": PASSWORD}}
    result: dict[str, Any] = (await gql(LOGIN, variables)).ok()["login"]
    return result


# ---- settings ---------------------------------------------------------------------------------


async def test_settings_are_merged_by_json_merge_patch(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    await change_tenant(
        runtime, admin.tenant_id, settings={"plan": "gold", "seats": 5, "ui": {"theme": "dark", "lang": "en"}}
    )
    patch: dict[str, Any] = {"ui": {"lang": None, "density": "compact"}, "seats": None, "tags": ["a", "b"]}
    patch["gone"] = None
    result = (await gql(PATCH, {"input": {"id": admin.tenant_gid, "patch": patch}}, token=admin.token)).ok()
    payload = result["patchTenantSettings"]
    assert payload["userErrors"] == []
    expected = {"plan": "gold", "ui": {"theme": "dark", "density": "compact"}, "tags": ["a", "b"]}
    assert payload["tenant"]["settings"] == expected
    async with runtime.db.session(ALL) as session:
        assert (await session.get_one(Tenant, admin.tenant_id)).settings == expected

    # Arrays replace; a nested object replaces a scalar.
    patch = {"tags": ["c"], "plan": {"name": "gold", "seats": 9}}
    payload = (await gql(PATCH, {"input": {"id": admin.tenant_gid, "patch": patch}}, token=admin.token)).ok()
    assert payload["patchTenantSettings"]["tenant"]["settings"] == {
        "plan": {"name": "gold", "seats": 9},
        "ui": {"theme": "dark", "density": "compact"},
        "tags": ["c"],
    }


async def test_settings_stay_bounded_and_finite(runtime: Runtime, http: httpx.AsyncClient) -> None:
    """A patch nesting deeper than the interpreter's stack, or carrying NaN or Infinity (Python
    reads them from a request), is a userError, never a 500; the settings stay as they were."""
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    headers = {"Authorization": f"Bearer {admin.token}", "Content-Type": "application/json"}

    async def patched(patch: object) -> dict[str, Any]:
        body = json.dumps({"query": PATCH, "variables": {"input": {"id": admin.tenant_gid, "patch": patch}}})
        answer = (await http.post("/graphql", content=body, headers=headers)).json()
        assert "errors" not in answer, answer
        result: dict[str, Any] = answer["data"]["patchTenantSettings"]
        return result

    deep: dict[str, Any] = {}
    node = deep
    for _ in range(600):  # deeper than merge_patch could recurse (the client's encoder allows this)
        node["d"] = {}
        node = node["d"]
    for patch in (deep, {"rate": float("nan")}, {"rate": float("inf")}):
        refused = await patched(patch)
        assert [e["code"] for e in refused["userErrors"]] == ["INVALID_SETTINGS"]
    async with runtime.db.session(ALL) as session:
        assert (await session.get_one(Tenant, admin.tenant_id)).settings == {}
    assert (await patched({"ok": {"a": {"b": 1}}}))["tenant"]["settings"] == {"ok": {"a": {"b": 1}}}


async def test_concurrent_patches_of_different_keys_both_land(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)

    async def patch(key: str) -> None:
        payload = (
            await gql(PATCH, {"input": {"id": admin.tenant_gid, "patch": {key: True}}}, token=admin.token)
        ).ok()["patchTenantSettings"]
        assert payload["userErrors"] == []

    await asyncio.gather(*(patch(f"flag{n}") for n in range(6)))
    async with runtime.db.session(ALL) as session:
        settings = (await session.get_one(Tenant, admin.tenant_id)).settings
    assert settings == {f"flag{n}": True for n in range(6)}


async def test_bad_patches_and_who_may_patch(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme", Role.USER)
    other_admin = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    for patch in ([1, 2], "text", 7):
        payload = (
            await gql(PATCH, {"input": {"id": admin.tenant_gid, "patch": patch}}, token=admin.token)
        ).ok()
        assert problems(payload["patchTenantSettings"]) == [(["input", "patch"], "INVALID_SETTINGS")], patch
    # A null patch is refused by the schema (JSON!).
    null = await gql(PATCH, {"input": {"id": admin.tenant_gid, "patch": None}}, token=admin.token)
    assert null.error_codes == ["BAD_USER_INPUT"]
    huge = {f"key{n}": "x" * 1000 for n in range(66)}
    payload = (await gql(PATCH, {"input": {"id": admin.tenant_gid, "patch": huge}}, token=admin.token)).ok()
    assert codes(payload["patchTenantSettings"]) == ["INVALID_SETTINGS"]

    refused = await gql(PATCH, {"input": {"id": admin.tenant_gid, "patch": {"a": 1}}}, token=user.token)
    assert refused.error_codes == ["FORBIDDEN"]
    # Another tenant's admin cannot even tell the tenant exists.
    foreign = await gql(
        PATCH, {"input": {"id": admin.tenant_gid, "patch": {"a": 1}}}, token=other_admin.token
    )
    assert foreign.error_codes == ["NOT_FOUND"]
    async with runtime.db.session(ALL) as session:
        assert (await session.get_one(Tenant, admin.tenant_id)).settings == {}


async def test_deprecated_update_tenant_settings_still_replaces(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    await change_tenant(runtime, admin.tenant_id, settings={"a": 1, "b": 2})
    variables = {"input": {"id": admin.tenant_gid, "settings": {"b": 3}}}
    payload = (await gql(UPDATE_TENANT, variables, token=admin.token)).ok()["updateTenant"]
    assert payload["tenant"]["settings"] == {"b": 3}


# ---- user count -------------------------------------------------------------------------------


async def test_user_count_is_one_batched_count(runtime: Runtime, gql: GraphQLClient) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    for slug, users in (("acme", 3), ("globex", 1), ("initech", 2)):
        for _ in range(users):
            await quick_account(runtime, slug)
    # A deleted (anonymised) user takes no place.
    await quick_account(runtime, "globex", status=UserStatus.DELETED)
    await gql.warm(platform.token)

    with count_statements(runtime.db.engine) as counter:
        nodes = (await gql(TENANTS, token=platform.token)).ok()["tenants"]["nodes"]
    assert {node["slug"]: node["userCount"] for node in nodes} == {
        PLATFORM_TENANT_SLUG: 1,
        "acme": 3,
        "globex": 1,
        "initech": 2,
    }
    counts = [s for s in counter.statements if "count(" in s.lower() and "users" in s]
    # The tenants' page, then one count of users for all four tenants.
    assert len(counts) == 1, counter.statements
    assert counter.count == 2, counter.statements

    # Only those who see the tenant's users see their number.
    member = await quick_account(runtime, "acme", Role.USER)
    assert (await gql(TENANT, token=member.token)).ok()["tenant"]["userCount"] is None
    auditor = await quick_account(runtime, "acme", Role.AUDITOR)
    assert (await gql(TENANT, token=auditor.token)).ok()["tenant"]["userCount"] is None
    reader = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    assert (await gql(TENANT, token=reader.token)).ok()["tenant"]["userCount"] == 6


# ---- quotas -----------------------------------------------------------------------------------


async def test_quotas_are_set_by_platform_admins_and_validated(runtime: Runtime, gql: GraphQLClient) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    ends = "2031-05-01T12:00:00+00:00"
    variables = {"input": {"id": admin.tenant_gid, "maxUsers": 5, "maxProducts": 0, "trialEndsAt": ends}}
    tenant = (await gql(LIMITS, variables, token=platform.token)).ok()["updateTenantLimits"]["tenant"]
    assert (tenant["maxUsers"], tenant["maxProducts"], tenant["trialEndsAt"]) == (5, 0, ends)
    # Omitted fields stay; null clears.
    variables = {"input": {"id": admin.tenant_gid, "maxProducts": None}}
    tenant = (await gql(LIMITS, variables, token=platform.token)).ok()["updateTenantLimits"]["tenant"]
    assert (tenant["maxUsers"], tenant["maxProducts"], tenant["trialEndsAt"]) == (5, None, ends)

    bad = {"id": admin.tenant_gid, "maxUsers": 0, "maxProducts": -1, "trialEndsAt": "2031-05-01T12:00:00"}
    payload = (await gql(LIMITS, {"input": bad}, token=platform.token)).ok()["updateTenantLimits"]
    assert problems(payload) == [
        (["input", "maxUsers"], "INVALID_QUOTA"),
        (["input", "maxProducts"], "INVALID_QUOTA"),
        (["input", "trialEndsAt"], "INVALID_QUOTA"),
    ]
    # A tenant admin cannot raise their own quota.
    refused = await gql(LIMITS, {"input": {"id": admin.tenant_gid, "maxUsers": 99}}, token=admin.token)
    assert refused.error_codes == ["FORBIDDEN"]


async def test_max_users_is_enforced_where_users_are_created(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    await quick_account(runtime, "acme", status=UserStatus.DELETED)  # takes no place
    await change_tenant(runtime, admin.tenant_id, max_users=2)

    async def sign_up(email: str) -> dict[str, Any]:
        variables = {"input": {"tenantSlug": "acme", "email": email, "fullName": "New", "password": PASSWORD}}
        payload: dict[str, Any] = (await gql(REGISTER, variables)).ok()["register"]
        return payload

    assert codes(await sign_up("first@acme.example")) == []
    full = await sign_up("second@acme.example")
    assert problems(full) == [(None, "QUOTA_EXCEEDED")] and full["user"] is None
    created = await gql(
        CREATE_USER,
        {"input": {"email": "third@acme.example", "fullName": "Third", "roles": ["USER"]}},
        token=admin.token,
    )
    assert codes(created.ok()["createUser"]) == ["QUOTA_EXCEEDED"]
    assert await user_count(runtime, admin.tenant_id) == 3  # admin, the deleted one, first

    # Raised, the quota lets one more in.
    await change_tenant(runtime, admin.tenant_id, max_users=3)
    assert codes(await sign_up("second@acme.example")) == []


async def test_concurrent_sign_ups_never_pass_the_quota(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    await change_tenant(runtime, admin.tenant_id, max_users=3)

    async def sign_up(n: int) -> list[str]:
        variables = {
            "input": {
                "tenantSlug": "acme",
                "email": f"u{n}@acme.example",
                "fullName": "U",
                "password": PASSWORD,
            }
        }
        return codes((await gql(REGISTER, variables)).ok()["register"])

    results = await asyncio.gather(*(sign_up(n) for n in range(5)))
    assert sorted(results) == [[], [], ["QUOTA_EXCEEDED"], ["QUOTA_EXCEEDED"], ["QUOTA_EXCEEDED"]]
    assert await user_count(runtime, admin.tenant_id) == 3


async def test_max_products_is_enforced_on_create(runtime: Runtime, gql: GraphQLClient) -> None:
    manager = await quick_account(runtime, "acme", Role.MANAGER)
    await change_tenant(runtime, manager.tenant_id, max_products=1)

    async def create(sku: str) -> dict[str, Any]:
        variables = {"input": {"sku": sku, "name": sku, "basePrice": {"amount": 100, "currency": "EUR"}}}
        payload: dict[str, Any] = (await gql(CREATE_PRODUCT, variables, token=manager.token)).ok()[
            "createProduct"
        ]
        return payload

    assert (await create("one"))["product"] == {"sku": "ONE"}
    assert codes(await create("two")) == ["QUOTA_EXCEEDED"]
    async with runtime.db.session(ALL) as session:
        assert await session.scalar(select(func.count()).select_from(Product)) == 1


# ---- trial ------------------------------------------------------------------------------------


async def test_a_trial_past_its_end_cannot_sign_in(runtime: Runtime, gql: GraphQLClient) -> None:
    user = await quick_account(runtime, "trial", Role.USER)
    now = datetime.now(UTC)
    await change_tenant(
        runtime, user.tenant_id, status=TenantStatus.TRIAL, trial_ends_at=now + timedelta(days=1)
    )
    assert (await login(gql, user))["accessToken"]
    assert (await gql(BY_SLUG, {"slug": "trial"})).ok()["tenantBySlug"]["slug"] == "trial"

    await change_tenant(runtime, user.tenant_id, trial_ends_at=now - timedelta(seconds=1))
    assert problems(await login(gql, user)) == [(None, "TRIAL_EXPIRED")]
    refreshed = (await gql(REFRESH, {"token": user.refresh_token})).ok()["refreshToken"]
    assert codes(refreshed) == ["TRIAL_EXPIRED"] and refreshed["accessToken"] is None
    assert (await gql(BY_SLUG, {"slug": "trial"})).ok()["tenantBySlug"] is None

    # Converted to ACTIVE, the old trial end no longer matters.
    await change_tenant(runtime, user.tenant_id, status=TenantStatus.ACTIVE)
    assert (await login(gql, user))["accessToken"]


# ---- soft delete ------------------------------------------------------------------------------


async def test_deleted_tenants_are_signed_out_and_hidden(runtime: Runtime, gql: GraphQLClient) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    user = await quick_account(runtime, "acme", Role.USER)
    await quick_account(runtime, "globex")
    assert (await gql(ME, token=user.token)).status == 200

    deleted = (await gql(DELETE, {"input": {"id": user.tenant_gid}}, token=platform.token)).ok()[
        "deleteTenant"
    ]
    assert deleted["userErrors"] == [] and deleted["tenant"]["deletedAt"] is not None
    # Signed out everywhere, and no way back in.
    assert (await gql(ME, token=user.token)).status == 401
    assert codes(await login(gql, user)) == ["INVALID_CREDENTIALS"]
    assert codes((await gql(REFRESH, {"token": user.refresh_token})).ok()["refreshToken"]) == [
        "SESSION_REVOKED"
    ]
    # Hidden from lists and lookups, unless platform admins ask for it.
    assert (await gql(BY_SLUG, {"slug": "acme"})).ok()["tenantBySlug"] is None
    listed = (await gql(TENANTS, token=platform.token)).ok()["tenants"]["nodes"]
    assert {node["slug"] for node in listed} == {PLATFORM_TENANT_SLUG, "globex"}
    variables = {"filter": {"includeDeleted": True}}
    listed = (await gql(TENANTS, variables, token=platform.token)).ok()["tenants"]["nodes"]
    assert {node["slug"] for node in listed} == {PLATFORM_TENANT_SLUG, "globex", "acme"}
    found = (await gql(TENANT, {"id": user.tenant_gid}, token=platform.token)).ok()["tenant"]
    assert found["deletedAt"] == deleted["tenant"]["deletedAt"]

    again = (await gql(DELETE, {"input": {"id": user.tenant_gid}}, token=platform.token)).ok()["deleteTenant"]
    assert codes(again) == ["TENANT_DELETED"]
    own = (await gql(DELETE, {"input": {"id": platform.tenant_gid}}, token=platform.token)).ok()[
        "deleteTenant"
    ]
    assert codes(own) == ["CANNOT_DELETE_OWN_TENANT"]

    restored = (await gql(RESTORE, {"input": {"id": user.tenant_gid}}, token=platform.token)).ok()[
        "restoreTenant"
    ]
    assert restored["userErrors"] == [] and restored["tenant"]["deletedAt"] is None
    assert (await login(gql, user))["accessToken"]
    assert (await gql(BY_SLUG, {"slug": "acme"})).ok()["tenantBySlug"]["slug"] == "acme"
    not_deleted = (await gql(RESTORE, {"input": {"id": user.tenant_gid}}, token=platform.token)).ok()
    assert codes(not_deleted["restoreTenant"]) == ["TENANT_NOT_DELETED"]


async def test_restore_only_within_the_period_and_by_platform_admins(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    refused = await gql(DELETE, {"input": {"id": admin.tenant_gid}}, token=admin.token)
    assert refused.error_codes == ["FORBIDDEN"]

    days = runtime.settings.tenant_restore_days
    await change_tenant(
        runtime, admin.tenant_id, deleted_at=datetime.now(UTC) - timedelta(days=days, hours=1)
    )
    late = (await gql(RESTORE, {"input": {"id": admin.tenant_gid}}, token=platform.token)).ok()[
        "restoreTenant"
    ]
    assert codes(late) == ["RESTORE_PERIOD_OVER"]
    await change_tenant(runtime, admin.tenant_id, deleted_at=datetime.now(UTC) - timedelta(days=days - 1))
    in_time = (await gql(RESTORE, {"input": {"id": admin.tenant_gid}}, token=platform.token)).ok()
    assert in_time["restoreTenant"]["userErrors"] == []


# ---- branding ---------------------------------------------------------------------------------


async def test_branding_is_set_by_tenant_admins_and_public_by_slug(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    empty = (await gql(BY_SLUG, {"slug": "acme"})).ok()["tenantBySlug"]["branding"]
    assert set(empty.values()) == {None}
    values = {
        "displayName": "  Acme Rockets ",
        "logoUrl": "https://cdn.acme.example/logo.svg",
        "faviconUrl": "https://cdn.acme.example/favicon.ico",
        "primaryColor": "#1a2b3c",
        "secondaryColor": "#FFFFFF",
        "supportUrl": "https://help.acme.example/",
        "termsUrl": "https://acme.example/terms",
        "privacyUrl": "https://acme.example/privacy",
        "emailFromName": "Acme Support",
    }
    payload = (await gql(BRANDING, {"input": values}, token=admin.token)).ok()["updateTenantBranding"]
    expected = {
        **values,
        "displayName": "Acme Rockets",
        "primaryColor": "#1A2B3C",
        "logoDarkUrl": None,
    }
    assert payload == {"branding": expected, "userErrors": []}
    # Anyone sees it with the tenant by slug, members with their tenant.
    assert (await gql(BY_SLUG, {"slug": "acme"})).ok()["tenantBySlug"] == {
        "slug": "acme",
        "name": "Acme",
        "branding": expected,
    }
    assert (await gql(TENANT, token=admin.token)).ok()["tenant"]["branding"] == expected

    # Omitted fields stay; null and blank clear.
    changes = {"logoDarkUrl": "https://cdn.acme.example/dark.svg", "supportUrl": None, "termsUrl": " "}
    payload = (await gql(BRANDING, {"input": changes}, token=admin.token)).ok()["updateTenantBranding"]
    assert payload["branding"] == {
        **expected,
        "logoDarkUrl": "https://cdn.acme.example/dark.svg",
        "supportUrl": None,
        "termsUrl": None,
    }


async def test_branding_input_is_validated(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    bad = {
        "logoUrl": "http://cdn.acme.example/logo.svg",
        "logoDarkUrl": "javascript:alert(1)",
        "faviconUrl": "https://user:secret@acme.example/f.ico",
        "supportUrl": "https://acme.example/help me",
        "termsUrl": "https://acme.example/" + "t" * 2000,
        "privacyUrl": "/privacy",
        "primaryColor": "#12345",
        "secondaryColor": "red",
        "displayName": "D" * 201,
        "emailFromName": "Acme\r\nBcc: victim@example.com",
    }
    payload = (await gql(BRANDING, {"input": bad}, token=admin.token)).ok()["updateTenantBranding"]
    assert payload["branding"] is None
    assert sorted(problems(payload)) == sorted(
        [
            (["input", "logoUrl"], "INVALID_URL"),
            (["input", "logoDarkUrl"], "INVALID_URL"),
            (["input", "faviconUrl"], "INVALID_URL"),
            (["input", "supportUrl"], "INVALID_URL"),
            (["input", "termsUrl"], "TOO_LONG"),
            (["input", "privacyUrl"], "INVALID_URL"),
            (["input", "primaryColor"], "INVALID_COLOR"),
            (["input", "secondaryColor"], "INVALID_COLOR"),
            (["input", "displayName"], "TOO_LONG"),
            (["input", "emailFromName"], "INVALID_TEXT"),
        ]
    )
    assert set((await gql(TENANT, token=admin.token)).ok()["tenant"]["branding"].values()) == {None}


async def test_who_sets_branding(runtime: Runtime, gql: GraphQLClient) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme", Role.USER)
    other = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    assert (await gql(BRANDING, {"input": {"displayName": "X"}}, token=user.token)).error_codes == [
        "FORBIDDEN"
    ]
    foreign = await gql(
        BRANDING, {"input": {"tenantId": admin.tenant_gid, "displayName": "X"}}, token=other.token
    )
    assert foreign.error_codes == ["NOT_FOUND"]
    # A platform admin names the tenant.
    variables = {"input": {"tenantId": admin.tenant_gid, "displayName": "By Platform"}}
    payload = (await gql(BRANDING, variables, token=platform.token)).ok()["updateTenantBranding"]
    assert payload["branding"]["displayName"] == "By Platform"
    assert (await gql(BY_SLUG, {"slug": "acme"})).ok()["tenantBySlug"]["branding"][
        "displayName"
    ] == "By Platform"
    assert (await gql(BY_SLUG, {"slug": "globex"})).ok()["tenantBySlug"]["branding"]["displayName"] is None
