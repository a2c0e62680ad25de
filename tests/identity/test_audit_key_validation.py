"""POST /api-keys/validate against real PostgreSQL: a gateway's service token with the scope
api_keys:validate asks about a key by prefix and SHA-256; valid keys answer tenant, scopes and
rate limit; revoked, expired, owner-suspended, wrong-address, unknown and mismatched keys answer
valid false with a reason; callers without the scope, users and malformed bodies are refused."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from core.permissions import Role
from core.scope import TenantScope
from models.audit import AuditEntry
from models.base import utcnow
from models.identity.accounts import User, UserStatus
from models.identity.api_keys import ApiKey
from server.runtime import Runtime
from tests.support.api_keys import create_client, create_key, token_of
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, Identity

ALL = TenantScope.all_tenants()
PATH = "/api-keys/validate"


async def gateway_token(
    gql: GraphQLClient, http: httpx.AsyncClient, identity: Identity, scopes: list[str]
) -> str:
    admin = await identity.platform_admin()
    secret, client = await create_client(gql, admin, scopes)
    return str((await token_of(http, client["clientId"], secret))["access_token"])


def question(secret: str, **extra: Any) -> dict[str, Any]:
    prefix = secret[: len("tg_live_") + 6]
    return {"key_prefix": prefix, "key_hash": hashlib.sha256(secret.encode()).hexdigest(), **extra}


async def ask(http: httpx.AsyncClient, token: str, body: Any) -> httpx.Response:
    return await http.post(PATH, json=body, headers={"Authorization": f"Bearer {token}"})


async def change_key(runtime: Runtime, key_id: str, **values: Any) -> None:
    async with runtime.db.transaction(ALL) as session:
        await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(**values))


async def owner_and_key(gql: GraphQLClient, identity: Identity, **fields: Any) -> tuple[Account, str, str]:
    owner = await identity.account("gateway-shop", Role.MANAGER)
    secret, _ = await create_key(gql, owner, **fields)
    async with identity.db.session(ALL) as session:
        key_id = await session.scalar(
            select(ApiKey.id).where(ApiKey.secret_hash == question(secret)["key_hash"])
        )
    return owner, secret, str(key_id)


async def test_a_valid_key_answers_its_tenant_scopes_and_rate_limit(
    gql: GraphQLClient, http: httpx.AsyncClient, runtime: Runtime, identity: Identity
) -> None:
    token = await gateway_token(gql, http, identity, ["API_KEYS_VALIDATE"])
    owner, secret, key_id = await owner_and_key(
        gql,
        identity,
        scopes=["ORDERS_READ", "PRODUCTS_WRITE"],
        rateLimitPerMinute=42,
        allowedIps=["10.1.0.0/16"],
    )
    answer = await ask(http, token, question(secret, ip_address="10.1.2.3"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "valid": True,
        "reason": None,
        "key_id": key_id,
        "tenant_id": str(owner.tenant_id),
        "user_id": str(owner.user_id),
        "scopes": ["orders:read", "products:write"],
        "rate_limit_rpm": 42,
    }
    outside = (await ask(http, token, question(secret, ip_address="10.2.0.1"))).json()
    assert (outside["valid"], outside["reason"]) == (False, "API_KEY_IP_NOT_ALLOWED")
    no_address = (await ask(http, token, question(secret))).json()
    assert (no_address["valid"], no_address["reason"]) == (False, "API_KEY_IP_NOT_ALLOWED")

    async with runtime.db.session(ALL) as session:
        statement = select(AuditEntry).where(AuditEntry.action == f"rest:POST {PATH}")
        rows = list(await session.scalars(statement.order_by(AuditEntry.created_at, AuditEntry.id)))
    assert [(r.outcome, r.actor_kind, (r.details or {}).get("valid")) for r in rows] == [
        ("SUCCESS", "SERVICE", True),
        ("SUCCESS", "SERVICE", False),
        ("SUCCESS", "SERVICE", False),
    ]
    assert {(r.details or {}).get("keyId") for r in rows} == {key_id}


async def test_keys_that_would_be_refused_answer_why(
    gql: GraphQLClient, http: httpx.AsyncClient, runtime: Runtime, identity: Identity
) -> None:
    token = await gateway_token(gql, http, identity, ["API_KEYS_VALIDATE"])
    owner, secret, key_id = await owner_and_key(gql, identity)

    async def reason(body: dict[str, Any]) -> tuple[bool, str | None]:
        answer = (await ask(http, token, body)).json()
        return answer["valid"], answer["reason"]

    assert await reason(question(secret)) == (True, None)
    assert await reason(question(secret + "x")) == (False, "API_KEY_INVALID")  # unknown hash
    assert await reason({**question(secret), "key_prefix": "tg_live_zzzzzz"}) == (False, "API_KEY_INVALID")
    async with runtime.db.transaction(ALL) as session:
        await session.execute(
            update(User).where(User.id == owner.user_id).values(status=UserStatus.SUSPENDED)
        )
    assert await reason(question(secret)) == (False, "API_KEY_OWNER_INACTIVE")
    async with runtime.db.transaction(ALL) as session:
        await session.execute(update(User).where(User.id == owner.user_id).values(status=UserStatus.ACTIVE))
    await change_key(runtime, key_id, expires_at=utcnow() - timedelta(seconds=1))
    assert await reason(question(secret)) == (False, "API_KEY_EXPIRED")
    await change_key(runtime, key_id, revoked_at=utcnow())
    assert await reason(question(secret)) == (False, "API_KEY_REVOKED")


async def test_callers_and_bodies_are_checked(
    gql: GraphQLClient, http: httpx.AsyncClient, identity: Identity
) -> None:
    _, secret, _ = await owner_and_key(gql, identity)
    body = question(secret)
    assert (await http.post(PATH, json=body)).status_code == 401
    without_scope = await gateway_token(gql, http, identity, ["AUDIT_WRITE"])
    refused = await ask(http, without_scope, body)
    assert (refused.status_code, refused.json()["code"]) == (403, "FORBIDDEN")
    user = await identity.account("gateway-shop", Role.TENANT_ADMIN)
    as_user = await ask(http, user.token, body)
    assert (as_user.status_code, as_user.json()["code"]) == (403, "FORBIDDEN")
    # A user's API key with the scope is no service principal either.
    key_secret, _ = await create_key(gql, user, scopes=["API_KEYS_VALIDATE"])
    assert (await ask(http, key_secret, body)).status_code == 403

    token = await gateway_token(gql, http, identity, ["API_KEYS_VALIDATE"])
    for bad, field in (
        ([], "body"),
        ({"key_hash": body["key_hash"]}, "key_prefix"),
        ({**body, "key_hash": "ABC"}, "key_hash"),
        ({**body, "key_hash": 7}, "key_hash"),
        ({**body, "key_prefix": "x" * 17}, "key_prefix"),
        ({**body, "ip_address": "not an address"}, "ip_address"),
    ):
        answer = await ask(http, token, bad)
        assert (answer.status_code, answer.json()["code"], answer.json()["field"]) == (
            400,
            "BAD_USER_INPUT",
            field,
        )
    not_json = await http.post(PATH, content=b"{nope", headers={"Authorization": f"Bearer {token}"})
    assert (not_json.status_code, not_json.json()["field"]) == (400, "body")
    huge = await http.post(PATH, content=b" " * 20_000, headers={"Authorization": f"Bearer {token}"})
    assert huge.status_code == 413


async def test_an_address_valid_only_in_its_first_64_characters_is_refused(
    gql: GraphQLClient, http: httpx.AsyncClient, identity: Identity
) -> None:
    token = await gateway_token(gql, http, identity, ["API_KEYS_VALIDATE"])
    _, secret, _ = await owner_and_key(gql, identity, allowedIps=["10.1.0.0/16"])
    # A zone id cut at 64 characters is a valid address; with its 65th (a second '%') it is none.
    address = "fe80::1%" + "a" * 56 + "%"
    answer = await ask(http, token, question(secret, ip_address=address))
    assert (answer.status_code, answer.json()["code"], answer.json()["field"]) == (
        400,
        "BAD_USER_INPUT",
        "ip_address",
    )
