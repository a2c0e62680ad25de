"""Sign-in providers, wave 3: Telegram Login Widget sign-in (its hash, freshness, single use, then
link or create), the provider's authorization URL as JSON with the client's state (PKCE verifier
and nonce kept here, finished by loginWithOAuth against the local fake provider over real HTTP),
and my linked identities (list, unlink; never the last way to sign in). Real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import func, select, update
from starlette.applications import Starlette

from core.permissions import Role
from core.scope import TenantScope
from core.settings import Settings
from models.base import utcnow
from models.identity.accounts import Tenant, TenantKind, User
from models.identity.oauth import OAuthState, TelegramLogin, UserIdentity
from server.app import create_app
from server.runtime import Runtime
from services.identity.bootstrap import ensure_tenant
from services.identity.oauth import NO_PASSWORD
from tests.conftest import gql_of_own_app, make_settings, root_logging_kept
from tests.identity.test_impersonation import IMPERSONATE
from tests.identity.test_oauth import LINK, LOGIN_WITH_OAUTH, OWN_REDIRECT, own_code, provider_settings, s256
from tests.support.fake_oauth import FakeAccount, FakeOAuth
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import Identity, quick_account

BOT_TOKEN = "123456:telegram-test-bot-token"
ALL = TenantScope.all_tenants()

LOGIN_WITH_TELEGRAM = """
mutation($input: LoginWithTelegramInput!) {
  loginWithTelegram(input: $input) {
    accessToken refreshToken user { id emailAddress fullName } userErrors { field code message }
  }
}
"""
LINK_TELEGRAM = """
mutation($input: LinkTelegramIdentityInput!) {
  linkTelegramIdentity(input: $input) { user { id } userErrors { code } }
}
"""
AUTHORIZATION_URL = """
mutation($input: OAuthAuthorizationUrlInput!) {
  oauthAuthorizationUrl(input: $input) { url state expiresAt userErrors { field code } }
}
"""
MY_IDENTITIES = """
query($first: Int, $after: String) {
  myLinkedIdentities(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id provider email displayName linkedAt lastSignInAt } }
  }
}
"""
UNLINK = """
mutation($id: ID!) {
  unlinkIdentity(input: {id: $id}) { linkedIdentity { id provider } userErrors { field code } }
}
"""


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOAuth]:
    provider = FakeOAuth()
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
async def app(settings: Settings, fake: FakeOAuth) -> AsyncIterator[Starlette]:
    """This module's app: the test database and Redis, the fake providers and a Telegram bot."""
    with root_logging_kept():
        application = create_module_app(settings, fake)
        async with application.router.lifespan_context(application):
            yield application


def create_module_app(settings: Settings, fake: FakeOAuth) -> Starlette:
    return create_app(
        make_settings(
            settings.database_url,
            settings.broadcast_url,
            oauth_providers=provider_settings(fake),
            telegram_bot_token=BOT_TOKEN,
        )
    )


@pytest.fixture(scope="module")
def runtime(app: Starlette) -> Runtime:
    found: Runtime = app.state.runtime
    return found


@pytest.fixture
async def acme(runtime: Runtime, fake: FakeOAuth) -> Tenant:
    fake.reset()
    async with runtime.db.transaction(ALL) as session:
        return await ensure_tenant(session, "acme", "Acme", TenantKind.ENTERPRISE)


def widget(
    user_id: str = "70001", *, bot_token: str = BOT_TOKEN, age: int = 5, **fields: str
) -> dict[str, str]:
    """What the Telegram Login Widget hands the page, signed as Telegram documents it: the
    HMAC-SHA256 of the sorted key=value lines, keyed by SHA-256 of the bot token."""
    data = {"id": user_id, "first_name": "Tg", "last_name": "Person", "username": "tgperson"}
    data |= {"auth_date": str(int(time.time()) - age), **fields}
    check = "\n".join(f"{key}={data[key]}" for key in sorted(data))
    secret = hashlib.sha256(bot_token.encode()).digest()
    return data | {"hash": hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()}


