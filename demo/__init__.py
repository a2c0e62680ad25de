"""Demo data for the embedded run and tests: tenants, accounts, a catalog, orders and invoices.

Kept apart from the domain logic: it only calls services and models. ``seed_demo`` is idempotent."""

from __future__ import annotations

from dataclasses import dataclass

from core.permissions import Role
from core.scope import TenantScope
from demo.billing import seed_demo_billing
from demo.catalog import seed_demo_catalog
from demo.orders import seed_demo_orders
from models.db import Database
from models.identity import TenantKind
from services.identity.bootstrap import (
    PLATFORM_TENANT_SLUG,
    create_platform_admin,
    ensure_tenant,
    ensure_user,
)


@dataclass(frozen=True, slots=True)
class DemoAccount:
    tenant_slug: str
    email: str
    password: str
    roles: tuple[Role, ...]


DEMO_PASSWORD = "demo-password-1"
DEMO_TENANTS = (
    ("acme", "Acme Corporation", TenantKind.ENTERPRISE),
    ("globex", "Globex Resellers", TenantKind.RESELLER),
)


async def seed_demo(db: Database) -> list[DemoAccount]:
    """Demo tenants and accounts; running it again changes nothing."""
    accounts = [
        DemoAccount(PLATFORM_TENANT_SLUG, "admin@platform.example", DEMO_PASSWORD, (Role.PLATFORM_ADMIN,))
    ]
    await create_platform_admin(db, accounts[0].email, "Platform Admin", DEMO_PASSWORD)
    async with db.transaction(TenantScope.all_tenants()) as session:
        for slug, name, kind in DEMO_TENANTS:
            tenant = await ensure_tenant(session, slug, name, kind, f"contact@{slug}.example")
            for local, full_name, roles in (
                ("admin", f"{name} Admin", (Role.TENANT_ADMIN,)),
                ("manager", f"{name} Manager", (Role.MANAGER,)),
                ("user", f"{name} User", (Role.USER,)),
            ):
                email = f"{local}@{slug}.example"
                await ensure_user(session, tenant, email, full_name, DEMO_PASSWORD, roles)
                accounts.append(DemoAccount(slug, email, DEMO_PASSWORD, roles))
            await seed_demo_catalog(session, tenant)
            await seed_demo_orders(session, tenant)
            await seed_demo_billing(session, tenant)
    return accounts
