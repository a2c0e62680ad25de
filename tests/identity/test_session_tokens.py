"""Refresh and logout with the refresh token alone, no access token: the token in the input, or
in the httpOnly refresh cookie of a browser (rotated into the cookie, cleared when it is of no more
use), and what each bad token answers."""

from __future__ import annotations

from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any

from sqlalchemy import select, update

from core.scope import TenantScope
from models.base import utcnow
from models.identity.accounts import AuthSession, RefreshToken
from server.runtime import Runtime
from services.identity.tokens import hash_refresh_token
from tests.support.graphql import GraphQLClient, GraphQLResult
from tests.support.identity import quick_account

ALL = TenantScope.all_tenants()
REFRESH = """
mutation Refresh($input: RefreshInput) {
  refreshToken(input: $input) {
    accessToken refreshToken refreshTokenExpiresAt expiresIn tokenType
    userErrors { field code message }
  }
}
"""
REFRESH_WITHOUT_INPUT = "mutation { refreshToken { accessToken refreshToken userErrors { field code } } }"
LOGOUT = """
mutation Logout($input: LogoutInput) {
  logout(input: $input) { sessionsEnded userErrors { field code message } }
}
"""
ME = "{ me { email } }"
COOKIE = "tenantgraph_refresh"


def cookie_header(token: str) -> dict[str, str]:
    return {"Cookie": f"{COOKIE}={token}"}


def set_cookies(result: GraphQLResult) -> dict[str, Any]:
    """The Set-Cookie headers of the answer, by cookie name."""
    cookies: dict[str, Any] = {}
    for header in result.headers.get_list("set-cookie"):
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(header)
        cookies.update(parsed)
    return cookies


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def refresh_by_cookie(gql: GraphQLClient, token: str) -> GraphQLResult:
    return await gql(REFRESH, {}, headers=cookie_header(token))


async def session_of(runtime: Runtime, refresh_token: str) -> AuthSession:
    async with runtime.db.session(ALL) as session:
        stored = await session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(refresh_token))
        )
        assert stored is not None
        return await session.get_one(AuthSession, stored.session_id)


def assert_cookie_set(result: GraphQLResult, runtime: Runtime) -> str:
    """The rotated token the answer sets as the refresh cookie, after checking its attributes."""
    cookie = set_cookies(result)[COOKIE]
    assert cookie.value
    assert (cookie["httponly"], cookie["secure"], cookie["samesite"], cookie["path"]) == (
        True,
        True,
        "lax",
        "/",
    )
    lifetime = runtime.settings.refresh_token_ttl_seconds
    assert lifetime - 5 <= int(cookie["max-age"]) <= lifetime
    value: str = cookie.value
    return value


def assert_cookie_cleared(result: GraphQLResult) -> None:
    cookie = set_cookies(result)[COOKIE]
    assert (cookie.value, cookie["max-age"], cookie["path"]) == ("", "0", "/"), cookie
    assert (cookie["httponly"], cookie["secure"]) == (True, True)