def as_input(data: dict[str, str]) -> dict[str, str]:
    names = {
        "auth_date": "authDate",
        "first_name": "firstName",
        "last_name": "lastName",
        "photo_url": "photoUrl",
    }
    return {names.get(key, key): value for key, value in data.items()}


async def telegram_login(gql: GraphQLClient, data: dict[str, str], tenant: str = "acme") -> dict[str, Any]:
    variables = {"input": {"tenantSlug": tenant, "authData": as_input(data)}}
    answer: dict[str, Any] = (await gql(LOGIN_WITH_TELEGRAM, variables)).ok()["loginWithTelegram"]
    return answer


def codes(answer: dict[str, Any]) -> list[str]:
    return [error["code"] for error in answer["userErrors"]]


async def rows(runtime: Runtime) -> list[tuple[str, str, str | None, str | None]]:
    async with runtime.db.session(ALL) as session:
        found = await session.execute(
            select(UserIdentity.provider, UserIdentity.subject, UserIdentity.display_name, User.email).join(
                User, User.id == UserIdentity.user_id
            )
        )
        return sorted((p, s, d, e) for p, s, d, e in found)


async def user_count(runtime: Runtime) -> int:
    async with runtime.db.session(ALL) as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


# ---------------------------------------------------------------- Telegram


async def test_telegram_login_creates_the_user_then_signs_it_in_again(
    gql: GraphQLClient, runtime: Runtime, acme: Tenant
) -> None:
    first = await telegram_login(gql, widget(photo_url="https://t.me/i/userpic/320/tg.jpg"))
    assert first["userErrors"] == [] and first["accessToken"] and first["refreshToken"]
    assert first["user"]["emailAddress"] is None and first["user"]["fullName"] == "Tg Person"
    assert await rows(runtime) == [("telegram", "70001", "tgperson", None)]
    async with runtime.db.session(ALL) as session:
        user = await session.scalar(select(User))
        assert user is not None and (user.tenant_id, user.password_hash) == (acme.id, NO_PASSWORD)

    # A later widget login (another auth_date, another hash) finds the linked user.
    again = await telegram_login(gql, widget(age=1, username="renamed"))
    assert again["userErrors"] == [] and again["user"]["id"] == first["user"]["id"]
    assert await user_count(runtime) == 1
    assert await rows(runtime) == [("telegram", "70001", "renamed", None)]  # the name as last seen


async def test_telegram_data_not_signed_by_our_bot_is_refused(
    gql: GraphQLClient, runtime: Runtime, acme: Tenant
) -> None:
    tampered = widget() | {"username": "someone-else"}  # changed after signing
    dropped = {key: value for key, value in widget().items() if key != "last_name"}
    forged = widget() | {"hash": "0" * 64}
    for data in (
        widget(bot_token="999:another-bot"),
        tampered,
        dropped,
        forged,
        widget() | {"hash": "é" * 64},  # not ASCII: refused like any wrong hash, not a 500
        widget(user_id="not-a-number"),
    ):
        assert codes(await telegram_login(gql, data)) == ["TELEGRAM_INVALID_HASH"], data
    assert await user_count(runtime) == 0


async def test_stale_future_and_replayed_telegram_logins_are_refused(
    gql: GraphQLClient, runtime: Runtime, acme: Tenant
) -> None:
    # telegram_auth_max_age_seconds is 600 by default.
    assert codes(await telegram_login(gql, widget(age=601))) == ["TELEGRAM_AUTH_EXPIRED"]
    assert codes(await telegram_login(gql, widget(age=-3600))) == ["TELEGRAM_AUTH_EXPIRED"]
    fresh = widget(age=590)
    assert codes(await telegram_login(gql, fresh)) == []
    # The same answer once more, in this tenant or another: used up.
    assert codes(await telegram_login(gql, fresh)) == ["TELEGRAM_LOGIN_REUSED"]
    await quick_account(runtime, "globex")
    assert codes(await telegram_login(gql, fresh, tenant="globex")) == ["TELEGRAM_LOGIN_REUSED"]
    async with runtime.db.session(ALL) as session:
        assert await session.scalar(select(func.count()).select_from(TelegramLogin)) == 1
    assert await user_count(runtime) == 2  # the Telegram user, and globex's


