"""OAuth / OIDC sign-in end to end: a browser (httpx following redirects, keeping cookies) goes from
our start URL to the local fake provider (tests/support/fake_oauth.py, real HTTP) and back to our
callback, which exchanges the code over real HTTP, reads the identity, signs the user in to the
tenant (real PostgreSQL, Redis for broadcast and rate limits) and lands on the frontend with the
refresh cookie. Then every bad input: each one lands on the frontend with ?error=<code>."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select, update
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from core.scope import TenantScope
from core.settings import ConfigurationError, Settings
from models.base import utcnow
from models.identity.accounts import AuthSession, Tenant, TenantKind, TenantStatus, User, UserStatus
from models.identity.oauth import OAuthSignIn, OAuthState, UserIdentity
from server.app import create_app
from server.runtime import Runtime
from services.identity.bootstrap import ensure_tenant
from tests.conftest import make_settings, root_logging_kept
from tests.support.fake_oauth import FakeAccount, FakeOAuth, new_key
from tests.support.graphql import GraphQLClient
from tests.support.identity import CLIENT_IP, quick_account

API = "https://api.test"
FRONTEND = "https://app.example/signed-in"
OWN_REDIRECT = "https://app.example/oauth/done"  # a client's own redirect URI (code exchange)
COOKIE = "tenantgraph_refresh"
ALL = TenantScope.all_tenants()

REFRESH = """
mutation($token: String!) {
  refreshToken(input: {refreshToken: $token}) { accessToken user { email } userErrors { code } }
}
"""
LOGIN_WITH_OAUTH = """
mutation($input: LoginWithOAuthInput!) {
  loginWithOAuth(input: $input) {
    accessToken refreshToken user { email fullName tenant { slug } } userErrors { field code message }
  }
}
"""
LINK = """
mutation($input: LinkOAuthIdentityInput!) {
  linkOAuthIdentity(input: $input) { user { email } userErrors { code message } }
}
"""
PROVIDERS = """
query($tenant: String) {
  oauthProviders(tenantSlug: $tenant) { name kind displayName startUrl callbackUrl clientId scope }
}
"""


def provider_settings(fake: FakeOAuth) -> dict[str, dict[str, str]]:
    def client(shape: str) -> dict[str, str]:
        return {"client_id": fake.client_id(shape), "client_secret": fake.client_secret(shape)}

    def endpoints(shape: str) -> dict[str, str]:
        base = f"{fake.url}/{shape}"
        return {
            "authorize_url": f"{base}/authorize",
            "token_url": f"{base}/token",
            "userinfo_url": f"{base}/userinfo",
            "jwks_url": f"{base}/jwks",
        }

    return {
        "google": {**client("google"), **endpoints("google"), "issuer": fake.issuer("google")},
        "microsoft": {
            **client("microsoft"),
            **endpoints("microsoft"),
            "issuer": f"{fake.url}/microsoft/{{tenantid}}/v2.0",
        },
        "github": {
            **client("github"),
            "authorize_url": f"{fake.url}/github/login/oauth/authorize",
            "token_url": f"{fake.url}/github/login/oauth/access_token",
            "api_url": f"{fake.url}/github/api",
        },
        # Any other name: an OIDC issuer, everything else by discovery.
        "corp": {**client("oidc"), "issuer": fake.issuer("oidc"), "display_name": "Corp SSO"},
    }


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOAuth]:
    provider = FakeOAuth()
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
async def app(settings: Settings, fake: FakeOAuth) -> AsyncIterator[Starlette]:
    """The app of this module: the test database and Redis, providers pointing at the fake."""
    with root_logging_kept():
        application = create_app(
            make_settings(
                settings.database_url,
                settings.broadcast_url,
                oauth_providers=provider_settings(fake),
                frontend_url=FRONTEND,
                public_url=API,
            )
        )
        async with application.router.lifespan_context(application):
            yield application


@pytest.fixture(scope="module")
def runtime(app: Starlette) -> Runtime:
    return app.state.runtime


def frontend() -> Starlette:
    return Starlette(routes=[Route("/{path:path}", lambda request: PlainTextResponse("the frontend"))])


@pytest.fixture
async def browser(app: Starlette, fake: FakeOAuth) -> AsyncIterator[httpx.AsyncClient]:
    """A browser: our app at https://api.test, the frontend at https://app.example, the fake
    provider over the network; redirects followed, cookies kept."""
    fake.reset()
    mounts = {
        API: httpx.ASGITransport(app=app, client=(CLIENT_IP, 50000)),
        "https://app.example": httpx.ASGITransport(app=frontend()),
    }
    async with httpx.AsyncClient(mounts=mounts, follow_redirects=True, timeout=10) as client:
        yield client


@pytest.fixture
async def acme(runtime: Runtime) -> Tenant:
    async with runtime.db.transaction(ALL) as session:
        return await ensure_tenant(session, "acme", "Acme", TenantKind.ENTERPRISE)


async def sign_in(browser: httpx.AsyncClient, provider: str, tenant: str = "acme") -> httpx.Response:
    return await browser.get(f"{API}/auth/oauth/{provider}", params={"tenant": tenant})


def landed(response: httpx.Response) -> dict[str, list[str]]:
    """Where the browser ended: the frontend (never a 500 on the way); its query."""
    assert [r.status_code for r in response.history if r.status_code >= 400] == []
    url = urlsplit(str(response.url))
    assert f"{url.scheme}://{url.netloc}{url.path}" == FRONTEND, response.url
    assert response.status_code == 200
    return parse_qs(url.query)


def refused_with(response: httpx.Response) -> str:
    query = landed(response)
    assert list(query) == ["error"], query
    return query["error"][0]


def refresh_cookie(response: httpx.Response) -> str:
    """The callback's Set-Cookie, checked attribute by attribute; the token in it."""
    callbacks = [r for r in response.history if "/callback" in r.url.path]
    assert len(callbacks) == 1
    header = callbacks[0].headers["set-cookie"]
    name_value, *attributes = [part.strip() for part in header.split(";")]
    max_ages = [a.lower() for a in attributes if a.lower().startswith("max-age=")]
    assert {a.lower() for a in attributes} - set(max_ages) == {"httponly", "secure", "samesite=lax", "path=/"}
    # The refresh token's remaining lifetime (30 days by default), counted when it was set.
    assert len(max_ages) == 1 and 30 * 24 * 3600 - 5 <= int(max_ages[0].partition("=")[2]) <= 30 * 24 * 3600
    name, _, token = name_value.partition("=")
    assert name == COOKIE
    return token