async def expire(runtime: Runtime, refresh_token: str) -> None:
    async with runtime.db.transaction(ALL) as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == hash_refresh_token(refresh_token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


# ---- refresh by cookie -----------------------------------------------------------------------


async def test_refresh_by_cookie_rotates_the_cookie(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    result = await refresh_by_cookie(gql, account.refresh_token)
    payload = result.ok()["refreshToken"]
    assert payload["userErrors"] == [] and payload["accessToken"]
    # The rotated token travels in the cookie only: scripts never see it.
    assert payload["refreshToken"] is None and payload["refreshTokenExpiresAt"]
    assert (payload["expiresIn"], payload["tokenType"]) == (
        runtime.settings.access_token_ttl_seconds,
        "Bearer",
    )
    rotated = assert_cookie_set(result, runtime)
    assert rotated != account.refresh_token
    assert (await gql(ME, token=payload["accessToken"])).ok() == {"me": {"email": account.email}}

    # The cookie's new token works the same way (a mutation without input too).
    again = await gql(REFRESH_WITHOUT_INPUT, headers=cookie_header(rotated))
    assert again.ok()["refreshToken"]["userErrors"] == []
    assert assert_cookie_set(again, runtime) not in (rotated, account.refresh_token)
    # The first one came back: reuse ends the session, and the cookie is cleared.
    replay = await refresh_by_cookie(gql, account.refresh_token)
    assert codes(replay.ok()["refreshToken"]) == ["REFRESH_TOKEN_REUSED"]
    assert_cookie_cleared(replay)
    assert (await session_of(runtime, rotated)).revoke_reason == "refresh_token_reuse"


async def test_the_inputs_token_goes_before_the_cookie(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    browser = await quick_account(runtime, "acme")
    variables = {"input": {"refreshToken": account.refresh_token}}
    result = await gql(REFRESH, variables, headers=cookie_header(browser.refresh_token))
    payload = result.ok()["refreshToken"]
    assert payload["userErrors"] == [] and payload["refreshToken"] not in (None, account.refresh_token)
    assert COOKIE not in set_cookies(result)
    # The cookie's token was not used.
    assert (await refresh_by_cookie(gql, browser.refresh_token)).ok()["refreshToken"]["userErrors"] == []


async def test_bad_refresh_cookies_are_user_errors(runtime: Runtime, gql: GraphQLClient) -> None:
    expired = await quick_account(runtime, "acme")
    await expire(runtime, expired.refresh_token)
    revoked = await quick_account(runtime, "acme")
    (await gql(LOGOUT, token=revoked.token)).ok()
    cases = {
        "rt_unknown-token": "INVALID_REFRESH_TOKEN",
        expired.refresh_token: "REFRESH_TOKEN_EXPIRED",
        revoked.refresh_token: "SESSION_REVOKED",
    }
    for token, code in cases.items():
        result = await refresh_by_cookie(gql, token)
        payload = result.ok()["refreshToken"]
        assert payload["accessToken"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", "refreshToken"], code)]
        assert_cookie_cleared(result)  # of no more use to the browser
    too_long = (await refresh_by_cookie(gql, "x" * 300)).ok()["refreshToken"]
    assert codes(too_long) == ["TOO_LONG"]


async def test_refresh_without_any_token_names_what_is_missing(gql: GraphQLClient) -> None:
    for result in (
        await gql(REFRESH, {}),
        await gql(REFRESH, {"input": {}}),
        await gql(REFRESH_WITHOUT_INPUT),
    ):
        payload = result.ok()["refreshToken"]
        assert payload["accessToken"] is None, payload
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["input", "refreshToken"], "REQUIRED")
        ]
        assert COOKIE not in set_cookies(result)
    message = (await gql(REFRESH, {})).ok()["refreshToken"]["userErrors"][0]["message"]
    assert message == "Send the refresh token in the input, or in the tenantgraph_refresh cookie."


# ---- logout with a refresh token -------------------------------------------------------------


async def test_logout_with_the_refresh_token_alone(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    other = await quick_account(runtime, "acme")
    await gql.warm(account.token)

    ended = (await gql(LOGOUT, {"input": {"refreshToken": account.refresh_token}})).ok()["logout"]
    assert ended == {"sessionsEnded": 1, "userErrors": []}
    assert (await gql(ME, token=account.token)).error_codes == ["UNAUTHENTICATED"]
    refreshed = (await gql(REFRESH, {"input": {"refreshToken": account.refresh_token}})).ok()["refreshToken"]
    assert codes(refreshed) == ["SESSION_REVOKED"]
    assert (await session_of(runtime, account.refresh_token)).revoke_reason == "logout"
    # Once more: nothing left to end, and no error (signing out is done).
    again = (await gql(LOGOUT, {"input": {"refreshToken": account.refresh_token}})).ok()["logout"]
    assert again == {"sessionsEnded": 0, "userErrors": []}
    (await gql(ME, token=other.token)).ok()


async def test_logout_with_bad_refresh_tokens(runtime: Runtime, gql: GraphQLClient) -> None:
    unknown = (await gql(LOGOUT, {"input": {"refreshToken": "rt_unknown"}})).ok()["logout"]
    assert [(e["field"], e["code"]) for e in unknown["userErrors"]] == [
        (["input", "refreshToken"], "INVALID_REFRESH_TOKEN")
    ]
    too_long = (await gql(LOGOUT, {"input": {"refreshToken": "x" * 300}})).ok()["logout"]
    assert codes(too_long) == ["TOO_LONG"]

    # A rotated token is a replay: its session ends, and the answer says why.
    account = await quick_account(runtime, "acme")
    rotated = (await gql(REFRESH, {"input": {"refreshToken": account.refresh_token}})).ok()["refreshToken"]
    replayed = (await gql(LOGOUT, {"input": {"refreshToken": account.refresh_token}})).ok()["logout"]
    assert (replayed["sessionsEnded"], codes(replayed)) == (0, ["REFRESH_TOKEN_REUSED"])
    assert (await session_of(runtime, account.refresh_token)).revoke_reason == "refresh_token_reuse"
    assert (await gql(ME, token=rotated["accessToken"])).error_codes == ["UNAUTHENTICATED"]

    # An expired token still ends its session (its access token may live on until then).
    expired = await quick_account(runtime, "acme")
    await expire(runtime, expired.refresh_token)
    ended = (await gql(LOGOUT, {"input": {"refreshToken": expired.refresh_token}})).ok()["logout"]
    assert ended == {"sessionsEnded": 1, "userErrors": []}
    assert (await gql(ME, token=expired.token)).error_codes == ["UNAUTHENTICATED"]


async def test_logout_by_cookie_clears_it(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    result = await gql(LOGOUT, headers=cookie_header(account.refresh_token))
    assert result.ok()["logout"] == {"sessionsEnded": 1, "userErrors": []}
    assert_cookie_cleared(result)
    assert (await gql(ME, token=account.token)).error_codes == ["UNAUTHENTICATED"]
    unknown = await gql(LOGOUT, headers=cookie_header("rt_unknown"))
    assert codes(unknown.ok()["logout"]) == ["INVALID_REFRESH_TOKEN"]
    assert_cookie_cleared(unknown)


async def test_logout_with_an_access_token_goes_before_the_cookie(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    account = await quick_account(runtime, "acme")
    browser = await quick_account(runtime, "acme")
    result = await gql(LOGOUT, token=account.token, headers=cookie_header(browser.refresh_token))
    assert result.ok()["logout"] == {"sessionsEnded": 1, "userErrors": []}
    assert (await gql(ME, token=account.token)).error_codes == ["UNAUTHENTICATED"]
    # This browser signs out: the cookie is cleared (its session is not the access token's).
    assert_cookie_cleared(result)
    assert (await session_of(runtime, browser.refresh_token)).revoked_at is None


async def test_logout_with_neither_token_is_unauthenticated(gql: GraphQLClient) -> None:
    cases: list[dict[str, Any]] = [{}, {"input": {}}, {"input": {"refreshToken": None}}]
    for variables in cases:
        result = await gql(LOGOUT, variables)
        assert result.error_codes == ["UNAUTHENTICATED"] and result.data is None, result.body
        assert "access token" in result.errors[0]["message"]