async def test_telegram_by_login_with_oauth_and_bad_inputs(
    gql: GraphQLClient, runtime: Runtime, acme: Tenant, settings: Settings
) -> None:
    def by_code(code: str, tenant: str = "acme") -> dict[str, Any]:
        return {"input": {"provider": "telegram", "code": code, "redirectUri": "", "tenantSlug": tenant}}

    # 002's POST /auth/login/oauth/telegram: the widget redirect's query string as the code.
    answer = (await gql(LOGIN_WITH_OAUTH, by_code(urlencode(widget("70002"))))).ok()["loginWithOAuth"]
    assert answer["userErrors"] == [] and answer["accessToken"]
    assert await rows(runtime) == [("telegram", "70002", "tgperson", None)]
    for code, expected in (
        ("not&&a=query", "TELEGRAM_INVALID_HASH"),
        (urlencode(widget("70003", age=900)), "TELEGRAM_AUTH_EXPIRED"),
    ):
        refused = (await gql(LOGIN_WITH_OAUTH, by_code(code))).ok()["loginWithOAuth"]
        assert codes(refused) == [expected] and refused["accessToken"] is None
    refused = (await gql(LOGIN_WITH_OAUTH, by_code(urlencode(widget("70004")), "nope"))).ok()[
        "loginWithOAuth"
    ]
    assert codes(refused) == ["UNKNOWN_TENANT"]

    long_name = await telegram_login(gql, widget(username="x" * 257))
    assert long_name["userErrors"] == [
        {
            "field": ["input", "authData", "username"],
            "code": "TOO_LONG",
            "message": long_name["userErrors"][0]["message"],
        }
    ]
    assert await user_count(runtime) == 1

    # Without a bot token Telegram is no provider at all.
    async with gql_of_own_app(settings.database_url) as other:
        off = (
            await other(
                LOGIN_WITH_TELEGRAM, {"input": {"tenantSlug": "acme", "authData": as_input(widget())}}
            )
        ).ok()
        assert codes(off["loginWithTelegram"]) == ["OAUTH_UNKNOWN_PROVIDER"]


async def test_linking_telegram_to_an_account(gql: GraphQLClient, runtime: Runtime, acme: Tenant) -> None:
    ann = await quick_account(runtime, "acme", email="ann@acme.example")
    linked = (
        await gql(LINK_TELEGRAM, {"input": {"authData": as_input(widget("80001"))}}, token=ann.token)
    ).ok()
    assert linked["linkTelegramIdentity"] == {"user": {"id": ann.gid}, "userErrors": []}
    signed_in = await telegram_login(gql, widget("80001", age=2))
    assert signed_in["userErrors"] == [] and signed_in["user"]["id"] == ann.gid

    # Another user cannot take it; anonymous callers cannot link at all.
    bob = await quick_account(runtime, "acme", email="bob@acme.example")
    taken = await gql(
        LINK_TELEGRAM, {"input": {"authData": as_input(widget("80001", age=3))}}, token=bob.token
    )
    assert codes(taken.ok()["linkTelegramIdentity"]) == ["OAUTH_IDENTITY_IN_USE"]
    anonymous = await gql(LINK_TELEGRAM, {"input": {"authData": as_input(widget("80002"))}})
    assert anonymous.error_codes == ["UNAUTHENTICATED"]
    assert await rows(runtime) == [("telegram", "80001", "tgperson", "ann@acme.example")]


