"""Creating tenants and signed-in accounts for tests."""

from __future__ import annotations

import base64
import itertools
import uuid
from dataclasses import dataclass

from models.db import Database
from models.identity import Role, Tenant, TenantKind
from models.tenancy import TenantScope
from services.provisioning import PLATFORM_TENANT_SLUG, ensure_tenant, ensure_user
from tests.support.graphql import GraphQLClient, GraphQLResult

PASSWORD = "correct-horse-battery"

LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) {
    accessToken refreshToken
    user { id email roles tenant { slug } }
    userErrors { field code message }
  }
}
"""

_numbers = itertools.count(1)


def global_id(type_name: str, raw: uuid.UUID) -> str:
    return base64.b64encode(f"{type_name}:{raw}".encode()).decode()


@dataclass
class Account:
    tenant_slug: str
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    password: str
    token: str
    refresh_token: str

    @property
    def gid(self) -> str:
        return global_id("User", self.user_id)

    @property
    def tenant_gid(self) -> str:
        return global_id("Tenant", self.tenant_id)


class Identity:
    def __init__(self, db: Database, gql: GraphQLClient) -> None:
        self.db = db
        self.gql = gql

    async def tenant(self, slug: str | None = None, kind: TenantKind = TenantKind.ENTERPRISE) -> Tenant:
        slug = slug or f"tenant-{next(_numbers)}"
        async with self.db.transaction(TenantScope.all_tenants()) as session:
            return await ensure_tenant(session, slug, slug.title(), kind)

    async def account(
        self,
        tenant_slug: str | None = None,
        *roles: Role,
        email: str | None = None,
        password: str = PASSWORD,
        full_name: str | None = None,
    ) -> Account:
        """A user with ``roles`` (USER if none) in the tenant (created if missing), signed in."""
        tenant = await self.tenant(tenant_slug)
        email = email or f"user{next(_numbers)}@{tenant.slug}.example"
        async with self.db.transaction(TenantScope.all_tenants()) as session:
            user, _ = await ensure_user(
                session, tenant, email, full_name or email.split("@")[0], password, roles or (Role.USER,)
            )
        signed_in = (await self.login(tenant.slug, email, password)).ok()["login"]
        assert signed_in["accessToken"], signed_in
        return Account(
            tenant.slug,
            tenant.id,
            user.id,
            email,
            password,
            signed_in["accessToken"],
            signed_in["refreshToken"],
        )

    async def platform_admin(self) -> Account:
        return await self.account(PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)

    async def login(self, tenant_slug: str, email: str, password: str) -> GraphQLResult:
        return await self.gql(
            LOGIN, {"input": {"tenantSlug": tenant_slug, "email": email, "password": password}}
        )
