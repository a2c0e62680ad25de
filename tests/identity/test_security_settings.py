"""Tenant security settings (seed 003) against real PostgreSQL and Redis: who reads and sets them,
their bounds, and their enforcement — the minimum password length at register and
changePassword, the session lifetime capping refresh tokens, and MFA required for admins (a login
answers MFA_SETUP_REQUIRED with a challenge to set MFA up with, which then signs in)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update as sql_update

from core.permissions import Role
from core.scope import TenantScope
from models.base import utcnow
from models.identity.mfa import MfaChallenge
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient
from tests.support.identity import PASSWORD, Account, Identity, quick_account
from tests.support.mail import mailed_token
from tests.support.mfa import (
    DISABLE,
    code_of,
    codes,
    complete,
    enable_mfa,
    login,
    setup,
    verify,
)

SETTINGS = "{ securitySettings { mfaRequiredForAdmins minPasswordLength sessionLifetimeSeconds updatedAt } }"
UPDATE = """
mutation Update($input: UpdateSecuritySettingsInput!) {
  updateSecuritySettings(input: $input) {
    securitySettings { mfaRequiredForAdmins minPasswordLength sessionLifetimeSeconds }
    userErrors { field code message }
  }
}
"""
REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { accessToken userErrors { field code message } }
}
"""
CHANGE_PASSWORD = """
mutation Change($input: ChangePasswordInput!) {
  changePassword(input: $input) { user { email } userErrors { field code message } }
}
"""
REFRESH = """
mutation Refresh($input: RefreshInput!) {
  refreshToken(input: $input) { refreshToken refreshTokenExpiresAt userErrors { code } }
}
"""
CREATE_USER = """
mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } userErrors { code } } }
"""
CREATE_INVITE = """
mutation($input: CreateInviteInput!) { createInvite(input: $input) { userErrors { code } } }
"""
ACCEPT_INVITE = """
mutation($input: AcceptInviteInput!) { acceptInvite(input: $input) { accessToken userErrors { field code } } }
"""

DEFAULTS = {"mfaRequiredForAdmins": False, "minPasswordLength": 8, "sessionLifetimeSeconds": None}


async def update(gql: GraphQLClient, admin: Account, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql(UPDATE, {"input": changes}, token=admin.token)).ok()[
        "updateSecuritySettings"
    ]
    return payload


def seconds_from_now(stamp: str) -> float:
    return (datetime.fromisoformat(stamp) - utcnow()).total_seconds()