async def test_a_link_racing_another_of_the_same_account_is_refused(
    gql: GraphQLClient, runtime: Runtime, acme: Tenant
) -> None:
    ann = await quick_account(runtime, "acme", email="ann@acme.example")
    bob = await quick_account(runtime, "acme", email="bob@acme.example")
    variables = {"input": {"authData": as_input(widget("80009"))}}
    async with runtime.db.transaction(ALL) as session:
        # Bob's link of the same Telegram account, not yet committed while Ann links it.
        session.add(
            UserIdentity(tenant_id=acme.id, user_id=bob.user_id, provider="telegram", subject="80009")
        )
        await session.flush()
        linking = asyncio.create_task(gql(LINK_TELEGRAM, variables, token=ann.token))
        await asyncio.sleep(1)
        assert not linking.done()  # waiting on the unique identity
    assert codes((await linking).ok()["linkTelegramIdentity"]) == ["OAUTH_IDENTITY_IN_USE"]
    assert await rows(runtime) == [("telegram", "80009", None, "bob@acme.example")]


# ---------------------------------------------------------------- the authorization URL as JSON


def url_input(**extra: str) -> dict[str, Any]:
    return {"input": {"provider": "google", "tenantSlug": "acme", "redirectUri": OWN_REDIRECT, **extra}}


async def authorize(url: str) -> dict[str, str]:
    """The browser at the provider: its redirect back to the client, and the query it carries."""
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(OWN_REDIRECT + "?")
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


async def test_authorization_url_with_client_state_finished_by_login_with_oauth(
    gql: GraphQLClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant
) -> None:
    fake.sign_in_as("google", FakeAccount("g-json", "jay@gmail.example", name="Jay"))
    client_state = "my-own-client-state-0123"
    started = (await gql(AUTHORIZATION_URL, url_input(state=client_state))).ok()["oauthAuthorizationUrl"]
    assert started["userErrors"] == [] and started["state"] == client_state
    assert started["url"].startswith(f"{fake.url}/google/authorize?")
    query = parse_qs(urlsplit(started["url"]).query)
    assert query["state"] == [client_state] and query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [OWN_REDIRECT] and len(query["nonce"][0]) >= 30
    async with runtime.db.session(ALL) as session:
        stored = await session.scalar(select(OAuthState))
        # Kept hashed, with the verifier of the URL's challenge.
        assert stored is not None and client_state not in stored.state_hash
        assert s256(stored.code_verifier) == query["code_challenge"][0]
        assert stored.expires_at.isoformat() == started["expiresAt"].replace("Z", "+00:00")

    back = await authorize(started["url"])
    assert back["state"] == client_state
    login = {"provider": "google", "code": back["code"], "redirectUri": OWN_REDIRECT, "tenantSlug": "acme"}
    answer = (await gql(LOGIN_WITH_OAUTH, {"input": {**login, "state": client_state}})).ok()["loginWithOAuth"]
    assert answer["userErrors"] == [] and answer["user"]["email"] == "jay@gmail.example"
    # The server sent the PKCE verifier (the fake refuses any other) and checked the nonce.
    (exchange,) = fake.token_requests
    assert s256(exchange["code_verifier"]) == query["code_challenge"][0]

    # The state is used up.
    again = (await gql(LOGIN_WITH_OAUTH, {"input": {**login, "state": client_state}})).ok()["loginWithOAuth"]
    assert codes(again) == ["OAUTH_INVALID_STATE"]


async def test_authorization_url_makes_a_state_and_refuses_bad_ones(
    gql: GraphQLClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant
) -> None:
    made = (await gql(AUTHORIZATION_URL, url_input())).ok()["oauthAuthorizationUrl"]
    assert made["userErrors"] == [] and len(made["state"]) >= 40
    for extra, expected in (
        ({"state": "short"}, (["state"], "OAUTH_INVALID_STATE")),
        ({"state": made["state"]}, (["state"], "OAUTH_INVALID_STATE")),  # in use
        ({"provider": "myspace"}, (["provider"], "OAUTH_UNKNOWN_PROVIDER")),
        ({"tenantSlug": "nope"}, (["tenantSlug"], "UNKNOWN_TENANT")),
        ({"redirectUri": "https://x.example/" + "x" * 2000}, (["redirectUri"], "TOO_LONG")),
    ):
        refused = (await gql(AUTHORIZATION_URL, url_input(**extra))).ok()["oauthAuthorizationUrl"]
        assert refused["url"] is None, extra
        assert [(e["field"][-1:], e["code"]) for e in refused["userErrors"]] == [expected], extra