async def identities(runtime: Runtime) -> list[tuple[str, str, str]]:
    async with runtime.db.session(ALL) as session:
        rows = await session.execute(
            select(UserIdentity.provider, UserIdentity.subject, User.email).join(
                User, User.id == UserIdentity.user_id
            )
        )
        return sorted((p, s, e) for p, s, e in rows)


async def user_count(runtime: Runtime) -> int:
    async with runtime.db.session(ALL) as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


def link_input(code: str, verifier: str) -> dict[str, str]:
    return {"provider": "google", "code": code, "redirectUri": OWN_REDIRECT, "codeVerifier": verifier}


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


async def own_code(fake: FakeOAuth, shape: str, verifier: str) -> str:
    """A code obtained the way a client running its own authorization request does."""
    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"{fake.url}/{shape}/authorize",
            params={
                "client_id": fake.client_id(shape),
                "response_type": "code",
                "redirect_uri": OWN_REDIRECT,
                "scope": "openid email profile",
                "state": "client-state",
                "code_challenge": s256(verifier),
                "code_challenge_method": "S256",
            },
        )
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]


# ---------------------------------------------------------------- the flow end to end


async def test_google_sign_in_end_to_end(
    browser: httpx.AsyncClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant, gql: GraphQLClient
) -> None:
    fake.sign_in_as("google", FakeAccount("g-100", "Ann@Gmail.example", name="Ann Example"))
    response = await sign_in(browser, "google")
    assert landed(response) == {}  # the frontend URL as configured: no token in it
    token = refresh_cookie(response)
    assert browser.cookies.get(COOKIE, domain="api.test") == token
    assert all(
        token not in str(r.url) and token not in r.headers.get("location", "") for r in response.history
    )

    # The authorization request carried state, PKCE S256 and a nonce; the token request the
    # verifier of that challenge (the fake refuses anything else).
    (authorization,) = fake.authorizations
    assert authorization["code_challenge_method"] == "S256"
    assert authorization["redirect_uri"] == f"{API}/auth/oauth/google/callback"
    assert len(authorization["state"]) >= 40 and len(authorization["nonce"]) >= 30
    (exchange,) = fake.token_requests
    assert s256(exchange["code_verifier"]) == authorization["code_challenge"]

    assert await identities(runtime) == [("google", "g-100", "ann@gmail.example")]
    async with runtime.db.session(ALL) as session:
        user = await session.scalar(select(User).where(User.email == "ann@gmail.example"))
        assert user is not None
        assert (user.tenant_id, user.full_name, user.email_verified) == (acme.id, "Ann Example", True)
        assert await session.scalar(select(func.count()).select_from(OAuthState)) == 0  # used up
        assert await session.scalar(select(OAuthSignIn.provider)) == "google"

    # The cookie's refresh token works like any other.
    refreshed = (await gql(REFRESH, {"token": token})).ok()["refreshToken"]
    assert refreshed["user"]["email"] == "ann@gmail.example" and refreshed["accessToken"]

    # Signing in again finds the linked user: no second account, a second session.
    again = await sign_in(browser, "google")
    assert landed(again) == {} and refresh_cookie(again) != token
    assert await user_count(runtime) == 1
    async with runtime.db.session(ALL) as session:
        assert await session.scalar(select(func.count()).select_from(AuthSession)) == 2


