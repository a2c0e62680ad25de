"""API keys against real PostgreSQL and Redis: created with the secret shown once and stored as a
hash, acting as their user within their scopes (Bearer or X-API-Key), refused when revoked,
expired, from a wrong address, over their rate or for a suspended owner (each with its reason),
listed per user or tenant, counted in batches, and the demo key."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.permissions import Role
from core.scope import TenantScope
from core.settings import Settings
from demo import seed_demo
from demo.api_keys import DEMO_API_KEY
from models.base import utcnow
from models.db import Database
from models.identity.accounts import Tenant, TenantStatus, User, UserStatus
from models.identity.api_keys import ApiKey
from schema.nodes import parse_uuid
from server.runtime import Runtime
from tests.conftest import TEST_SIGNING_KEY, gql_of_own_app
from tests.harness.servers import PostgresServer
from tests.support.api_keys import CREATE_KEY, LIST_KEYS, REVOKE_KEY, create_key, refusal, with_key
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import global_id, quick_account
from tests.support.live_server import LegacyWsClient, LiveServer, TransportWsClient, server_env

ME = "{ me { email } }"
ORDERS = "{ orders(first: 5) { totalCount } }"
USERS = "{ users(first: 5) { totalCount } }"
CLEAR_CART = "mutation { clearCart { userErrors { code } } }"
PRODUCTS = "{ products(first: 1) { totalCount } }"
API_KEYS = "{ apiKeys(first: 5) { totalCount } }"


async def stored(runtime: Runtime, key_id: uuid.UUID) -> ApiKey:
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        key = await session.get(ApiKey, key_id)
    assert key is not None
    return key


def raw(global_id: str) -> uuid.UUID:
    return parse_uuid(global_id, "ApiKey")


async def test_the_secret_is_shown_once_and_stored_only_as_its_hash(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    owner = await quick_account(runtime, "acme")
    secret, key = await create_key(
        gql, owner, name="  CI deploys ", scopes=["ORDERS_READ", "PRODUCTS_READ", "ORDERS_READ"]
    )
    assert secret.startswith("tg_live_") and len(secret) == len("tg_live_") + 43
    assert key["keyPrefix"] == secret[:14] and key["lastFour"] == secret[-4:]
    assert (key["name"], key["environment"], key["scopes"]) == (
        "CI deploys",
        "LIVE",
        ["ORDERS_READ", "PRODUCTS_READ"],
    )
    assert (key["rateLimitPerMinute"], key["usageCount"], key["active"]) == (600, 0, True)
    assert key["owner"]["email"] == owner.email
    row = await stored(runtime, raw(key["id"]))
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(vars(row)) and secret[8:] not in repr(vars(row))
    # Never shown again: the listing has no secret field at all, and a TEST key has its prefix.
    test_secret, test_key = await create_key(gql, owner, environment="TEST")
    assert test_secret.startswith("tg_test_") and test_key["keyPrefix"].startswith("tg_test_")
    assert "secret" not in (await gql(LIST_KEYS, token=owner.token)).ok()["apiKeys"]["nodes"][0]


async def test_bad_input_is_answered_with_user_errors(runtime: Runtime, gql: GraphQLClient) -> None:
    owner = await quick_account(runtime, "acme")
    bad = {
        "name": " ",
        "scopes": [],
        "allowedIps": ["10.0.0.300", "10.0.0.5/24", "2001:db8::/32", "198.51.100.7", "1" * 65],
        "rateLimitPerMinute": 0,
        "expiresAt": (utcnow() - timedelta(minutes=1)).isoformat(),
    }
    data = (await gql(CREATE_KEY, {"input": bad}, token=owner.token)).ok()["createApiKey"]
    assert data["secret"] is None and data["apiKey"] is None
    assert sorted((tuple(e["field"]), e["code"]) for e in data["userErrors"]) == [
        (("input", "allowedIps", "0"), "INVALID_NETWORK"),
        (("input", "allowedIps", "1"), "INVALID_NETWORK"),
        (("input", "allowedIps", "4"), "TOO_LONG"),
        (("input", "expiresAt"), "INVALID_EXPIRY"),
        (("input", "name"), "REQUIRED"),
        (("input", "rateLimitPerMinute"), "INVALID_RATE_LIMIT"),
        (("input", "scopes"), "REQUIRED"),
    ]
    too_fast = {"name": "k", "scopes": ["ORDERS_READ"], "rateLimitPerMinute": 100_001}
    codes = (await gql(CREATE_KEY, {"input": too_fast}, token=owner.token)).ok()["createApiKey"]["userErrors"]
    assert [e["code"] for e in codes] == ["INVALID_RATE_LIMIT"]
    # Good networks are kept in canonical form.
    _, key = await create_key(gql, owner, allowedIps=["2001:db8::/32", "198.51.100.7", "10.0.0.0/8"])
    assert key["allowedIps"] == ["10.0.0.0/8", "198.51.100.7/32", "2001:db8::/32"]
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        assert len(list(await session.scalars(select(ApiKey)))) == 1


async def test_a_key_acts_as_its_user_within_its_scopes(runtime: Runtime, gql: GraphQLClient) -> None:
    owner = await quick_account(runtime, "acme")
    secret, _ = await create_key(gql, owner, scopes=["ORDERS_READ"])
    for header in ("bearer", "x-api-key"):
        answer = await with_key(gql, secret, ORDERS, header=header)
        assert answer.ok()["orders"]["totalCount"] == 0
    for query in (ME, CLEAR_CART, PRODUCTS):
        result = await with_key(gql, secret, query)
        assert result.data is None and refusal(result) == (200, "FORBIDDEN", "INSUFFICIENT_SCOPE"), query
    # Fields without @hasScope are for sign-in sessions: a key cannot manage keys, say.
    for query in (
        API_KEYS,
        'mutation { createApiKey(input: {name: "x", scopes: [ORDERS_READ]}) { secret } }',
    ):
        assert refusal(await with_key(gql, secret, query)) == (200, "FORBIDDEN", "SESSION_REQUIRED")
    # The user's own session is not limited by scopes.
    for query in (ME, CLEAR_CART, PRODUCTS, API_KEYS):
        (await gql(query, token=owner.token)).ok()
    # Anonymous storefronts are not affected either.
    (await gql('{ products(tenantSlug: "acme", first: 1) { totalCount } }')).ok()

    wide, _ = await create_key(gql, owner, scopes=["USERS_READ", "ORDERS_WRITE"])
    assert (await with_key(gql, wide, ME)).ok()["me"]["email"] == owner.email
    assert (await with_key(gql, wide, CLEAR_CART)).ok()["clearCart"]["userErrors"] == []
    # Its roles are the user's: a customer's key reads no tenant users whatever its scopes.
    assert refusal(await with_key(gql, wide, USERS)) == (200, "FORBIDDEN", None)


async def test_a_staff_key_sees_its_tenant_only(runtime: Runtime, gql: GraphQLClient) -> None:
    manager = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    await quick_account(runtime, "acme")
    await quick_account(runtime, "globex")
    secret, _ = await create_key(gql, manager, scopes=["USERS_READ"])
    assert (await with_key(gql, secret, USERS)).ok()["users"]["totalCount"] == 2
    # X-Tenant-Id is for platform admins, with keys as with sessions.
    globex = await quick_account(runtime, "globex")
    refused = await gql(USERS, token=secret, headers={"X-Tenant-Id": str(globex.tenant_id)})
    assert refusal(refused)[:2] == (403, "FORBIDDEN")


async def test_a_revoked_key_is_refused_from_the_next_request_on(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    owner = await quick_account(runtime, "acme")
    secret, key = await create_key(gql, owner)
    (await with_key(gql, secret, ORDERS)).ok()
    revoked = (
        await gql(REVOKE_KEY, {"input": {"id": key["id"], "reason": " leaked in a log "}}, token=owner.token)
    ).ok()["revokeApiKey"]
    assert revoked["userErrors"] == []
    assert revoked["apiKey"]["revokeReason"] == "leaked in a log" and revoked["apiKey"]["active"] is False
    result = await with_key(gql, secret, ORDERS)
    assert refusal(result) == (401, "UNAUTHENTICATED", "API_KEY_REVOKED")
    assert result.headers["www-authenticate"] == "Bearer"
    assert refusal(await with_key(gql, secret, ORDERS, header="x-api-key"))[2] == "API_KEY_REVOKED"
    again = (await gql(REVOKE_KEY, {"input": {"id": key["id"]}}, token=owner.token)).ok()["revokeApiKey"]
    assert [e["code"] for e in again["userErrors"]] == ["ALREADY_REVOKED"]
    row = await stored(runtime, raw(key["id"]))
    assert row.revoked_by_user_id == owner.user_id and row.revoked_at is not None


async def test_who_may_revoke_which_key(runtime: Runtime, gql: GraphQLClient) -> None:
    owner = await quick_account(runtime, "acme")
    colleague = await quick_account(runtime, "acme")
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    foreign_admin = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    _, key = await create_key(gql, owner)
    for stranger in (colleague, foreign_admin):
        result = await gql(REVOKE_KEY, {"input": {"id": key["id"]}}, token=stranger.token)
        assert result.error_codes == ["NOT_FOUND"]
    by_admin = (await gql(REVOKE_KEY, {"input": {"id": key["id"]}}, token=admin.token)).ok()["revokeApiKey"]
    assert by_admin["apiKey"]["revokedAt"] is not None
    missing = {"input": {"id": global_id("ApiKey", uuid.uuid4())}}
    assert (await gql(REVOKE_KEY, missing, token=owner.token)).error_codes == ["NOT_FOUND"]


async def test_an_expired_key_is_refused(runtime: Runtime, gql: GraphQLClient) -> None:
    owner = await quick_account(runtime, "acme")
    soon = utcnow() + timedelta(hours=1)
    secret, key = await create_key(gql, owner, expiresAt=soon.isoformat())
    (await with_key(gql, secret, ORDERS)).ok()
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.id == raw(key["id"]))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert refusal(await with_key(gql, secret, ORDERS)) == (401, "UNAUTHENTICATED", "API_KEY_EXPIRED")


async def test_a_key_works_only_from_its_allowed_networks(runtime: Runtime, gql: GraphQLClient) -> None:
    owner = await quick_account(runtime, "acme")
    # The test client calls from 203.0.113.7.
    elsewhere, _ = await create_key(gql, owner, allowedIps=["198.51.100.0/24", "2001:db8::/32"])
    assert refusal(await with_key(gql, elsewhere, ORDERS)) == (403, "FORBIDDEN", "API_KEY_IP_NOT_ALLOWED")
    here, _ = await create_key(gql, owner, allowedIps=["198.51.100.0/24", "203.0.113.0/28"])
    (await with_key(gql, here, ORDERS)).ok()
    exactly, _ = await create_key(gql, owner, allowedIps=["203.0.113.7"])
    (await with_key(gql, exactly, ORDERS)).ok()


async def test_a_key_over_its_rate_is_refused_until_the_minute_is_over(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    owner = await quick_account(runtime, "acme")
    secret, _ = await create_key(gql, owner, rateLimitPerMinute=3)
    other, _ = await create_key(gql, owner, rateLimitPerMinute=3)
    for _ in range(3):
        (await with_key(gql, secret, ORDERS)).ok()
    result = await with_key(gql, secret, ORDERS)
    assert refusal(result) == (429, "RATE_LIMITED", "API_KEY_RATE_LIMITED")
    assert 0 < result.errors[0]["extensions"]["retryAfter"] <= 60
    # Counted per key (in Redis): another key of the same user is not affected.
    (await with_key(gql, other, ORDERS)).ok()


async def test_unknown_and_malformed_keys_are_refused(runtime: Runtime, gql: GraphQLClient) -> None:
    owner = await quick_account(runtime, "acme")
    secret, _ = await create_key(gql, owner)
    for bad in ("tg_live_nothing-of-ours", "tg_test_" + "x" * 200, secret[:-1]):
        assert refusal(await with_key(gql, bad, ORDERS)) == (401, "UNAUTHENTICATED", "API_KEY_INVALID")
    not_a_key = await gql(ORDERS, headers={"X-API-Key": "sk_live_something"})
    assert refusal(not_a_key) == (401, "UNAUTHENTICATED", "API_KEY_INVALID")
    both = await gql(ORDERS, token=owner.token, headers={"X-API-Key": secret})
    assert refusal(both)[:2] == (401, "UNAUTHENTICATED")


async def test_a_suspended_owner_stops_their_keys(runtime: Runtime, gql: GraphQLClient) -> None:
    owner = await quick_account(runtime, "acme")
    secret, _ = await create_key(gql, owner)
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        await session.execute(
            update(User).where(User.id == owner.user_id).values(status=UserStatus.SUSPENDED)
        )
    assert refusal(await with_key(gql, secret, ORDERS)) == (401, "UNAUTHENTICATED", "API_KEY_OWNER_INACTIVE")


@pytest.mark.parametrize(
    ("table", "change"),
    [
        ("user", {"banned_at": utcnow(), "ban_reason": "abuse"}),
        ("tenant", {"deleted_at": utcnow()}),
        ("tenant", {"status": TenantStatus.TRIAL, "trial_ends_at": utcnow() - timedelta(minutes=1)}),
    ],
    ids=["banned owner", "deleted tenant", "trial over"],
)
async def test_what_stops_sign_in_stops_the_keys(
    runtime: Runtime, gql: GraphQLClient, table: str, change: dict[str, object]
) -> None:
    owner = await quick_account(runtime, "acme")
    secret, _ = await create_key(gql, owner)
    (await with_key(gql, secret, ORDERS)).ok()
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        if table == "user":
            await session.execute(update(User).where(User.id == owner.user_id).values(**change))
        else:
            await session.execute(update(Tenant).where(Tenant.id == owner.tenant_id).values(**change))
    assert refusal(await with_key(gql, secret, ORDERS)) == (401, "UNAUTHENTICATED", "API_KEY_OWNER_INACTIVE")


async def test_a_forced_password_change_limits_the_keys_as_the_sessions(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    owner = await quick_account(runtime, "acme")
    secret, _ = await create_key(gql, owner)
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        await session.execute(update(User).where(User.id == owner.user_id).values(must_change_password=True))
    assert refusal(await with_key(gql, secret, ORDERS)) == (200, "FORBIDDEN", "PASSWORD_CHANGE_REQUIRED")


async def test_usage_is_written_in_batches_not_per_request(runtime: Runtime, gql: GraphQLClient) -> None:
    owner = await quick_account(runtime, "acme")
    secret, key = await create_key(gql, owner)
    await runtime.api_keys.usage.flush()  # what earlier tests of this app counted
    with count_statements(runtime.db.engine) as counted:
        for _ in range(3):
            (await with_key(gql, secret, "{ __typename }")).ok()
    # One read per request (the key with its owner and roles), no write.
    assert counted.count == 3 and all(s.lstrip().upper().startswith("SELECT") for s in counted.statements)
    row = await stored(runtime, raw(key["id"]))
    assert (row.usage_count, row.last_used_at) == (0, None)
    assert await runtime.api_keys.usage.flush() == 1
    row = await stored(runtime, raw(key["id"]))
    assert row.usage_count == 3 and row.last_used_at is not None
    assert await runtime.api_keys.usage.flush() == 0
    (await with_key(gql, secret, "{ __typename }")).ok()
    await runtime.api_keys.usage.flush()
    listed = (await gql(LIST_KEYS, token=owner.token)).ok()["apiKeys"]["nodes"]
    assert listed[0]["id"] == key["id"]
    assert (await stored(runtime, raw(key["id"]))).usage_count == 4


async def test_listing_mine_or_the_tenants(runtime: Runtime, gql: GraphQLClient) -> None:
    owner = await quick_account(runtime, "acme")
    colleague = await quick_account(runtime, "acme")
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    foreign = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    _, first = await create_key(gql, owner, name="first")
    _, second = await create_key(gql, owner, name="second")
    _, theirs = await create_key(gql, colleague, name="theirs")
    await gql(REVOKE_KEY, {"input": {"id": first["id"]}}, token=owner.token)

    mine = (await gql(LIST_KEYS, token=owner.token)).ok()["apiKeys"]
    assert [n["name"] for n in mine["nodes"]] == ["second"]
    with_revoked = (await gql(LIST_KEYS, {"filter": {"includeRevoked": True}}, token=owner.token)).ok()
    assert [n["name"] for n in with_revoked["apiKeys"]["nodes"]] == ["second", "first"]
    tenant = (await gql(LIST_KEYS, {"first": 1}, token=admin.token)).ok()["apiKeys"]
    assert tenant["totalCount"] == 2 and [n["name"] for n in tenant["nodes"]] == ["theirs"]
    rest = (
        await gql(LIST_KEYS, {"first": 1, "after": tenant["pageInfo"]["endCursor"]}, token=admin.token)
    ).ok()["apiKeys"]
    assert [n["name"] for n in rest["nodes"]] == ["second"] and rest["pageInfo"]["hasNextPage"] is False
    by_user = (await gql(LIST_KEYS, {"filter": {"userId": colleague.gid}}, token=admin.token)).ok()
    assert [n["id"] for n in by_user["apiKeys"]["nodes"]] == [theirs["id"]]
    # A user's filter does not widen what a non-admin sees.
    assert (await gql(LIST_KEYS, {"filter": {"userId": colleague.gid}}, token=owner.token)).ok()["apiKeys"][
        "totalCount"
    ] == 1
    assert (await gql(LIST_KEYS, token=foreign.token)).ok()["apiKeys"]["totalCount"] == 0
    node = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": second["id"]}, token=colleague.token)
    assert node.error_codes == ["NOT_FOUND"]
    assert (
        await gql("query($id: ID!) { node(id: $id) { id } }", {"id": second["id"]}, token=admin.token)
    ).ok()


async def test_the_demo_key_reads_the_demo_tenant(postgres: PostgresServer) -> None:
    db = Database(postgres.url)
    try:
        await seed_demo(db)
        await seed_demo(db)  # idempotent: still one demo key
        async with db.session(TenantScope.all_tenants()) as session:
            keys = list(await session.scalars(select(ApiKey)))
    finally:
        await db.dispose()
    assert len([k for k in keys if k.name == "Demo read-only key"]) == 1
    async with gql_of_own_app(postgres.url) as gql:
        me = (await gql(ME, token=DEMO_API_KEY)).ok()["me"]
        assert me["email"] == "admin@acme.example"
        assert refusal(await gql(CLEAR_CART, token=DEMO_API_KEY))[1:] == ("FORBIDDEN", "INSUFFICIENT_SCOPE")


@pytest.fixture(scope="module")
async def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    live = LiveServer(
        "api-keys",
        tmp_path_factory.mktemp("api-keys"),
        server_env(settings.database_url, settings.broadcast_url, TEST_SIGNING_KEY),
    )
    live.spawn()
    try:
        await live.wait_healthy()
        yield live
    finally:
        await live.stop_async()


async def test_a_websocket_does_not_take_an_api_key(
    server: LiveServer, runtime: Runtime, gql: GraphQLClient
) -> None:
    owner = await quick_account(runtime, "acme")
    secret, _ = await create_key(gql, owner, scopes=["USERS_READ"])
    async with await LegacyWsClient.open(server.ws_url) as legacy:
        answer = await legacy.init({"Authorization": f"Bearer {secret}"})
    assert answer["type"] == "connection_error"
    assert (answer["payload"]["code"], answer["payload"]["reason"]) == ("FORBIDDEN", "SESSION_REQUIRED")
    async with await TransportWsClient.open(server.ws_url) as ws:
        assert (await ws.init({"Authorization": f"Bearer {owner.token}"}))["type"] == "connection_ack"