async def test_a_started_state_finishes_only_its_own_sign_in(
    gql: GraphQLClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant
) -> None:
    await quick_account(runtime, "globex")
    fake.sign_in_as("google", FakeAccount("g-x", "kim@gmail.example"))
    started = (await gql(AUTHORIZATION_URL, url_input())).ok()["oauthAuthorizationUrl"]
    code = (await authorize(started["url"]))["code"]
    base = {"provider": "google", "code": code, "redirectUri": OWN_REDIRECT, "tenantSlug": "acme"}
    for wrong in ({"tenantSlug": "globex"}, {"provider": "github"}, {"state": "x" * 300}):
        refused = (await gql(LOGIN_WITH_OAUTH, {"input": {**base, "state": started["state"], **wrong}})).ok()
        assert codes(refused["loginWithOAuth"]) == ["OAUTH_INVALID_STATE"], wrong
    # The tenant mismatch used the state up; a new one that has expired.
    started = (await gql(AUTHORIZATION_URL, url_input())).ok()["oauthAuthorizationUrl"]
    async with runtime.db.transaction(ALL) as session:
        await session.execute(update(OAuthState).values(expires_at=utcnow() - timedelta(minutes=1)))
    late = (await gql(LOGIN_WITH_OAUTH, {"input": {**base, "state": started["state"]}})).ok()
    assert codes(late["loginWithOAuth"]) == ["OAUTH_STATE_EXPIRED"]
    assert fake.token_requests == [] and await user_count(runtime) == 1


# ---------------------------------------------------------------- my linked identities


async def link_google(gql: GraphQLClient, fake: FakeOAuth, token: str, subject: str, email: str) -> None:
    fake.sign_in_as("google", FakeAccount(subject, email))
    verifier = "v" * 50
    code = await own_code(fake, "google", verifier)
    variables = {
        "input": {"provider": "google", "code": code, "redirectUri": OWN_REDIRECT, "codeVerifier": verifier}
    }
    assert (await gql(LINK, variables, token=token)).ok()["linkOAuthIdentity"]["userErrors"] == []


async def test_my_linked_identities_newest_first_in_pages(
    gql: GraphQLClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant
) -> None:
    ann = await quick_account(runtime, "acme", email="ann@acme.example")
    await link_google(gql, fake, ann.token, "g-ann", "ann@gmail.example")
    linked = await gql(LINK_TELEGRAM, {"input": {"authData": as_input(widget("90001"))}}, token=ann.token)
    assert linked.ok()["linkTelegramIdentity"]["userErrors"] == []
    other = await quick_account(runtime, "acme")
    await link_google(gql, fake, other.token, "g-other", "other@gmail.example")

    await gql.warm(ann.token)
    with count_statements(runtime.db.engine) as counter:
        page = (await gql(MY_IDENTITIES, {"first": 1}, token=ann.token)).ok()["myLinkedIdentities"]
    assert counter.count <= 2, counter.statements  # the page and its count, nothing per row
    assert page["totalCount"] == 2 and page["pageInfo"]["hasNextPage"] is True
    (newest,) = [edge["node"] for edge in page["edges"]]
    assert (newest["provider"], newest["displayName"], newest["email"]) == ("telegram", "tgperson", None)
    assert newest["lastSignInAt"] is None and newest["linkedAt"]
    after = {"first": 5, "after": page["pageInfo"]["endCursor"]}
    rest = (await gql(MY_IDENTITIES, after, token=ann.token)).ok()["myLinkedIdentities"]
    assert [(e["node"]["provider"], e["node"]["email"]) for e in rest["edges"]] == [
        ("google", "ann@gmail.example")
    ]
    assert (await gql(MY_IDENTITIES)).error_codes == ["UNAUTHENTICATED"]