async def test_github_sign_in_end_to_end(
    browser: httpx.AsyncClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant
) -> None:
    fake.sign_in_as("github", FakeAccount("4242", "octo@example.com", name="", login="octocat"))
    response = await sign_in(browser, "github")
    assert landed(response) == {}
    refresh_cookie(response)
    (authorization,) = fake.authorizations
    assert authorization["scope"] == "read:user user:email" and "nonce" not in authorization
    # No id_token: the account came from /user (id, login) and /user/emails (the verified primary).
    assert await identities(runtime) == [("github", "4242", "octo@example.com")]
    async with runtime.db.session(ALL) as session:
        assert await session.scalar(select(User.full_name)) == "octocat"


async def test_microsoft_sign_in_checks_the_directory_issuer(
    browser: httpx.AsyncClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant
) -> None:
    fake.sign_in_as("microsoft", FakeAccount("ms-1", "mo@contoso.example"))
    assert landed(await sign_in(browser, "microsoft")) == {}
    assert await identities(runtime) == [("microsoft", "ms-1", "mo@contoso.example")]
    # Without xms_edov (Microsoft's "verified by the domain owner") the address is not trusted.
    fake.sign_in_as("microsoft", FakeAccount("ms-2", "eve@contoso.example", email_verified=False))
    assert refused_with(await sign_in(browser, "microsoft")) == "OAUTH_EMAIL_UNVERIFIED"


async def test_oidc_issuer_by_discovery_with_session_status_and_logout(
    browser: httpx.AsyncClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant, gql: GraphQLClient
) -> None:
    fake.sign_in_as("oidc", FakeAccount("corp-7", "kim@corp.example", name="Kim"))
    assert (await browser.get(f"{API}/auth/oidc/session")).json() == {"active": False}
    response = await sign_in(browser, "corp")
    assert landed(response) == {}
    token = refresh_cookie(response)
    (authorization,) = fake.authorizations
    assert authorization["shape"] == "oidc"  # the discovery document's authorization_endpoint

    status = await browser.get(f"{API}/auth/oidc/session")
    assert status.headers["cache-control"] == "no-store"
    body = status.json()
    assert (body["active"], body["provider"]) == (True, "corp")
    async with runtime.db.session(ALL) as session:
        user_id = await session.scalar(select(User.id))
    assert base64.b64decode(body["userId"]).decode() == f"User:{user_id}"

    # Logout ends the session, clears the cookie and goes by the issuer's end_session_endpoint
    # back to the frontend.
    logout = await browser.post(f"{API}/auth/oidc/logout")
    assert logout.history[0].status_code == 303
    (provider_logout,) = fake.logouts
    assert provider_logout == {"client_id": "oidc-client-id", "post_logout_redirect_uri": FRONTEND}
    assert landed(logout) == {}
    assert (
        COOKIE in logout.history[0].headers["set-cookie"]
        and "Max-Age=0" in logout.history[0].headers["set-cookie"]
    )
    assert browser.cookies.get(COOKIE, domain="api.test") is None
    assert (await browser.get(f"{API}/auth/oidc/session")).json() == {"active": False}
    assert (await gql(REFRESH, {"token": token})).ok()["refreshToken"]["userErrors"] == [
        {"code": "SESSION_REVOKED"}
    ]


