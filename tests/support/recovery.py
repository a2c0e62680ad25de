"""Registration, verification and reset in tests: the GraphQL documents, and reading the mails,
text messages and challenge rows they leave."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select, update

from core.scope import TenantScope
from models.billing import MailMessage
from models.identity.accounts import Tenant
from models.identity.verification import SmsMessage, VerificationChallenge
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient

ALL = TenantScope.all_tenants()

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) {
    accessToken refreshToken verificationRequired
    user {
      id email emailAddress fullName firstName lastName username phone phoneVerified emailVerified roles
      tenant { slug }
    }
    userErrors { field code message }
  }
}
"""

LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) {
    accessToken refreshToken verificationRequired
    user { id email phone }
    userErrors { field code message }
  }
}
"""

ME = "{ me { id email emailAddress emailVerified phone phoneVerified } }"


async def register(gql: GraphQLClient, slug: str, password: str, **fields: Any) -> dict[str, Any]:
    result: dict[str, Any] = (
        await gql(REGISTER, {"input": {"tenantSlug": slug, "password": password, **fields}})
    ).ok()["register"]
    return result


async def login(gql: GraphQLClient, slug: str, password: str, **name: Any) -> dict[str, Any]:
    result: dict[str, Any] = (
        await gql(LOGIN, {"input": {"tenantSlug": slug, "password": password, **name}})
    ).ok()["login"]
    return result


def problems(payload: dict[str, Any]) -> list[tuple[tuple[str, ...] | None, str]]:
    return [
        (tuple(error["field"]) if error["field"] else None, error["code"]) for error in payload["userErrors"]
    ]


async def mails_to(runtime: Runtime, address: str) -> list[MailMessage]:
    async with runtime.db.session(ALL) as session:
        found = await session.scalars(
            select(MailMessage).where(MailMessage.to_address == address).order_by(MailMessage.created_at)
        )
        return list(found)


async def texts_to(runtime: Runtime, number: str) -> list[SmsMessage]:
    async with runtime.db.session(ALL) as session:
        found = await session.scalars(
            select(SmsMessage).where(SmsMessage.to_number == number).order_by(SmsMessage.created_at)
        )
        return list(found)


def link_token(body: str) -> str:
    """The token of the one link in a mail or text."""
    tokens = re.findall(r"[?&]token=([A-Za-z0-9_\-]+)", body)
    assert len(tokens) == 1, body
    return tokens[0]


def link_tenant(body: str) -> str:
    tenants = re.findall(r"[?&]tenant=([a-z0-9\-]+)", body)
    assert len(tenants) == 1, body
    return tenants[0]


def texted_code(body: str) -> str:
    found = re.match(r"(\d{6}) is your ", body)
    assert found is not None, body
    return found.group(1)


async def challenges_of(runtime: Runtime, user_id: uuid.UUID) -> list[VerificationChallenge]:
    async with runtime.db.session(ALL) as session:
        found = await session.scalars(
            select(VerificationChallenge)
            .where(VerificationChallenge.user_id == user_id)
            .order_by(VerificationChallenge.created_at)
        )
        return list(found)


async def set_challenges(runtime: Runtime, user_id: uuid.UUID, **values: Any) -> None:
    """Sets ``values`` on every challenge row of the user (e.g. an expiry in the past)."""
    async with runtime.db.transaction(ALL) as session:
        await session.execute(
            update(VerificationChallenge).where(VerificationChallenge.user_id == user_id).values(**values)
        )


async def set_tenant_settings(runtime: Runtime, slug: str, settings: dict[str, Any]) -> None:
    async with runtime.db.transaction(ALL) as session:
        await session.execute(update(Tenant).where(Tenant.slug == slug).values(settings=settings))