async def test_unlinking_keeps_a_way_to_sign_in(
    gql: GraphQLClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant
) -> None:
    # An account Telegram created has no password: its only identity stays.
    made = await telegram_login(gql, widget("91001"))
    token = made["accessToken"]
    (only,) = [e["node"] for e in (await gql(MY_IDENTITIES, token=token)).ok()["myLinkedIdentities"]["edges"]]
    refused = (await gql(UNLINK, {"id": only["id"]}, token=token)).ok()["unlinkIdentity"]
    assert refused == {
        "linkedIdentity": None,
        "userErrors": [{"field": ["input", "id"], "code": "LAST_SIGN_IN_METHOD"}],
    }

    # With a second identity linked, either one may go, then the other is the last.
    await link_google(gql, fake, token, "g-91001", "tg@gmail.example")
    unlinked = (await gql(UNLINK, {"id": only["id"]}, token=token)).ok()["unlinkIdentity"]
    assert unlinked == {"linkedIdentity": {"id": only["id"], "provider": "telegram"}, "userErrors": []}
    assert [p for p, *_ in await rows(runtime)] == ["google"]
    (google,) = [
        e["node"] for e in (await gql(MY_IDENTITIES, token=token)).ok()["myLinkedIdentities"]["edges"]
    ]
    assert codes((await gql(UNLINK, {"id": google["id"]}, token=token)).ok()["unlinkIdentity"]) == [
        "LAST_SIGN_IN_METHOD"
    ]
    # The unlinked Telegram account no longer signs in as this user: it makes a new one.
    again = await telegram_login(gql, widget("91001", age=1))
    assert again["userErrors"] == [] and again["user"]["id"] != made["user"]["id"]

    # A password account may unlink its last identity; another user's is NOT_FOUND.
    ann = await quick_account(runtime, "acme", email="ann@acme.example")
    assert (await gql(UNLINK, {"id": google["id"]}, token=ann.token)).error_codes == ["NOT_FOUND"]
    await link_google(gql, fake, ann.token, "g-ann", "ann@gmail.example")
    (own,) = [
        e["node"] for e in (await gql(MY_IDENTITIES, token=ann.token)).ok()["myLinkedIdentities"]["edges"]
    ]
    assert (await gql(UNLINK, {"id": own["id"]}, token=ann.token)).ok()["unlinkIdentity"]["userErrors"] == []
    assert (await gql(UNLINK, {"id": own["id"]}, token=ann.token)).error_codes == ["NOT_FOUND"]
    assert (await gql(UNLINK, {"id": own["id"]})).error_codes == ["UNAUTHENTICATED"]


async def test_an_impersonator_cannot_link_or_unlink_sign_ins(
    gql: GraphQLClient, fake: FakeOAuth, runtime: Runtime, acme: Tenant, identity: Identity
) -> None:
    target = await identity.account("acme", Role.TENANT_ADMIN)
    await link_google(gql, fake, target.token, "g-target", "target@gmail.example")
    (own,) = [
        e["node"] for e in (await gql(MY_IDENTITIES, token=target.token)).ok()["myLinkedIdentities"]["edges"]
    ]
    admin = await identity.platform_admin()
    started = await gql(
        IMPERSONATE, {"input": {"userId": target.gid, "reason": "support"}}, token=admin.token
    )
    token = started.ok()["impersonateUser"]["accessToken"]
    refusals = [
        await gql(UNLINK, {"id": own["id"]}, token=token),
        await gql(LINK_TELEGRAM, {"input": {"authData": as_input(widget("95001"))}}, token=token),
        await gql(
            LINK, {"input": {"provider": "google", "code": "c", "redirectUri": OWN_REDIRECT}}, token=token
        ),
    ]
    for refused in refusals:
        (error,) = refused.errors
        assert (error["extensions"]["code"], error["extensions"]["reason"]) == (
            "FORBIDDEN",
            "IMPERSONATION_FORBIDDEN",
        )
    assert [p for p, *_ in await rows(runtime)] == ["google"]
