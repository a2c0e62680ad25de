"""Platform impersonation: a platform admin acts as a tenant admin with a short-lived, marked token;
every audit entry names the impersonator; credentials cannot be changed with it; ending it is logged."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from core.permissions import Role
from core.scope import TenantScope
from models.audit import AuditEntry
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient
from tests.support.identity import PASSWORD, Identity, global_id

IMPERSONATE = """
mutation($input: ImpersonateUserInput!) {
  impersonateUser(input: $input) { accessToken expiresAt user { id email } userErrors { code } }
}
"""
END = "mutation { endImpersonation { ended } }"
ME = "query { me { id email } }"
CREATE_CATEGORY = """
mutation($input: CreateCategoryInput!) {
  createCategory(input: $input) { category { id } userErrors { code } }
}
"""
CHANGE_PASSWORD = """
mutation($input: ChangePasswordInput!) { changePassword(input: $input) { userErrors { code } } }
"""
CREATE_KEY = """
mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret userErrors { code } } }
"""
SETUP_MFA = "mutation { setupMfa { userErrors { code } } }"


async def entries(runtime: Runtime, action: str) -> list[AuditEntry]:
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        statement = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.created_at)
        return list(await session.scalars(statement))


async def test_a_platform_admin_impersonates_a_tenant_admin(
    gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    target = await identity.account("imp-shop", Role.TENANT_ADMIN)
    admin = await identity.platform_admin()
    started = await gql(
        IMPERSONATE, {"input": {"userId": target.gid, "reason": "ticket 42"}}, token=admin.token
    )
    answer = started.ok()["impersonateUser"]
    assert answer["user"]["email"] == target.email
    token = answer["accessToken"]
    assert (await gql(ME, token=token)).ok()["me"]["email"] == target.email

    (start,) = await entries(runtime, "impersonateUser")
    assert (start.actor_id, start.outcome, start.target_type, start.target_id) == (
        admin.user_id,
        "SUCCESS",
        "User",
        str(target.user_id),
    )
    assert start.details == {"reason": "ticket 42"}

    made = await gql(CREATE_CATEGORY, {"input": {"name": "By support"}}, token=token)
    assert made.ok()["createCategory"]["userErrors"] == []
    (change,) = await entries(runtime, "createCategory")
    assert (change.actor_id, change.impersonator_id, change.tenant_id) == (
        target.user_id,
        admin.user_id,
        target.tenant_id,
    )

    assert (await gql(END, token=token)).ok()["endImpersonation"]["ended"] is True
    (ended,) = await entries(runtime, "endImpersonation")
    assert (ended.outcome, ended.actor_id, ended.impersonator_id) == (
        "SUCCESS",
        target.user_id,
        admin.user_id,
    )
    assert (await gql(ME, token=token)).error_codes == ["UNAUTHENTICATED"]
    # The tenant admin's own session was not touched.
    assert (await gql(ME, token=target.token)).ok()["me"]["email"] == target.email


async def test_an_impersonation_token_cannot_change_credentials(
    gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    target = await identity.account("imp-shop", Role.TENANT_ADMIN)
    admin = await identity.platform_admin()
    started = await gql(
        IMPERSONATE, {"input": {"userId": target.gid, "reason": "support"}}, token=admin.token
    )
    token = started.ok()["impersonateUser"]["accessToken"]

    refusals = [
        await gql(
            CHANGE_PASSWORD,
            {"input": {"currentPassword": PASSWORD, "newPassword": "another-long-pass-1"}},
            token=token,
        ),
        await gql(CREATE_KEY, {"input": {"name": "k", "scopes": ["ORDERS_READ"]}}, token=token),
        await gql(SETUP_MFA, token=token),
        await gql(IMPERSONATE, {"input": {"userId": target.gid, "reason": "again"}}, token=token),
    ]
    for refused in refusals:
        assert len(refused.errors) == 1, refused.body
        (error,) = refused.errors
        assert (error["extensions"]["code"], error["extensions"].get("reason")) == (
            "FORBIDDEN",
            "IMPERSONATION_FORBIDDEN",
        ), refused.body
    (denied,) = await entries(runtime, "changePassword")
    assert (denied.outcome, denied.impersonator_id) == ("FORBIDDEN", admin.user_id)
    # The password stands.
    assert (await identity.login("imp-shop", target.email, PASSWORD)).ok()["login"]["accessToken"]


async def test_only_platform_admins_and_only_of_tenant_admins(
    gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    customer = await identity.account("imp-shop", Role.USER)
    tenant_admin = await identity.account("imp-shop", Role.TENANT_ADMIN)
    admin = await identity.platform_admin()
    of_customer = await gql(
        IMPERSONATE, {"input": {"userId": customer.gid, "reason": "x"}}, token=admin.token
    )
    assert of_customer.error_codes == ["FORBIDDEN"]
    by_tenant_admin = await gql(
        IMPERSONATE, {"input": {"userId": customer.gid, "reason": "x"}}, token=tenant_admin.token
    )
    assert by_tenant_admin.error_codes == ["FORBIDDEN"]
    blank = await gql(IMPERSONATE, {"input": {"userId": tenant_admin.gid, "reason": "  "}}, token=admin.token)
    assert blank.error_codes == ["BAD_USER_INPUT"]
    nobody = global_id("User", uuid.uuid4())
    missing = await gql(IMPERSONATE, {"input": {"userId": nobody, "reason": "x"}}, token=admin.token)
    assert missing.error_codes == ["NOT_FOUND"]
    assert [r.outcome for r in await entries(runtime, "impersonateUser")] == [
        "FORBIDDEN",
        "FORBIDDEN",
        "ERROR",
        "ERROR",
    ]
    assert (await gql(END, token=tenant_admin.token)).error_codes == ["FORBIDDEN"]