async def test_logout_of_a_provider_without_end_session_goes_to_the_frontend(
    browser: httpx.AsyncClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant
) -> None:
    fake.sign_in_as("google", FakeAccount("g-5", "lee@gmail.example"))
    landed(await sign_in(browser, "google"))
    logout = await browser.post(f"{API}/auth/oidc/logout")
    assert [r.status_code for r in logout.history] == [303]
    assert landed(logout) == {} and fake.logouts == []
    async with runtime.db.session(ALL) as session:
        assert await session.scalar(select(AuthSession.revoke_reason)) == "logout"
    # Logging out without a cookie is no error either; a GET is not a logout.
    assert landed(await browser.post(f"{API}/auth/oidc/logout")) == {}
    assert (await browser.get(f"{API}/auth/oidc/logout")).status_code == 405


# ---------------------------------------------------------------- bad input


async def started(browser: httpx.AsyncClient, provider: str = "google") -> str:
    """Starts a sign-in without following it: the provider URL (its state inside)."""
    response = await browser.get(
        f"{API}/auth/oauth/{provider}", params={"tenant": "acme"}, follow_redirects=False
    )
    assert response.status_code == 302
    return response.headers["location"]


def state_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


async def callback_url(browser: httpx.AsyncClient, provider: str = "google") -> str:
    """Starts and approves a sign-in, stopping before the callback: its URL (code and state)."""
    approved = await browser.get(await started(browser, provider), follow_redirects=False)
    assert approved.status_code == 302
    return approved.headers["location"]


async def test_missing_forged_and_foreign_states_are_refused(
    browser: httpx.AsyncClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant
) -> None:
    callback = f"{API}/auth/oauth/google/callback"
    assert refused_with(await browser.get(callback, params={"code": "x"})) == "OAUTH_INVALID_STATE"
    forged = {"code": "x", "state": secrets.token_urlsafe(32)}
    assert refused_with(await browser.get(callback, params=forged)) == "OAUTH_INVALID_STATE"
    # A state GitHub's sign-in was started with is no state of Google's.
    github_state = state_of(await started(browser, "github"))
    assert (
        refused_with(await browser.get(callback, params={"code": "x", "state": github_state}))
        == "OAUTH_INVALID_STATE"
    )
    assert fake.token_requests == [] and await user_count(runtime) == 0


async def test_a_state_is_used_once(
    browser: httpx.AsyncClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant
) -> None:
    url = await callback_url(browser)
    assert landed(await browser.get(url)) == {}
    assert refused_with(await browser.get(url)) == "OAUTH_INVALID_STATE"
    # Two callbacks at once with one state: exactly one signs in.
    url = await callback_url(browser)
    answers = await asyncio.gather(browser.get(url), browser.get(url))
    assert sorted(json.dumps(landed(a)) for a in answers) == sorted(
        [json.dumps({}), json.dumps({"error": ["OAUTH_INVALID_STATE"]})]
    )
    async with runtime.db.session(ALL) as session:
        assert await session.scalar(select(func.count()).select_from(AuthSession)) == 2