async def test_tenant_admins_read_and_change_their_tenants_settings(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    other_admin = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme", Role.USER, Role.MANAGER)

    read = (await gql(SETTINGS, token=admin.token)).ok()["securitySettings"]
    assert read == {**DEFAULTS, "updatedAt": None}

    changed = await update(
        gql, admin, mfaRequiredForAdmins=True, minPasswordLength=12, sessionLifetimeSeconds=3600
    )
    expected = {"mfaRequiredForAdmins": True, "minPasswordLength": 12, "sessionLifetimeSeconds": 3600}
    assert changed == {"securitySettings": expected, "userErrors": []}
    # Omitted fields stay; null removes the session cap.
    assert (await update(gql, admin, minPasswordLength=10))["securitySettings"] == {
        **expected,
        "minPasswordLength": 10,
    }
    cleared = await update(gql, admin, sessionLifetimeSeconds=None)
    assert cleared["securitySettings"]["sessionLifetimeSeconds"] is None
    assert (await gql(SETTINGS, token=admin.token)).ok()["securitySettings"]["updatedAt"] is not None

    # Another tenant's settings are its own.
    assert (await gql(SETTINGS, token=other_admin.token)).ok()["securitySettings"]["minPasswordLength"] == 8
    assert (await gql(SETTINGS, token=user.token)).error_codes == ["FORBIDDEN"]
    assert (await gql(UPDATE, {"input": {"minPasswordLength": 20}}, token=user.token)).error_codes == [
        "FORBIDDEN"
    ]
    assert (await gql(SETTINGS)).error_codes == ["UNAUTHENTICATED"]


async def test_out_of_bounds_settings_are_user_errors(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    refused = await update(
        gql, admin, minPasswordLength=7, sessionLifetimeSeconds=60, mfaRequiredForAdmins=True
    )
    assert refused == {
        "securitySettings": None,
        "userErrors": [
            {
                "field": ["input", "minPasswordLength"],
                "code": "OUT_OF_RANGE",
                "message": "Choose from 8 to 128.",
            },
            {
                "field": ["input", "sessionLifetimeSeconds"],
                "code": "OUT_OF_RANGE",
                "message": "Choose from 900 to 31536000.",
            },
        ],
    }
    assert codes(await update(gql, admin, minPasswordLength=129)) == ["OUT_OF_RANGE"]
    assert codes(await update(gql, admin, sessionLifetimeSeconds=366 * 24 * 3600)) == ["OUT_OF_RANGE"]
    # Nothing of a refused update was kept.
    assert (await gql(SETTINGS, token=admin.token)).ok()["securitySettings"]["mfaRequiredForAdmins"] is False


async def test_the_minimum_password_length_applies_to_register_and_change_password(
    runtime: Runtime, gql: GraphQLClient, identity: Identity
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    await identity.tenant("globex")
    await update(gql, admin, minPasswordLength=16)
    eleven = "eleven-char"

    def registration(slug: str, email: str, password: str) -> dict[str, Any]:
        return {
            "input": {
                "tenantSlug": slug,
                "email": email,
                "fullName": "Ada",
                "password": password,
                "acceptTerms": True,
            }
        }

    refused = (await gql(REGISTER, registration("acme", "ada@acme.example", eleven))).ok()["register"]
    assert refused["accessToken"] is None
    assert refused["userErrors"] == [
        {
            "field": ["input", "password"],
            "code": "WEAK_PASSWORD",
            "message": "This tenant requires passwords of at least 16 characters.",
        }
    ]
    other = (await gql(REGISTER, registration("globex", "ada@globex.example", eleven))).ok()["register"]
    assert other["userErrors"] == [] and other["accessToken"]
    long_enough = (await gql(REGISTER, registration("acme", "ada@acme.example", "sixteen-chars-ok"))).ok()
    assert long_enough["register"]["userErrors"] == []

    change = {"input": {"currentPassword": PASSWORD, "newPassword": eleven}}
    changed = (await gql(CHANGE_PASSWORD, change, token=admin.token)).ok()["changePassword"]
    assert codes(changed) == ["WEAK_PASSWORD"] and changed["userErrors"][0]["field"] == [
        "input",
        "newPassword",
    ]
    globex_user = await quick_account(runtime, "globex")
    assert (await gql(CHANGE_PASSWORD, change, token=globex_user.token)).ok()["changePassword"][
        "userErrors"
    ] == []


async def test_the_session_lifetime_caps_refresh_tokens(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme")
    other = await quick_account(runtime, "globex")
    await update(gql, admin, sessionLifetimeSeconds=3600)

    signed_in = await login(gql, user)
    assert 3590 < seconds_from_now(signed_in["refreshTokenExpiresAt"]) <= 3600
    refreshed = (await gql(REFRESH, {"input": {"refreshToken": signed_in["refreshToken"]}})).ok()[
        "refreshToken"
    ]
    # Rotation does not extend the session past its lifetime, counted from the sign-in.
    assert refreshed["refreshTokenExpiresAt"] <= signed_in["refreshTokenExpiresAt"]
    assert refreshed["userErrors"] == []

    default = runtime.settings.refresh_token_ttl_seconds
    assert seconds_from_now((await login(gql, other))["refreshTokenExpiresAt"]) > default - 10
    await update(gql, admin, sessionLifetimeSeconds=None)
    assert seconds_from_now((await login(gql, user))["refreshTokenExpiresAt"]) > default - 10


async def test_an_admin_without_mfa_sets_it_up_from_the_login_and_is_signed_in(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme")
    await update(gql, admin, mfaRequiredForAdmins=True)

    answer = await login(gql, admin)
    assert [e["code"] for e in answer["userErrors"]] == ["MFA_SETUP_REQUIRED"]
    assert (answer["accessToken"], answer["refreshToken"], answer["mfaRequired"]) == (None, None, False)
    challenge = answer["mfaChallenge"]
    assert (await login(gql, user))["accessToken"]  # the requirement is the admins'

    # The setup challenge is for setting up only.
    assert codes(await complete(gql, challenge, code="123456")) == ["INVALID_MFA_CHALLENGE"]
    started = await setup(gql, challenge=challenge)
    assert started["userErrors"] == [] and len(started["recoveryCodes"]) == 10
    assert codes(await verify(gql, "000000", challenge=challenge)) == ["INVALID_MFA_CODE"]
    verified = await verify(gql, code_of(started["secret"]), challenge=challenge)
    assert verified["userErrors"] == [] and verified["accessToken"] and verified["refreshToken"]
    assert verified["user"] == {"email": admin.email, "mfaEnabled": True}
    assert codes(await setup(gql, challenge=challenge)) == ["MFA_CHALLENGE_USED"]

    # From now on the admin signs in with a code, and may not turn MFA off.
    again = await login(gql, admin)
    assert again["mfaRequired"] is True and again["userErrors"] == []
    assert codes(await setup(gql, challenge=again["mfaChallenge"])) == ["INVALID_MFA_CHALLENGE"]
    signed_in = await complete(gql, again["mfaChallenge"], code=code_of(started["secret"], 1))
    off = await gql(
        DISABLE, {"input": {"code": code_of(started["secret"], 1)}}, token=signed_in["accessToken"]
    )
    assert codes(off.ok()["disableMfa"]) == ["MFA_REQUIRED_BY_TENANT"]


async def test_an_expired_setup_challenge_is_refused(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    await update(gql, admin, mfaRequiredForAdmins=True)
    answer = await login(gql, admin)
    assert seconds_from_now(answer["mfaChallengeExpiresAt"]) <= runtime.settings.mfa_challenge_ttl_seconds

    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        await session.execute(
            sql_update(MfaChallenge)
            .where(MfaChallenge.user_id == admin.user_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert codes(await setup(gql, challenge=answer["mfaChallenge"])) == ["MFA_CHALLENGE_EXPIRED"]


async def test_an_admin_with_mfa_already_is_asked_for_a_code(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    enabled = await enable_mfa(gql, admin)
    await update(gql, admin, mfaRequiredForAdmins=True)
    answer = await login(gql, admin)
    assert answer["mfaRequired"] is True and answer["userErrors"] == []
    assert (await complete(gql, answer["mfaChallenge"], recovery_code=enabled.recovery_codes[0]))[
        "accessToken"
    ]


async def test_the_minimum_password_length_applies_to_admin_created_users_and_invites(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    await update(gql, admin, minPasswordLength=16)
    eleven, sixteen = "eleven-char", "sixteen-chars-ok"

    async def create_user(password: str) -> dict[str, Any]:
        values = {"email": f"user{len(password)}@acme.example", "fullName": "Ada", "password": password}
        payload: dict[str, Any] = (await gql(CREATE_USER, {"input": values}, token=admin.token)).ok()
        return payload["createUser"]

    short = await create_user(eleven)
    assert codes(short) == ["WEAK_PASSWORD"] and short["user"] is None
    assert (await create_user(sixteen))["userErrors"] == []

    invited = await gql(CREATE_INVITE, {"input": {"email": "invited@acme.example"}}, token=admin.token)
    assert invited.ok()["createInvite"]["userErrors"] == []
    token = await mailed_token(runtime, "invited@acme.example")

    async def accept(password: str) -> dict[str, Any]:
        payload: dict[str, Any] = (
            await gql(ACCEPT_INVITE, {"input": {"token": token, "password": password, "fullName": "Invited"}})
        ).ok()
        return payload["acceptInvite"]

    refused = await accept(eleven)
    assert codes(refused) == ["WEAK_PASSWORD"] and refused["accessToken"] is None, refused
    accepted = await accept(sixteen)
    assert accepted["userErrors"] == [] and accepted["accessToken"]
