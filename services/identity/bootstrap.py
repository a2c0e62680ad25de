"""Creating tenants and accounts outside of a request: the platform tenant and its first admin,
and the tenants and users that demo data and tests start from."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.permissions import Role
from core.scope import TenantScope
from models.db import Database
from models.identity.accounts import Tenant, TenantKind, TenantStatus, User
from services.identity.accounts import add_account, checked_email
from services.identity.passwords import hash_password_in_thread

PLATFORM_TENANT_SLUG = "platform"


async def ensure_tenant(
    session: AsyncSession, slug: str, name: str, kind: TenantKind, contact_email: str | None = None
) -> Tenant:
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        tenant = Tenant(
            id=uuid.uuid4(),
            slug=slug,
            name=name,
            kind=kind,
            status=TenantStatus.ACTIVE,
            contact_email=contact_email,
            settings={},
        )
        session.add(tenant)
        await session.flush()
    return tenant


async def ensure_user(
    session: AsyncSession,
    tenant: Tenant,
    email: str,
    full_name: str,
    password: str,
    roles: tuple[Role, ...],
) -> tuple[User, bool]:
    """The user with this email in ``tenant``, created with ``roles`` if missing; (user, created)."""
    address = checked_email(email)
    user = await session.scalar(
        select(User).where(User.tenant_id == tenant.id, User.email == address.address)
    )
    if user is not None:
        return user, False
    user = add_account(
        session,
        tenant.id,
        email=address,
        full_name=full_name,
        password_hash=await hash_password_in_thread(password),
        roles=roles,
        email_verified=True,
    )
    await session.flush()
    return user, True


async def create_platform_admin(db: Database, email: str, full_name: str, password: str) -> bool:
    """Creates the platform tenant if needed and a PLATFORM_ADMIN in it; False if one existed."""
    async with db.transaction(TenantScope.all_tenants()) as session:
        platform = await ensure_tenant(
            session, PLATFORM_TENANT_SLUG, "Platform operators", TenantKind.INTERNAL
        )
        _, created = await ensure_user(session, platform, email, full_name, password, (Role.PLATFORM_ADMIN,))
        return created