async def test_an_expired_state_is_refused(
    browser: httpx.AsyncClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant
) -> None:
    url = await started(browser)
    async with runtime.db.transaction(ALL) as session:
        await session.execute(update(OAuthState).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert refused_with(await browser.get(url)) == "OAUTH_STATE_EXPIRED"
    assert fake.token_requests == []


async def test_provider_errors_and_failed_exchanges(
    browser: httpx.AsyncClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant
) -> None:
    fake.deny_next("google")
    assert refused_with(await sign_in(browser, "google")) == "OAUTH_ACCESS_DENIED"
    fake.deny_next("github")
    assert refused_with(await sign_in(browser, "github")) == "OAUTH_ACCESS_DENIED"
    state = state_of(await started(browser))
    other = {"state": state, "error": "temporarily_unavailable"}
    assert refused_with(await browser.get(f"{API}/auth/oauth/google/callback", params=other)) == (
        "OAUTH_PROVIDER_ERROR"
    )
    # A code the provider never issued: the exchange fails (invalid_grant), for both shapes.
    for provider in ("google", "github"):
        state = state_of(await started(browser, provider))
        bogus = {"state": state, "code": "never-issued"}
        assert refused_with(await browser.get(f"{API}/auth/oauth/{provider}/callback", params=bogus)) == (
            "OAUTH_EXCHANGE_FAILED"
        )
    # A valid state but no code at all.
    state = state_of(await started(browser))
    assert refused_with(await browser.get(f"{API}/auth/oauth/google/callback", params={"state": state})) == (
        "OAUTH_EXCHANGE_FAILED"
    )
    assert await user_count(runtime) == 0


async def test_an_id_token_not_signed_by_the_providers_keys_is_refused(
    browser: httpx.AsyncClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant
) -> None:
    # The published key's id, another key: the signature does not verify against the JWKS.
    fake.sign_with(new_key(fake.key.kid or ""))
    assert refused_with(await sign_in(browser, "google")) == "OAUTH_INVALID_ID_TOKEN"
    fake.sign_with(new_key("unpublished"))
    assert refused_with(await sign_in(browser, "corp")) == "OAUTH_INVALID_ID_TOKEN"
    assert await user_count(runtime) == 0


async def test_an_unverified_provider_email_creates_no_account(
    browser: httpx.AsyncClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant
) -> None:
    fake.sign_in_as("google", FakeAccount("g-9", "new@gmail.example", email_verified=False))
    assert refused_with(await sign_in(browser, "google")) == "OAUTH_EMAIL_UNVERIFIED"
    fake.sign_in_as("github", FakeAccount("99", "new@example.com", email_verified=False, login="newbie"))
    # GitHub's only verified address is the noreply one, which is not the primary: still verified.
    assert landed(await sign_in(browser, "github")) == {}
    assert await identities(runtime) == [("github", "99", "newbie@users.noreply.github.example")]


async def test_an_email_of_a_password_account_needs_proof_then_links(
    browser: httpx.AsyncClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant, gql: GraphQLClient
) -> None:
    account = await quick_account(runtime, "acme", email="pat@acme.example")
    fake.sign_in_as("google", FakeAccount("g-pat", "PAT@acme.example"))
    assert refused_with(await sign_in(browser, "google")) == "OAUTH_ACCOUNT_EXISTS"
    # A look-alike address (TR39: "rn" looks like "m") is no way around it.
    fake.sign_in_as("google", FakeAccount("g-pat2", "pat@acrne.example"))
    assert refused_with(await sign_in(browser, "google")) == "OAUTH_ACCOUNT_EXISTS"
    assert await identities(runtime) == [] and await user_count(runtime) == 1

    # Signed in with the password, the user links the provider account (a code of their own).
    fake.sign_in_as("google", FakeAccount("g-pat", "pat@acme.example"))
    verifier = secrets.token_urlsafe(48)
    code = await own_code(fake, "google", verifier)
    linked = await gql(
        LINK,
        {
            "input": {
                "provider": "google",
                "code": code,
                "redirectUri": OWN_REDIRECT,
                "codeVerifier": verifier,
            }
        },
        token=account.token,
    )
    assert linked.ok()["linkOAuthIdentity"] == {"user": {"email": "pat@acme.example"}, "userErrors": []}
    assert await identities(runtime) == [("google", "g-pat", "pat@acme.example")]
    # From now on Google signs in as that account.
    assert landed(await sign_in(browser, "google")) == {}
    status = (await browser.get(f"{API}/auth/oidc/session")).json()
    assert base64.b64decode(status["userId"]).decode() == f"User:{account.user_id}"

    # Another user cannot link the same Google account.
    other = await quick_account(runtime, "acme", email="sam@acme.example")
    code = await own_code(fake, "google", verifier)
    taken = await gql(
        LINK,
        {
            "input": {
                "provider": "google",
                "code": code,
                "redirectUri": OWN_REDIRECT,
                "codeVerifier": verifier,
            }
        },
        token=other.token,
    )
    assert taken.ok()["linkOAuthIdentity"]["userErrors"][0]["code"] == "OAUTH_IDENTITY_IN_USE"


async def test_unknown_provider_unknown_or_suspended_tenant_and_suspended_user(
    browser: httpx.AsyncClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant
) -> None:
    assert refused_with(await sign_in(browser, "myspace")) == "OAUTH_UNKNOWN_PROVIDER"
    assert refused_with(await browser.get(f"{API}/auth/oauth/myspace/callback")) == "OAUTH_UNKNOWN_PROVIDER"
    assert refused_with(await sign_in(browser, "google", tenant="no-such-tenant")) == "UNKNOWN_TENANT"
    assert refused_with(await browser.get(f"{API}/auth/oauth/google")) == "UNKNOWN_TENANT"
    assert fake.authorizations == []

    fake.sign_in_as("google", FakeAccount("g-1", "una@gmail.example"))
    landed(await sign_in(browser, "google"))
    async with runtime.db.transaction(ALL) as session:
        await session.execute(update(User).values(status=UserStatus.SUSPENDED))
    assert refused_with(await sign_in(browser, "google")) == "ACCOUNT_SUSPENDED"
    async with runtime.db.transaction(ALL) as session:
        await session.execute(update(Tenant).values(status=TenantStatus.SUSPENDED))
    assert refused_with(await sign_in(browser, "google")) == "TENANT_SUSPENDED"


async def test_an_mfa_account_gets_a_challenge_not_a_session(
    browser: httpx.AsyncClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant
) -> None:
    fake.sign_in_as("google", FakeAccount("g-m", "mia@gmail.example"))
    landed(await sign_in(browser, "google"))
    async with runtime.db.transaction(ALL) as session:
        await session.execute(update(User).values(mfa_enabled=True))
        await session.execute(update(AuthSession).values(revoked_at=utcnow()))
    browser.cookies.clear()
    response = await sign_in(browser, "google")
    assert landed(response) == {"mfa": ["required"]}
    # The challenge is in the fragment (never sent to a server), no cookie was set.
    challenge = parse_qs(urlsplit(str(response.history[-1].headers["location"])).fragment)["mfaChallenge"]
    assert len(challenge[0]) > 20
    assert all("set-cookie" not in hop.headers for hop in response.history)
    async with runtime.db.session(ALL) as session:
        open_sessions = select(func.count()).select_from(AuthSession).where(AuthSession.revoked_at.is_(None))
        assert await session.scalar(open_sessions) == 0


async def test_sign_in_attempts_are_rate_limited(settings: Settings, fake: FakeOAuth, acme: Tenant) -> None:
    providers = provider_settings(fake)
    with root_logging_kept():
        limited = create_app(
            make_settings(
                settings.database_url,
                settings.broadcast_url,
                oauth_providers=providers,
                frontend_url=FRONTEND,
                auth_rate_limit_per_ip=2,
            )
        )
        async with limited.router.lifespan_context(limited):
            transport = httpx.ASGITransport(app=limited, client=("198.51.100.9", 1))
            async with httpx.AsyncClient(transport=transport, base_url=API) as client:
                codes = [
                    (await client.get("/auth/oauth/google", params={"tenant": "acme"})).headers["location"]
                    for _ in range(3)
                ]
    assert [c.startswith(fake.url) for c in codes[:2]] == [True, True]
    assert codes[2] == f"{FRONTEND}?error=RATE_LIMITED"


# ---------------------------------------------------------------- GraphQL


async def test_login_with_oauth_by_code_exchange(
    fake: FakeOAuth, runtime: Runtime, acme: Tenant, gql: GraphQLClient
) -> None:
    fake.reset()
    fake.sign_in_as("google", FakeAccount("g-77", "cy@gmail.example", name="Cy"))
    verifier = secrets.token_urlsafe(48)

    def login(authorization_code: str, /, **extra: Any) -> dict[str, Any]:
        return {
            "input": {
                "provider": "google",
                "code": authorization_code,
                "redirectUri": OWN_REDIRECT,
                "tenantSlug": "acme",
                "codeVerifier": verifier,
                **extra,
            }
        }

    code = await own_code(fake, "google", verifier)
    # The wrong verifier: the provider refuses the exchange (and the code is burnt: one try).
    wrong = (await gql(LOGIN_WITH_OAUTH, login(code, codeVerifier=secrets.token_urlsafe(48)))).ok()
    assert wrong["loginWithOAuth"]["userErrors"][0]["code"] == "OAUTH_EXCHANGE_FAILED"
    code = await own_code(fake, "google", verifier)
    answer = (await gql(LOGIN_WITH_OAUTH, login(code))).ok()["loginWithOAuth"]
    assert answer["userErrors"] == [] and answer["accessToken"] and answer["refreshToken"]
    assert answer["user"] == {"email": "cy@gmail.example", "fullName": "Cy", "tenant": {"slug": "acme"}}
    assert (await gql(REFRESH, {"token": answer["refreshToken"]})).ok()["refreshToken"]["userErrors"] == []

    for extra, code_expected in (
        ({"provider": "myspace"}, "OAUTH_UNKNOWN_PROVIDER"),
        ({"tenantSlug": "nope"}, "UNKNOWN_TENANT"),
        ({"code": "x" * 5000}, "TOO_LONG"),
    ):
        refused = (await gql(LOGIN_WITH_OAUTH, login("never-issued", **extra))).ok()["loginWithOAuth"]
        assert refused["accessToken"] is None
        assert refused["userErrors"][0]["code"] == code_expected, refused

    # An email of an existing account: refused here too.
    await quick_account(runtime, "acme", email="dee@acme.example")
    fake.sign_in_as("google", FakeAccount("g-dee", "dee@acme.example"))
    code = await own_code(fake, "google", verifier)
    clash = (await gql(LOGIN_WITH_OAUTH, login(code))).ok()["loginWithOAuth"]
    assert clash["userErrors"][0]["code"] == "OAUTH_ACCOUNT_EXISTS"


async def test_oauth_providers_lists_the_enabled_ones_with_start_urls(
    gql: GraphQLClient, fake: FakeOAuth
) -> None:
    listed = (await gql(PROVIDERS, {"tenant": "acme"})).ok()["oauthProviders"]
    by_name = {p["name"]: p for p in listed}
    assert sorted(by_name) == ["corp", "github", "google", "microsoft"]
    assert by_name["corp"] == {
        "name": "corp",
        "kind": "OIDC",
        "displayName": "Corp SSO",
        "startUrl": f"{API}/auth/oauth/corp?tenant=acme",
        "callbackUrl": f"{API}/auth/oauth/corp/callback",
        "clientId": "oidc-client-id",
        "scope": "openid email profile",
    }
    assert (by_name["github"]["kind"], by_name["github"]["displayName"]) == ("GITHUB", "Github")
    assert by_name["google"]["startUrl"] == f"{API}/auth/oauth/google?tenant=acme"
    no_tenant = (await gql(PROVIDERS)).ok()["oauthProviders"]
    assert {p["startUrl"] for p in no_tenant} == {f"{API}/auth/oauth/{n}" for n in by_name}


# ---------------------------------------------------------------- settings


def test_providers_come_from_one_json_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TENANTGRAPH_OAUTH_PROVIDERS",
        json.dumps(
            {
                "google": {"client_id": "id-1", "client_secret": "s-1"},
                "keycloak": {"client_id": "kc", "issuer": "https://sso.example/realms/main"},
            }
        ),
    )
    providers = Settings().oauth_providers
    assert (providers["google"].client_id, providers["keycloak"].issuer) == (
        "id-1",
        "https://sso.example/realms/main",
    )
    monkeypatch.setenv("TENANTGRAPH_OAUTH_PROVIDERS", json.dumps({"Bad Name": {"client_id": "x"}}))
    with pytest.raises(ValueError, match=r"should match pattern"):
        Settings()


def test_an_oidc_provider_without_issuer_stops_the_server(restore_logging: None) -> None:
    with pytest.raises(ConfigurationError, match=r"'corp'.*issuer"):
        create_app(Settings(oauth_providers={"corp": {"client_id": "x"}}))  # type: ignore[dict-item]
