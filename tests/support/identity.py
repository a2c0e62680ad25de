"""Creating tenants and signed-in accounts for tests."""

from __future__ import annotations

import base64
import functools
import itertools
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher

from core.permissions import Role
from core.scope import TenantScope
from models.db import Database
from models.identity.accounts import Tenant, TenantKind, User, UserRole, UserStatus
from server.runtime import Runtime
from services.context import ServiceContext
from services.identity.auth import start_session
from services.identity.bootstrap import PLATFORM_TENANT_SLUG, ensure_tenant, ensure_user
from tests.support.graphql import GraphQLClient, GraphQLResult

PASSWORD = "correct-horse-battery"
# The address tests.conftest's HTTP client connects from.
CLIENT_IP = "203.0.113.7"

LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) {
    accessToken refreshToken
    user { id email roles tenant { slug } }
    userErrors { field code message }
  }
}
"""
REFRESH = """
mutation Refresh($input: RefreshInput!) {
  refreshToken(input: $input) { accessToken refreshToken userErrors { field code message } }
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


@functools.cache
def quick_password_hash() -> str:
    """An argon2id hash of PASSWORD made with low cost parameters, shared by every quick account.

    argon2 is slow on purpose (~0.2 s a hash); the hash carries its parameters, so the server's own
    verify checks this one fast, and a login with PASSWORD works."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


def service_context(runtime: Runtime) -> ServiceContext:
    """What a service call of an anonymous request from the test client carries."""
    return ServiceContext(
        db=runtime.db, settings=runtime.settings, rate_limiter=runtime.rate_limiter, client_ip=CLIENT_IP
    )


async def quick_account(
    runtime: Runtime,
    slug: str,
    *roles: Role,
    email: str | None = None,
    full_name: str | None = None,
    status: UserStatus = UserStatus.ACTIVE,
) -> Account:
    """A user with ``roles`` (USER if none) in the tenant (created if missing), signed in.

    Like ``Identity.account`` without its two argon2 rounds: the user row gets the shared
    ``quick_password_hash`` and its session comes from the service function login uses once the
    password is checked."""
    number = next(_numbers)
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        kind = TenantKind.INTERNAL if slug == PLATFORM_TENANT_SLUG else TenantKind.ENTERPRISE
        tenant = await ensure_tenant(session, slug, slug.title(), kind)
        user = User(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            email=email or f"user{number}@{slug}.example",
            full_name=full_name or f"User {number}",
            password_hash=quick_password_hash(),
            status=status,
        )
        session.add(user)
        session.add_all(UserRole(tenant_id=tenant.id, user_id=user.id, role=r) for r in roles or (Role.USER,))
        await session.flush()
        signed_in = await start_session(service_context(runtime), session, user)
    return Account(
        slug, tenant.id, user.id, user.email, PASSWORD, signed_in.access_token, signed_in.refresh_token
    )
