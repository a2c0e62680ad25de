"""Sign-in against real PostgreSQL: register, login, access-token checks, refresh-token rotation and
reuse detection, logout, password change, and the signed-in user's own profile."""

from __future__ import annotations

import asyncio
import time
import uuid
import warnings
from typing import Any

import jwt
from sqlalchemy import select, update

from core.permissions import Role
from core.scope import TenantScope
from models.identity.accounts import User, UserStatus
from server.runtime import Runtime
from services.identity.auth import start_session
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from tests.conftest import TEST_SIGNING_KEY
from tests.support.graphql import GraphQLClient, GraphQLResult
from tests.support.identity import PASSWORD, Account, Identity, quick_account, service_context

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) {
    accessToken refreshToken accessTokenExpiresAt refreshTokenExpiresAt
    user { id email fullName status roles tenant { slug } }
    userErrors { field code message }
  }
}
"""

REFRESH = """
mutation Refresh($input: RefreshInput!) {
  refreshToken(input: $input) {
    accessToken refreshToken
    user { email }
    userErrors { field code message }
  }
}
"""

ME = "{ me { id email fullName roles tenant { slug } } }"
LOGOUT = "mutation { logout { sessionsEnded userErrors { code } } }"
LOGOUT_ALL = "mutation { logoutAll { sessionsEnded userErrors { code } } }"

CHANGE_PASSWORD = """
mutation Change($input: ChangePasswordInput!) {
  changePassword(input: $input) { user { email } userErrors { field code message } }
}
"""

UPDATE_ME = """
mutation UpdateMe($input: UpdateMeInput!) {
  updateMe(input: $input) { user { fullName } userErrors { field code message } }
}
"""

SUSPEND_USER = """
mutation Suspend($input: UserIdInput!) {
  suspendUser(input: $input) { user { status } userErrors { code } }
}
"""

SUSPEND_TENANT = """
mutation Suspend($input: TenantIdInput!) {
  suspendTenant(input: $input) { tenant { status } userErrors { code } }
}
"""


async def register(
    gql: GraphQLClient, slug: str, email: str, password: str = PASSWORD, full_name: str = "Ada Lovelace"
) -> dict[str, Any]:
    variables = {"input": {"tenantSlug": slug, "email": email, "fullName": full_name, "password": password}}
    result: dict[str, Any] = (await gql(REGISTER, variables)).ok()["register"]
    return result


async def refresh(gql: GraphQLClient, token: str) -> dict[str, Any]:
    result: dict[str, Any] = (await gql(REFRESH, {"input": {"refreshToken": token}})).ok()["refreshToken"]
    return result


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


def assert_unauthenticated(result: GraphQLResult) -> None:
    assert result.status == 401, result.body
    assert result.data is None
    assert result.error_codes == ["UNAUTHENTICATED"], result.body
    assert result.headers["www-authenticate"] == "Bearer"


async def assert_signed_in(gql: GraphQLClient, token: str, email: str) -> None:
    me = (await gql(ME, token=token)).ok()["me"]
    assert me["email"] == email


async def another_session(runtime: Runtime, account: Account) -> dict[str, Any]:
    """A second sign-in of ``account``: {"accessToken", "refreshToken"}."""
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        user = await session.scalar(select(User).where(User.id == account.user_id))
        assert user is not None
        signed_in = await start_session(service_context(runtime), session, user)
    return {"accessToken": signed_in.access_token, "refreshToken": signed_in.refresh_token}


# ---- register -------------------------------------------------------------------------------


async def test_register_into_tenant_by_slug(identity: Identity, gql: GraphQLClient) -> None:
    await identity.tenant("acme")
    payload = await register(gql, "ACME", "  Ada@Acme.Example ", full_name="  Ada Lovelace ")

    assert payload["userErrors"] == []
    assert payload["user"] == {
        "id": payload["user"]["id"],
        "email": "ada@acme.example",
        "fullName": "Ada Lovelace",
        "status": "ACTIVE",
        "roles": ["USER"],
        "tenant": {"slug": "acme"},
    }
    assert payload["accessToken"] and payload["refreshToken"].startswith("rt_")
    assert payload["accessTokenExpiresAt"] < payload["refreshTokenExpiresAt"]
    claims = jwt.decode(payload["accessToken"], options={"verify_signature": False})
    assert claims["roles"] == ["USER"]
    # The tokens work at once: the new user is signed in.
    me = (await gql(ME, token=payload["accessToken"])).ok()["me"]
    assert me == {
        "id": payload["user"]["id"],
        "email": "ada@acme.example",
        "fullName": "Ada Lovelace",
        "roles": ["USER"],
        "tenant": {"slug": "acme"},
    }
    # And the password works for a later login.
    login = (await identity.login("acme", "ada@acme.example", PASSWORD)).ok()["login"]
    assert login["user"]["id"] == payload["user"]["id"]


async def test_register_duplicate_email_conflicts_only_within_the_tenant(
    identity: Identity, gql: GraphQLClient
) -> None:
    await identity.tenant("acme")
    await identity.tenant("globex")
    first = await register(gql, "acme", "sam@shared.example")
    assert first["userErrors"] == []

    again = await register(gql, "acme", "SAM@shared.example")
    assert again["accessToken"] is None and again["user"] is None
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [(["input", "email"], "CONFLICT")]

    elsewhere = await register(gql, "globex", "sam@shared.example")
    assert elsewhere["userErrors"] == []
    assert elsewhere["user"]["tenant"] == {"slug": "globex"}
    assert elsewhere["user"]["id"] != first["user"]["id"]


async def test_register_rejects_weak_short_password_and_malformed_email(
    identity: Identity, gql: GraphQLClient
) -> None:
    await identity.tenant("acme")
    common = await register(gql, "acme", "a@acme.example", password="Password123")
    assert [(e["field"], e["code"]) for e in common["userErrors"]] == [
        (["input", "password"], "WEAK_PASSWORD")
    ]
    assert "common" in common["userErrors"][0]["message"]

    short = await register(gql, "acme", "b@acme.example", password="x7#kQ2")
    assert [(e["field"], e["code"]) for e in short["userErrors"]] == [
        (["input", "password"], "WEAK_PASSWORD")
    ]
    assert "at least 8" in short["userErrors"][0]["message"]

    malformed = await register(gql, "acme", "not-an-email")
    assert [(e["field"], e["code"]) for e in malformed["userErrors"]] == [
        (["input", "email"], "INVALID_EMAIL")
    ]

    # Every problem is reported at once.
    both = await register(gql, "acme", "nope@", password="short")
    assert sorted(tuple(e["field"]) for e in both["userErrors"]) == [
        ("input", "email"),
        ("input", "password"),
    ]
    for payload in (common, short, malformed, both):
        assert payload["accessToken"] is None and payload["user"] is None
    # Nothing was created: the email is still free.
    assert (await register(gql, "acme", "a@acme.example"))["userErrors"] == []


async def test_register_unknown_tenant(gql: GraphQLClient) -> None:
    payload = await register(gql, "no-such-tenant", "a@b.example")
    assert payload["accessToken"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "tenantSlug"], "UNKNOWN_TENANT")
    ]


# ---- login ----------------------------------------------------------------------------------


async def test_login_success(runtime: Runtime, identity: Identity) -> None:
    account = await quick_account(runtime, "acme", Role.MANAGER, email="max@acme.example")
    login = (await identity.login("acme", "MAX@acme.example", account.password)).ok()["login"]
    assert login["userErrors"] == []
    assert login["user"] == {
        "id": account.gid,
        "email": "max@acme.example",
        "roles": ["MANAGER"],
        "tenant": {"slug": "acme"},
    }
    claims = jwt.decode(login["accessToken"], options={"verify_signature": False})
    assert claims["sub"] == str(account.user_id) and claims["tid"] == str(account.tenant_id)
    assert claims["roles"] == ["MANAGER"]
    assert login["refreshToken"] != account.refresh_token


async def test_login_failures_all_look_the_same(runtime: Runtime, identity: Identity) -> None:
    account = await quick_account(runtime, "acme")
    await identity.tenant("globex")
    attempts = [
        ("acme", account.email, "wrong-password-123"),
        ("acme", "nobody@acme.example", account.password),
        ("no-such-tenant", account.email, account.password),
        # A real user, but of another tenant.
        ("globex", account.email, account.password),
    ]
    answers = []
    for slug, email, password in attempts:
        login = (await identity.login(slug, email, password)).ok()["login"]
        assert login["accessToken"] is None and login["user"] is None
        answers.append(login["userErrors"])
    assert answers[0] == [
        {
            "field": None,
            "code": "INVALID_CREDENTIALS",
            "message": "The tenant, email or password is not correct.",
        }
    ]
    assert all(answer == answers[0] for answer in answers)


async def test_login_of_suspended_user(runtime: Runtime, identity: Identity, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme")
    suspended = (await gql(SUSPEND_USER, {"input": {"id": user.gid}}, token=admin.token)).ok()
    assert suspended["suspendUser"] == {"user": {"status": "SUSPENDED"}, "userErrors": []}

    login = (await identity.login("acme", user.email, user.password)).ok()["login"]
    assert login["accessToken"] is None
    assert codes(login) == ["ACCOUNT_SUSPENDED"]
    # A wrong password still gets the generic answer: suspension is told only to the owner.
    wrong = (await identity.login("acme", user.email, "not-the-password")).ok()["login"]
    assert codes(wrong) == ["INVALID_CREDENTIALS"]


async def test_login_into_suspended_tenant(runtime: Runtime, identity: Identity, gql: GraphQLClient) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    user = await quick_account(runtime, "acme")
    result = await gql(SUSPEND_TENANT, {"input": {"id": user.tenant_gid}}, token=platform.token)
    assert result.ok()["suspendTenant"] == {"tenant": {"status": "SUSPENDED"}, "userErrors": []}

    login = (await identity.login("acme", user.email, user.password)).ok()["login"]
    assert login["accessToken"] is None
    assert codes(login) == ["TENANT_SUSPENDED"]


# ---- access tokens --------------------------------------------------------------------------


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _sign(claims: dict[str, Any], key: str | None = TEST_SIGNING_KEY, algorithm: str = "HS256") -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyjwt warns about short HS512 keys
        return jwt.encode(claims, key, algorithm=algorithm)


async def test_bad_access_tokens_are_rejected(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    claims = _claims(account.token)
    now = int(time.time())
    # Re-signing the genuine claims gives a token that works: each forgery below differs in one way.
    await assert_signed_in(gql, _sign(claims), account.email)

    header, payload, signature = account.token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    forged = {
        "expired": _sign({**claims, "iat": now - 3600, "exp": now - 60}),
        "tampered signature": f"{header}.{payload}.{flipped}",
        # Claims raised to PLATFORM_ADMIN under the genuine token's signature.
        "tampered claims": _sign({**claims, "roles": ["PLATFORM_ADMIN"]}).rsplit(".", 1)[0] + f".{signature}",
        "alg none": _sign(claims, key=None, algorithm="none"),
        "wrong issuer": _sign({**claims, "iss": "someone-else"}),
        "wrong audience": _sign({**claims, "aud": "another-api"}),
        "HS512 while HS256 is pinned": _sign(claims, algorithm="HS512"),
        "missing session claim": _sign({k: v for k, v in claims.items() if k != "sid"}),
        "unknown session": _sign({**claims, "sid": str(uuid.uuid4())}),
        "not a jwt": "garbage",
    }
    for name, token in forged.items():
        result = await gql(ME, token=token)
        assert result.status == 401, (name, result.body)
        assert_unauthenticated(result)
    expired = await gql(ME, token=forged["expired"])
    assert expired.errors[0]["message"] == "The access token has expired."
    # The genuine token still works after all that.
    await assert_signed_in(gql, account.token, account.email)


async def test_token_of_logged_out_session(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    ended = (await gql(LOGOUT, token=account.token)).ok()["logout"]
    assert ended == {"sessionsEnded": 1, "userErrors": []}
    result = await gql(ME, token=account.token)
    assert_unauthenticated(result)
    assert result.errors[0]["message"] == "This session has ended; sign in again."


async def test_anonymous_me_is_unauthenticated(gql: GraphQLClient) -> None:
    result = await gql(ME)
    assert result.data is None
    assert result.error_codes == ["UNAUTHENTICATED"]
    assert result.errors[0]["path"] == ["me"]


# ---- refresh tokens -------------------------------------------------------------------------


async def test_refresh_rotates_tokens(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    rotated = await refresh(gql, account.refresh_token)
    assert rotated["userErrors"] == []
    assert rotated["user"] == {"email": account.email}
    assert rotated["refreshToken"] != account.refresh_token
    assert rotated["accessToken"] != account.token
    # Same session: the new access token carries the same session id.
    assert _claims(rotated["accessToken"])["sid"] == _claims(account.token)["sid"]
    # Both access tokens work until the session ends.
    await assert_signed_in(gql, account.token, account.email)
    await assert_signed_in(gql, rotated["accessToken"], account.email)
    # The new refresh token rotates again.
    again = await refresh(gql, rotated["refreshToken"])
    assert again["userErrors"] == [] and again["refreshToken"] not in (
        rotated["refreshToken"],
        account.refresh_token,
    )

    assert (await gql(LOGOUT, token=again["accessToken"])).ok()["logout"]["sessionsEnded"] == 1
    for token in (account.token, rotated["accessToken"], again["accessToken"]):
        assert_unauthenticated(await gql(ME, token=token))
    after_logout = await refresh(gql, again["refreshToken"])
    assert after_logout["accessToken"] is None and codes(after_logout) == ["SESSION_REVOKED"]


async def test_reused_refresh_token_revokes_the_session(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    other_session = await another_session(runtime, account)
    rotated = await refresh(gql, account.refresh_token)
    assert rotated["userErrors"] == []

    replay = await refresh(gql, account.refresh_token)
    assert replay["accessToken"] is None and replay["refreshToken"] is None
    assert [(e["field"], e["code"]) for e in replay["userErrors"]] == [
        (["input", "refreshToken"], "REFRESH_TOKEN_REUSED")
    ]
    # The whole session is over: the newest refresh token and every access token of it.
    newest = await refresh(gql, rotated["refreshToken"])
    assert newest["accessToken"] is None and codes(newest) == ["SESSION_REVOKED"]
    assert_unauthenticated(await gql(ME, token=rotated["accessToken"]))
    assert_unauthenticated(await gql(ME, token=account.token))
    # Another session of the same user is not touched.
    await assert_signed_in(gql, other_session["accessToken"], account.email)
    # A replay again still answers REUSED (and revokes nothing more).
    assert codes(await refresh(gql, account.refresh_token)) == ["REFRESH_TOKEN_REUSED"]


async def test_unknown_refresh_token(gql: GraphQLClient) -> None:
    payload = await refresh(gql, "rt_not-a-real-token")
    assert payload["accessToken"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "refreshToken"], "INVALID_REFRESH_TOKEN")
    ]


async def test_suspended_user_cannot_refresh(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme")
    (await gql(SUSPEND_USER, {"input": {"id": user.gid}}, token=admin.token)).ok()
    # Suspension ended the session, so its refresh token is dead.
    payload = await refresh(gql, user.refresh_token)
    assert payload["accessToken"] is None and codes(payload) == ["SESSION_REVOKED"]


async def test_refresh_refused_when_user_suspended_without_session_revocation(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    # Status changed behind the API's back (e.g. by an operator in SQL): refresh still checks it.
    user = await quick_account(runtime, "acme")
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        await session.execute(update(User).where(User.id == user.user_id).values(status=UserStatus.SUSPENDED))
    payload = await refresh(gql, user.refresh_token)
    assert payload["accessToken"] is None and codes(payload) == ["ACCOUNT_SUSPENDED"]
    assert_unauthenticated(await gql(ME, token=user.token))


async def test_concurrent_refreshes_with_one_token(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    first, second = await asyncio.gather(
        refresh(gql, account.refresh_token), refresh(gql, account.refresh_token)
    )
    winners = [p for p in (first, second) if p["accessToken"]]
    losers = [p for p in (first, second) if not p["accessToken"]]
    assert len(winners) == 1 and len(losers) == 1, (first, second)
    assert winners[0]["userErrors"] == []
    assert codes(losers[0]) == ["REFRESH_TOKEN_REUSED"]


# ---- logout and password change -------------------------------------------------------------


async def test_logout_ends_only_the_current_session(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    other = await another_session(runtime, account)
    ended = (await gql(LOGOUT, token=account.token)).ok()["logout"]
    assert ended == {"sessionsEnded": 1, "userErrors": []}
    assert_unauthenticated(await gql(ME, token=account.token))
    await assert_signed_in(gql, other["accessToken"], account.email)
    assert (await refresh(gql, other["refreshToken"]))["userErrors"] == []


async def test_logout_all_ends_every_session(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    bystander = await quick_account(runtime, "acme")
    second = await another_session(runtime, account)
    third = await another_session(runtime, account)
    ended = (await gql(LOGOUT_ALL, token=second["accessToken"])).ok()["logoutAll"]
    assert ended == {"sessionsEnded": 3, "userErrors": []}
    for token in (account.token, second["accessToken"], third["accessToken"]):
        assert_unauthenticated(await gql(ME, token=token))
    assert codes(await refresh(gql, third["refreshToken"])) == ["SESSION_REVOKED"]
    # Other users keep their sessions.
    await assert_signed_in(gql, bystander.token, bystander.email)


async def test_change_password_with_wrong_current_password(
    runtime: Runtime, identity: Identity, gql: GraphQLClient
) -> None:
    account = await quick_account(runtime, "acme")
    variables = {"input": {"currentPassword": "not-my-password", "newPassword": "brand-new-secret-42"}}
    payload = (await gql(CHANGE_PASSWORD, variables, token=account.token)).ok()["changePassword"]
    assert payload["user"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "currentPassword"], "INVALID_CREDENTIALS")
    ]
    # Unchanged: the old password still signs in.
    assert (await identity.login("acme", account.email, account.password)).ok()["login"]["accessToken"]


async def test_change_password_rejects_weak_new_password(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    variables = {"input": {"currentPassword": account.password, "newPassword": "letmein"}}
    payload = (await gql(CHANGE_PASSWORD, variables, token=account.token)).ok()["changePassword"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "newPassword"], "WEAK_PASSWORD")
    ]


async def test_change_password_revokes_other_sessions(
    runtime: Runtime, identity: Identity, gql: GraphQLClient
) -> None:
    account = await quick_account(runtime, "acme")
    other = await another_session(runtime, account)
    new_password = "brand-new-secret-42"
    variables = {"input": {"currentPassword": account.password, "newPassword": new_password}}
    payload = (await gql(CHANGE_PASSWORD, variables, token=account.token)).ok()["changePassword"]
    assert payload == {"user": {"email": account.email}, "userErrors": []}

    await assert_signed_in(gql, account.token, account.email)
    assert (await refresh(gql, account.refresh_token))["userErrors"] == []
    assert_unauthenticated(await gql(ME, token=other["accessToken"]))
    assert codes(await refresh(gql, other["refreshToken"])) == ["SESSION_REVOKED"]

    old = (await identity.login("acme", account.email, account.password)).ok()["login"]
    assert old["accessToken"] is None and codes(old) == ["INVALID_CREDENTIALS"]
    new = (await identity.login("acme", account.email, new_password)).ok()["login"]
    assert new["userErrors"] == [] and new["user"]["id"] == account.gid


# ---- me / updateMe --------------------------------------------------------------------------


async def test_me_and_update_me(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme", Role.SUPPORT_AGENT, full_name="Old Name")
    me = (await gql(ME, token=account.token)).ok()["me"]
    assert me == {
        "id": account.gid,
        "email": account.email,
        "fullName": "Old Name",
        "roles": ["SUPPORT_AGENT"],
        "tenant": {"slug": "acme"},
    }

    updated = (await gql(UPDATE_ME, {"input": {"fullName": "  New Name "}}, token=account.token)).ok()
    assert updated["updateMe"] == {"user": {"fullName": "New Name"}, "userErrors": []}
    assert (await gql(ME, token=account.token)).ok()["me"]["fullName"] == "New Name"

    empty = (await gql(UPDATE_ME, {"input": {"fullName": "   "}}, token=account.token)).ok()["updateMe"]
    assert empty["user"] is None
    assert [(e["field"], e["code"]) for e in empty["userErrors"]] == [(["input", "fullName"], "REQUIRED")]
    assert (await gql(ME, token=account.token)).ok()["me"]["fullName"] == "New Name"
