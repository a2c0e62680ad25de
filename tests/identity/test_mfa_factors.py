"""MFA factors against real PostgreSQL and Redis: the SMS factor (setup with a factor id, texted
codes at setup, login and on request, wrong tries counted), new recovery codes, a tenant admin's
MFA reset (audited, impersonators refused, tenant-isolated), and completeMfaLogin keeping the
login's device, user agent and address on the session it opens."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import replace
from typing import Any

from sqlalchemy import select, update

from core.permissions import Role
from core.scope import TenantScope
from models.audit import AuditEntry
from models.identity.accounts import AuthSession, User
from models.identity.mfa import MfaChallenge, MfaChallengePurpose, MfaCredential, MfaMethod
from server.runtime import Runtime
from services.identity import auth, mfa
from services.identity.mfa import SecondFactor
from services.identity.security import IssuedChallenge
from services.identity.sessions import Device
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, Identity, global_id, quick_account, service_context
from tests.support.mfa import ERRORS, code_of, codes, complete, enable_mfa, login
from tests.support.recovery import texts_to

ALL = TenantScope.all_tenants()
PHONE = "+49301234567"
SETUP = f"""
mutation($input: SetupMfaInput) {{
  setupMfa(input: $input) {{
    factorId method sentTo codeExpiresAt secret otpauthUri recoveryCodes {ERRORS}
  }}
}}
"""
VERIFY = f"""
mutation($input: VerifyMfaSetupInput!) {{
  verifyMfaSetup(input: $input) {{ user {{ mfaEnabled }} {ERRORS} }}
}}
"""
REGENERATE = f"""
mutation($input: RegenerateRecoveryCodesInput!) {{
  regenerateRecoveryCodes(input: $input) {{ recoveryCodes {ERRORS} }}
}}
"""
REQUEST_CODE = f"mutation {{ requestMfaCode {{ sentTo expiresAt {ERRORS} }} }}"
DISABLE = (
    f"mutation($input: DisableMfaInput!) {{ disableMfa(input: $input) {{ user {{ mfaEnabled }} {ERRORS} }} }}"
)
RESET = f"""
mutation($input: UserIdInput!) {{ resetUserMfa(input: $input) {{ user {{ id mfaEnabled }} {ERRORS} }} }}
"""
IMPERSONATE = "mutation($input: ImpersonateUserInput!) { impersonateUser(input: $input) { accessToken } }"
SESSIONS = "{ mySessions(first: 5) { edges { node { ipAddress userAgent deviceId deviceName isCurrent } } } }"
LOGIN_WITH_DEVICE = f"""
mutation($input: LoginInput!) {{ login(input: $input) {{ accessToken mfaRequired mfaChallenge {ERRORS} }} }}
"""


async def with_phone(runtime: Runtime, account: Account, phone: str = PHONE) -> Account:
    async with runtime.db.transaction(ALL) as session:
        await session.execute(update(User).where(User.id == account.user_id).values(phone=phone))
    return account


async def last_texted_code(runtime: Runtime, phone: str = PHONE) -> str:
    found = re.match(r"(\d{6}) is your .* sign-in code\.", (await texts_to(runtime, phone))[-1].body)
    assert found is not None
    return found.group(1)


async def call(gql: GraphQLClient, document: str, field: str, token: str | None, **inputs: Any) -> Any:
    return (await gql(document, {"input": inputs} if inputs else None, token=token)).ok()[field]


async def sms_account(runtime: Runtime, gql: GraphQLClient, slug: str = "acme") -> Account:
    """A signed-in user with a verified SMS factor."""
    account = await with_phone(runtime, await quick_account(runtime, slug))
    started = await call(gql, SETUP, "setupMfa", account.token, method="SMS")
    assert started["userErrors"] == [], started
    done = await call(gql, VERIFY, "verifyMfaSetup", account.token, code=await last_texted_code(runtime))
    assert done["user"] == {"mfaEnabled": True}, done
    return account


def other(code: str) -> str:
    return "000000" if code != "000000" else "111111"


async def challenges(runtime: Runtime, user_id: uuid.UUID) -> list[MfaChallenge]:
    async with runtime.db.session(ALL) as session:
        found = await session.scalars(
            select(MfaChallenge).where(MfaChallenge.user_id == user_id).order_by(MfaChallenge.created_at)
        )
        return list(found)


# ---- the SMS factor ----------------------------------------------------------------------------


async def test_sms_setup_texts_a_code_and_verifies_with_the_factor_id(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    account = await with_phone(runtime, await quick_account(runtime, "acme"))
    first = await call(gql, SETUP, "setupMfa", account.token, method="SMS", label="Work phone")
    assert (first["method"], first["sentTo"], first["secret"], first["otpauthUri"]) == (
        "SMS",
        "+49*******67",
        None,
        None,
    )
    assert first["codeExpiresAt"] and len(first["recoveryCodes"]) == 10 and first["userErrors"] == []
    stale_code = await last_texted_code(runtime)
    # Setting up again makes a new factor; the first one's id and code no longer work.
    second = await call(gql, SETUP, "setupMfa", account.token, method="SMS")
    assert second["factorId"] != first["factorId"]
    code = await last_texted_code(runtime)
    async with runtime.db.session(ALL) as session:
        credential = await session.get_one(MfaCredential, account.user_id)
    assert (credential.method, credential.phone, credential.secret_ciphertext, str(credential.factor_id)) == (
        MfaMethod.SMS,
        PHONE,
        None,
        second["factorId"],
    )
    [*_, pending] = await challenges(runtime, account.user_id)
    assert pending.code_hash is not None and code not in pending.code_hash
    assert pending.code_hash != hashlib.sha256(code.encode()).hexdigest()  # keyed, not a bare hash

    old_factor = await call(
        gql, VERIFY, "verifyMfaSetup", account.token, code=code, factorId=first["factorId"]
    )
    assert codes(old_factor) == ["INVALID_MFA_FACTOR"]
    too_long = await call(gql, VERIFY, "verifyMfaSetup", account.token, code=code, factorId="f" * 37)
    assert codes(too_long) == ["TOO_LONG"]
    if stale_code != code:
        stale = await call(gql, VERIFY, "verifyMfaSetup", account.token, code=stale_code)
        assert codes(stale) == ["INVALID_MFA_CODE"]
    wrong = await call(gql, VERIFY, "verifyMfaSetup", account.token, code=other(code))
    assert codes(wrong) == ["INVALID_MFA_CODE"]
    [*_, counted] = await challenges(runtime, account.user_id)
    assert counted.attempts >= 1  # the wrong try was committed before the answer

    done = await call(gql, VERIFY, "verifyMfaSetup", account.token, code=code, factorId=second["factorId"])
    assert done == {"user": {"mfaEnabled": True}, "userErrors": []}


async def test_sms_login_texts_a_code_that_completes_it_once(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await sms_account(runtime, gql)
    texted_before = len(await texts_to(runtime, PHONE))

    answer = await login(gql, account)
    assert answer["mfaRequired"] is True and answer["accessToken"] is None
    # The answer says which factor to answer with, and where its code went.
    assert (answer["mfaMethod"], answer["mfaCodeSentTo"]) == ("SMS", "+49*******67")
    assert len(await texts_to(runtime, PHONE)) == texted_before + 1
    code = await last_texted_code(runtime)

    assert codes(await complete(gql, answer["mfaChallenge"], code=other(code))) == ["INVALID_MFA_CODE"]
    done = await complete(gql, answer["mfaChallenge"], code=code)
    assert done["userErrors"] == [] and done["accessToken"]
    assert codes(await complete(gql, answer["mfaChallenge"], code=code)) == ["MFA_CHALLENGE_USED"]
    # A code belongs to its login's challenge: the next login's challenge wants its own.
    again = await login(gql, account)
    if await last_texted_code(runtime) != code:
        assert codes(await complete(gql, again["mfaChallenge"], code=code)) == ["INVALID_MFA_CODE"]


async def test_wrong_sms_codes_use_up_the_challenge(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await sms_account(runtime, gql)
    answer = await login(gql, account)
    code = await last_texted_code(runtime)
    for _ in range(runtime.settings.verification_max_attempts):
        assert codes(await complete(gql, answer["mfaChallenge"], code=other(code))) == ["INVALID_MFA_CODE"]
    # The right code after too many wrong ones: refused, a new login is needed.
    assert codes(await complete(gql, answer["mfaChallenge"], code=code)) == ["VERIFICATION_ATTEMPTS_EXCEEDED"]
    [login_row] = [
        c for c in await challenges(runtime, account.user_id) if c.purpose == MfaChallengePurpose.LOGIN
    ]
    assert login_row.attempts == runtime.settings.verification_max_attempts and login_row.used_at is None


async def test_sms_setup_needs_a_phone_number(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    refused = await call(gql, SETUP, "setupMfa", account.token, method="SMS")
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [(["input", "method"], "NO_PHONE")]
    assert refused["factorId"] is None
    too_long = await call(gql, SETUP, "setupMfa", account.token, label="x" * 101)
    assert codes(too_long) == ["TOO_LONG"]


async def test_requested_sms_code_turns_mfa_off(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await sms_account(runtime, gql)
    assert codes(await call(gql, DISABLE, "disableMfa", account.token, code="123456")) == ["INVALID_MFA_CODE"]
    sent = await call(gql, REQUEST_CODE, "requestMfaCode", account.token)
    assert sent["sentTo"] == "+49*******67" and sent["expiresAt"] and sent["userErrors"] == []
    first = await last_texted_code(runtime)
    await call(gql, REQUEST_CODE, "requestMfaCode", account.token)
    code = await last_texted_code(runtime)
    if first != code:  # the newer code replaced the first
        assert codes(await call(gql, DISABLE, "disableMfa", account.token, code=first)) == [
            "INVALID_MFA_CODE"
        ]
    done = await call(gql, DISABLE, "disableMfa", account.token, code=code)
    assert done == {"user": {"mfaEnabled": False}, "userErrors": []}
    # With MFA off (no factor), no code is sent.
    assert codes(await call(gql, REQUEST_CODE, "requestMfaCode", account.token)) == ["NOT_SMS_FACTOR"]


async def test_a_totp_factor_gets_no_texted_code(runtime: Runtime, gql: GraphQLClient) -> None:
    enabled = await enable_mfa(gql, await with_phone(runtime, await quick_account(runtime, "acme")))
    assert codes(await call(gql, REQUEST_CODE, "requestMfaCode", enabled.account.token)) == ["NOT_SMS_FACTOR"]
    answer = await login(gql, enabled.account)
    assert (answer["mfaRequired"], answer["mfaMethod"], answer["mfaCodeSentTo"]) == (True, "TOTP", None)
    assert await texts_to(runtime, PHONE) == []


# ---- recovery codes --------------------------------------------------------------------------


async def test_regenerated_recovery_codes_replace_the_old_ones(runtime: Runtime, gql: GraphQLClient) -> None:
    enabled = await enable_mfa(gql, await quick_account(runtime, "acme"))
    token = enabled.account.token
    assert codes(await call(gql, REGENERATE, "regenerateRecoveryCodes", token, code="000000")) == [
        "INVALID_MFA_CODE"
    ]
    # The code that verified the setup was spent: no replay.
    replay = await call(gql, REGENERATE, "regenerateRecoveryCodes", token, code=code_of(enabled.secret))
    assert codes(replay) == ["MFA_CODE_REUSED"]

    fresh = await call(gql, REGENERATE, "regenerateRecoveryCodes", token, code=code_of(enabled.secret, 1))
    new_codes = fresh["recoveryCodes"]
    assert fresh["userErrors"] == [] and len(set(new_codes)) == 10
    assert not set(new_codes) & set(enabled.recovery_codes)

    old = await complete(
        gql, (await login(gql, enabled.account))["mfaChallenge"], recovery_code=enabled.recovery_codes[0]
    )
    assert codes(old) == ["INVALID_RECOVERY_CODE"]
    new = await complete(gql, (await login(gql, enabled.account))["mfaChallenge"], recovery_code=new_codes[0])
    assert new["userErrors"] == [] and new["accessToken"]


async def test_recovery_codes_need_mfa_on_and_a_session(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    off = await call(gql, REGENERATE, "regenerateRecoveryCodes", account.token, code="123456")
    assert codes(off) == ["MFA_NOT_ENABLED"]
    anonymous = await gql(REGENERATE, {"input": {"code": "123456"}})
    assert anonymous.error_codes == ["UNAUTHENTICATED"]
    long = await call(gql, REGENERATE, "regenerateRecoveryCodes", account.token, code="1" * 33)
    assert codes(long) == ["TOO_LONG"]


async def test_sms_user_regenerates_with_a_requested_code(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await sms_account(runtime, gql)
    await call(gql, REQUEST_CODE, "requestMfaCode", account.token)
    fresh = await call(
        gql, REGENERATE, "regenerateRecoveryCodes", account.token, code=await last_texted_code(runtime)
    )
    assert fresh["userErrors"] == [] and len(fresh["recoveryCodes"]) == 10
    # The code was spent.
    again = await call(
        gql, REGENERATE, "regenerateRecoveryCodes", account.token, code=await last_texted_code(runtime)
    )
    assert codes(again) == ["INVALID_MFA_CODE"]


# ---- an admin's reset --------------------------------------------------------------------------


async def test_tenant_admin_resets_a_users_mfa(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    enabled = await enable_mfa(gql, await quick_account(runtime, "acme"))
    pending = await login(gql, enabled.account)

    done = await call(gql, RESET, "resetUserMfa", admin.token, id=enabled.account.gid)
    assert done == {"user": {"id": enabled.account.gid, "mfaEnabled": False}, "userErrors": []}
    async with runtime.db.session(ALL) as session:
        assert await session.get(MfaCredential, enabled.account.user_id) is None
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "resetUserMfa"))
    assert entry is not None
    assert (entry.actor_id, entry.outcome, entry.tenant_id) == (admin.user_id, "SUCCESS", admin.tenant_id)
    # The open challenge ends; a login now answers tokens; the old recovery codes are gone.
    assert codes(await complete(gql, pending["mfaChallenge"], code=code_of(enabled.secret, 1))) == [
        "MFA_CHALLENGE_USED"
    ]
    assert (await login(gql, enabled.account))["accessToken"]
    again = await call(gql, RESET, "resetUserMfa", admin.token, id=enabled.account.gid)
    assert codes(again) == ["MFA_NOT_ENABLED"]


async def test_mfa_reset_is_for_admins_of_the_users_tenant(runtime: Runtime, gql: GraphQLClient) -> None:
    enabled = await enable_mfa(gql, await quick_account(runtime, "acme"))
    plain = await quick_account(runtime, "acme")
    foreign_admin = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    variables = {"input": {"id": enabled.account.gid}}
    assert (await gql(RESET, variables, token=plain.token)).error_codes == ["FORBIDDEN"]
    assert (await gql(RESET, variables, token=foreign_admin.token)).error_codes == ["NOT_FOUND"]
    unknown = {"input": {"id": global_id("User", uuid.uuid4())}}
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    assert (await gql(RESET, unknown, token=admin.token)).error_codes == ["NOT_FOUND"]
    async with runtime.db.session(ALL) as session:
        user = await session.get_one(User, enabled.account.user_id)
    assert user.mfa_enabled is True


async def test_an_admin_cannot_reset_their_own_mfa(runtime: Runtime, gql: GraphQLClient) -> None:
    # disableMfa needs a current code (and obeys the tenant's MFA rule); a self-reset would not.
    enabled = await enable_mfa(gql, await quick_account(runtime, "acme", Role.TENANT_ADMIN))
    refused = await gql(RESET, {"input": {"id": enabled.account.gid}}, token=enabled.account.token)
    assert refused.error_codes == ["FORBIDDEN"]
    async with runtime.db.session(ALL) as session:
        assert (await session.get_one(User, enabled.account.user_id)).mfa_enabled is True
        assert await session.get(MfaCredential, enabled.account.user_id) is not None


async def test_a_tenant_admin_cannot_reset_a_platform_admins_mfa(
    runtime: Runtime, gql: GraphQLClient, identity: Identity
) -> None:
    platform = await enable_mfa(gql, await identity.platform_admin())
    tenant_admin = await quick_account(runtime, platform.account.tenant_slug, Role.TENANT_ADMIN)
    refused = await gql(RESET, {"input": {"id": platform.account.gid}}, token=tenant_admin.token)
    assert refused.error_codes == ["FORBIDDEN"]
    async with runtime.db.session(ALL) as session:
        assert (await session.get_one(User, platform.account.user_id)).mfa_enabled is True


async def test_codes_in_other_scripts_digits_are_wrong_codes(runtime: Runtime, gql: GraphQLClient) -> None:
    # Arabic-Indic digits pass str.isdigit: they are refused as a wrong code, not a server error.
    enabled = await enable_mfa(gql, await quick_account(runtime, "acme"))
    pending = await login(gql, enabled.account)
    answer = await complete(gql, pending["mfaChallenge"], code="\u0661\u0662\u0663\u0664\u0665\u0666")
    assert codes(answer) == ["INVALID_MFA_CODE"] and answer["accessToken"] is None
    token = enabled.account.token
    refused = await call(gql, REGENERATE, "regenerateRecoveryCodes", token, code="\u0661" * 6)
    assert codes(refused) == ["INVALID_MFA_CODE"]


async def test_an_impersonator_cannot_reset_mfa(
    runtime: Runtime, gql: GraphQLClient, identity: Identity
) -> None:
    target = await identity.account("acme", Role.TENANT_ADMIN)
    enabled = await enable_mfa(gql, await quick_account(runtime, "acme"))
    platform = await identity.platform_admin()
    started = await gql(
        IMPERSONATE, {"input": {"userId": target.gid, "reason": "ticket 7"}}, token=platform.token
    )
    token = started.ok()["impersonateUser"]["accessToken"]
    refused = await gql(RESET, {"input": {"id": enabled.account.gid}}, token=token)
    assert [e["extensions"].get("reason") for e in refused.errors] == ["IMPERSONATION_FORBIDDEN"]
    async with runtime.db.session(ALL) as session:
        assert (await session.get_one(User, enabled.account.user_id)).mfa_enabled is True


# ---- the login's client on the session ---------------------------------------------------------


async def test_complete_mfa_login_keeps_the_logins_device(runtime: Runtime, gql: GraphQLClient) -> None:
    enabled = await enable_mfa(gql, await quick_account(runtime, "acme"))
    account = enabled.account
    variables = {
        "input": {
            "tenantSlug": account.tenant_slug,
            "email": account.email,
            "password": account.password,
            "deviceId": "device-42",
            "deviceName": "Ada's phone",
        }
    }
    started = (await gql(LOGIN_WITH_DEVICE, variables, headers={"User-Agent": "LoginBrowser/1.0"})).ok()[
        "login"
    ]
    assert started["mfaRequired"] is True
    completing = {"input": {"challenge": started["mfaChallenge"], "code": code_of(enabled.secret, 1)}}
    done = (
        await gql(
            "mutation($input: CompleteMfaLoginInput!) { completeMfaLogin(input: $input) { accessToken } }",
            completing,
            headers={"User-Agent": "OtherBrowser/2.0"},
        )
    ).ok()["completeMfaLogin"]
    mine = (await gql(SESSIONS, token=done["accessToken"])).ok()["mySessions"]["edges"]
    current = next(edge["node"] for edge in mine if edge["node"]["isCurrent"])
    assert (current["deviceId"], current["deviceName"], current["userAgent"]) == (
        "device-42",
        "Ada's phone",
        "LoginBrowser/1.0",
    )


async def test_the_session_has_the_logins_address(runtime: Runtime, gql: GraphQLClient) -> None:
    enabled = await enable_mfa(gql, await quick_account(runtime, "acme"))
    account = enabled.account
    at_login = replace(service_context(runtime), client_ip="198.51.100.20", user_agent="Login/1")
    issued = await auth.login(
        at_login, account.tenant_slug, account.email, account.password, device=Device("d-1", "Desk")
    )
    assert isinstance(issued, IssuedChallenge)
    at_completion = replace(service_context(runtime), client_ip="192.0.2.99", user_agent="Other/2")
    signed_in = await mfa.complete_mfa_login(
        at_completion, issued.challenge, SecondFactor(code=code_of(enabled.secret, 1))
    )
    async with runtime.db.session(ALL) as session:
        row = await session.get_one(AuthSession, signed_in.principal.session_id)
    assert (row.client_ip, row.user_agent, row.device_id, row.device_name) == (
        "198.51.100.20",
        "Login/1",
        "d-1",
        "Desk",
    )
