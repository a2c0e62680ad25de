"""The demo custom role: acme's "Inventory clerk", held by its demo manager, granting two
built-in permissions and the platform's demo custom permission `inventory:manage` (seed 004's
manage_inventory), so that the catalogue and the role pages have something of each kind."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.identity.accounts import Tenant, User
from models.identity.roles import CustomPermission, CustomRole, UserCustomRole

DEMO_PERMISSION = ("inventory", "manage", "manage_inventory", "Full access to inventory management.")
DEMO_ROLE_TENANT = "acme"
DEMO_ROLE_NAME = "Inventory clerk"
DEMO_ROLE_HOLDER = "manager@acme.example"
DEMO_ROLE_PERMISSIONS = ("inventory:manage", "products:read", "products:write")


async def seed_demo_permission(session: AsyncSession) -> None:
    """The platform's demo custom permission, if missing."""
    resource, action, name, description = DEMO_PERMISSION
    found = await session.scalar(
        select(CustomPermission.id).where(
            CustomPermission.resource == resource, CustomPermission.action == action
        )
    )
    if found is None:
        session.add(CustomPermission(resource=resource, action=action, name=name, description=description))
        await session.flush()


async def seed_demo_role(session: AsyncSession, tenant: Tenant) -> None:
    """The demo role and its holder, if this is its tenant and the role is missing."""
    if tenant.slug != DEMO_ROLE_TENANT:
        return
    found = await session.scalar(
        select(CustomRole.id).where(CustomRole.tenant_id == tenant.id, CustomRole.name == DEMO_ROLE_NAME)
    )
    if found is not None:
        return
    role = CustomRole(
        tenant_id=tenant.id,
        name=DEMO_ROLE_NAME,
        description="Keeps the stock: reads and writes products, manages inventory.",
        permissions=list(DEMO_ROLE_PERMISSIONS),
    )
    session.add(role)
    await session.flush()
    holder = await session.scalar(
        select(User.id).where(User.tenant_id == tenant.id, User.email == DEMO_ROLE_HOLDER)
    )
    if holder is not None:
        session.add(UserCustomRole(tenant_id=tenant.id, user_id=holder, role_id=role.id))
