"""Sign-in rate limits with real Redis counters: per account, per client IP, for login, register and
refresh. An app of its own with low limits (3 per account, 5 per IP) serves these tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from starlette.applications import Starlette

from core.errors import InvalidInput
from core.permissions import Role
from core.scope import TenantScope
from core.settings import Settings
from models.identity.accounts import TenantKind, User, UserRole
from server.app import create_app
from server.runtime import Runtime
from services.identity import auth
from services.identity.bootstrap import ensure_tenant
from tests.conftest import make_settings
from tests.harness.servers import PostgresServer, RedisServer
from tests.support.graphql import GraphQLClient, GraphQLResult
from tests.support.identity import LOGIN, PASSWORD, REFRESH, quick_password_hash, service_context

PER_ACCOUNT = 3
PER_IP = 5
IP = "198.51.100.9"
OTHER_IP = "198.51.100.77"

REGISTER = """
mutation($input: RegisterInput!) { register(input: $input) { accessToken userErrors { code } } }
"""

Client = Callable[[str], GraphQLClient]


@pytest.fixture(scope="module")
async def limited_app(
    settings: Settings, postgres: PostgresServer, redis_server: RedisServer
) -> AsyncIterator[Starlette]:
    # `settings` has migrated the database.
    application = create_app(
        make_settings(
            postgres.url,
            redis_server.url,
            auth_rate_limit_per_account=PER_ACCOUNT,
            auth_rate_limit_per_ip=PER_IP,
        )
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client_from(limited_app: Starlette, redis_server: RedisServer) -> AsyncIterator[Client]:
    """GraphQL clients of the limited app, one per client IP; every test starts with no counters."""
    redis = Redis.from_url(redis_server.url)
    keys = [key async for key in redis.scan_iter("tenantgraph:rl:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()

    opened: list[httpx.AsyncClient] = []

    def client(ip: str) -> GraphQLClient:
        transport = httpx.ASGITransport(app=limited_app, client=(ip, 1234))
        http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        opened.append(http)
        return GraphQLClient(http)

    yield client
    for http in opened:
        await http.aclose()


async def tenant_with_users(runtime: Runtime, count: int) -> tuple[str, list[str]]:
    """A tenant with a unique slug (these tests share no clean tables) and ``count`` users."""
    slug = f"rl-{uuid.uuid4().hex[:10]}"
    emails = [f"user{number}@{slug}.example" for number in range(count)]
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        tenant = await ensure_tenant(session, slug, "Limited", TenantKind.ENTERPRISE)
        for email in emails:
            user = User(
                id=uuid.uuid4(),
                tenant_id=tenant.id,
                email=email,
                full_name=email,
                password_hash=quick_password_hash(),
            )
            session.add_all([user, UserRole(tenant_id=tenant.id, user_id=user.id, role=Role.USER)])
    return slug, emails


async def login(gql: GraphQLClient, slug: str, email: str, password: str = PASSWORD) -> GraphQLResult:
    return await gql(LOGIN, {"input": {"tenantSlug": slug, "email": email, "password": password}})


def assert_rate_limited(result: GraphQLResult, window_seconds: int) -> None:
    assert result.data is None, result.body
    assert len(result.errors) == 1, result.body
    error = result.errors[0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    retry_after = error["extensions"]["retryAfter"]
    assert isinstance(retry_after, int) and 0 < retry_after <= window_seconds, error
    assert error["message"] == f"Too many attempts; retry in {retry_after} seconds."


def user_error_codes(result: GraphQLResult, field: str) -> list[str]:
    payload: dict[str, Any] = result.ok()[field]
    return [e["code"] for e in payload["userErrors"]]


@pytest.fixture
def runtime_of(limited_app: Starlette) -> Runtime:
    runtime: Runtime = limited_app.state.runtime
    return runtime


@pytest.fixture
def window(runtime_of: Runtime) -> int:
    return runtime_of.settings.auth_rate_limit_window_seconds


async def test_login_limited_per_account(client_from: Client, runtime_of: Runtime, window: int) -> None:
    slug, (victim, other) = await tenant_with_users(runtime_of, 2)
    gql = client_from(IP)
    for _ in range(PER_ACCOUNT):
        assert user_error_codes(await login(gql, slug, victim, "wrong-password"), "login") == [
            "INVALID_CREDENTIALS"
        ]
    # The 4th attempt is refused before the password is even checked: the right one does not help.
    assert_rate_limited(await login(gql, slug, victim), window)
    # The account limit follows the account, whatever the IP (and however the email is spelled).
    assert_rate_limited(await login(client_from(OTHER_IP), slug, victim.upper()), window)
    # Another account from the same IP is still served (4 of 5 IP attempts used).
    signed_in = (await login(gql, slug, other)).ok()["login"]
    assert signed_in["userErrors"] == [] and signed_in["accessToken"]


async def test_login_limited_per_ip(client_from: Client, runtime_of: Runtime, window: int) -> None:
    slug, emails = await tenant_with_users(runtime_of, PER_IP + 2)
    gql = client_from(IP)
    for email in emails[:PER_IP]:
        assert user_error_codes(await login(gql, slug, email, "wrong-password"), "login") == [
            "INVALID_CREDENTIALS"
        ]
    # A 6th account from the same IP, with the right password: refused.
    assert_rate_limited(await login(gql, slug, emails[PER_IP]), window)
    # Another IP is not limited.
    elsewhere = (await login(client_from(OTHER_IP), slug, emails[PER_IP + 1])).ok()["login"]
    assert elsewhere["userErrors"] == [] and elsewhere["accessToken"]


async def test_register_is_limited(client_from: Client, runtime_of: Runtime, window: int) -> None:
    slug, _ = await tenant_with_users(runtime_of, 0)
    gql = client_from(IP)
    variables = {
        "input": {"tenantSlug": slug, "email": f"new@{slug}.example", "fullName": "New", "password": PASSWORD}
    }
    first = (await gql(REGISTER, variables)).ok()["register"]
    assert first["userErrors"] == [] and first["accessToken"]
    for _ in range(PER_ACCOUNT - 1):
        assert user_error_codes(await gql(REGISTER, variables), "register") == ["CONFLICT"]
    assert_rate_limited(await gql(REGISTER, variables), window)

    # Per IP too: sign-ups of other emails from this IP are refused after the 5th attempt.
    fresh = [
        {"input": {**variables["input"], "email": f"fresh{n}@{slug}.example", "password": "short"}}
        for n in range(2)
    ]
    assert user_error_codes(await gql(REGISTER, fresh[0]), "register") == ["WEAK_PASSWORD"]
    assert_rate_limited(await gql(REGISTER, fresh[1]), window)
    assert user_error_codes(await client_from(OTHER_IP)(REGISTER, fresh[1]), "register") == ["WEAK_PASSWORD"]


async def test_refresh_is_limited(client_from: Client, runtime_of: Runtime, window: int) -> None:
    slug, (email,) = await tenant_with_users(runtime_of, 1)
    gql = client_from(IP)
    token = (await login(gql, slug, email)).ok()["login"]["refreshToken"]

    async def refresh(client: GraphQLClient, refresh_token: str) -> GraphQLResult:
        return await client(REFRESH, {"input": {"refreshToken": refresh_token}})

    assert (await refresh(gql, token)).ok()["refreshToken"]["accessToken"]
    for _ in range(PER_ACCOUNT - 1):
        assert user_error_codes(await refresh(gql, token), "refreshToken") == ["REFRESH_TOKEN_REUSED"]
    assert_rate_limited(await refresh(gql, token), window)

    # Guessing tokens from one IP is limited as well (4 used; the 6th is refused).
    assert user_error_codes(await refresh(gql, "rt_guess-1"), "refreshToken") == ["INVALID_REFRESH_TOKEN"]
    assert_rate_limited(await refresh(gql, "rt_guess-2"), window)
    other = client_from(OTHER_IP)
    assert user_error_codes(await refresh(other, "rt_guess-2"), "refreshToken") == ["INVALID_REFRESH_TOKEN"]


async def _attempts(call: Callable[[], Awaitable[GraphQLResult]], times: int) -> list[GraphQLResult]:
    return [await call() for _ in range(times)]


async def test_limits_are_counted_per_action(client_from: Client, runtime_of: Runtime, window: int) -> None:
    # The counters are per action: exhausting login for an account leaves its refresh alone.
    slug, (email,) = await tenant_with_users(runtime_of, 1)
    gql = client_from(IP)
    signed_in = (await login(gql, slug, email)).ok()["login"]
    results = await _attempts(lambda: login(gql, slug, email, "wrong"), PER_ACCOUNT)
    assert [user_error_codes(r, "login") for r in results[:-1]] == [["INVALID_CREDENTIALS"]] * (
        PER_ACCOUNT - 1
    )
    assert_rate_limited(results[-1], window)
    variables = {"input": {"refreshToken": signed_in["refreshToken"]}}
    refreshed = (await gql(REFRESH, variables)).ok()["refreshToken"]
    assert refreshed["userErrors"] == [] and refreshed["accessToken"]


async def test_a_huge_email_leaves_only_small_keys(
    client_from: Client, runtime_of: Runtime, redis_server: RedisServer
) -> None:
    slug, _ = await tenant_with_users(runtime_of, 0)
    huge = "x" * 900_000 + "@acme.example"
    # Over HTTP the request-wide backstop (MAX_STRING_LENGTH) refuses it before anything runs.
    refused = await login(client_from(IP), slug, huge)
    assert refused.error_codes == ["BAD_USER_INPUT"], refused.body
    assert refused.errors[0]["message"] == "$.input.email is longer than 20000 characters."
    # Below the backstop the attempt is counted, then refused as too long for an email.
    assert user_error_codes(await login(client_from(IP), slug, "x" * 19_000 + "@acme.example"), "login") == [
        "TOO_LONG"
    ]
    # The service itself, given the 900,000 characters: counted under a hashed key, then refused.
    with pytest.raises(InvalidInput) as too_long:
        await auth.login(service_context(runtime_of), slug, huge, PASSWORD)
    assert [(p.field, p.code) for p in too_long.value.problems] == [(("input", "email"), "TOO_LONG")]

    redis = Redis.from_url(redis_server.url)
    try:
        keys = [key async for key in redis.scan_iter("tenantgraph:rl:*")]
        sizes = [await redis.memory_usage(key) for key in keys]
    finally:
        await redis.aclose()
    # Two client IPs (the HTTP client's, the service context's) and two accounts, each one key.
    assert len(keys) == 4, keys
    assert max(len(key) for key in keys) <= 100, keys
    assert max(sizes) < 512, sizes
