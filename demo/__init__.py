"""Demo data for the embedded run and tests: tenants, accounts, a catalog, orders, a seller, invoices,
a DNS zone, a running provisioning request, streams (one LIVE), an announcement, a feature flag,
support tickets and unread notifications.

Kept apart from the domain logic: it only calls services and models. ``seed_demo`` is idempotent."""

from __future__ import annotations

from dataclasses import dataclass

from core.permissions import Role
from core.scope import TenantScope
from core.settings import DEVELOPMENT_MFA_KEY
from demo.api_keys import seed_demo_api_key
from demo.billing import seed_demo_billing
from demo.catalog import seed_demo_catalog
from demo.dns import seed_demo_dns
from demo.mfa import DEMO_MFA_EMAIL, DEMO_MFA_ROLES, DEMO_MFA_TENANT, seed_demo_mfa
from demo.notifications import seed_demo_notifications
from demo.orders import seed_demo_orders
from demo.provisioning import seed_demo_provisioning
from demo.roles import seed_demo_permission, seed_demo_role
from demo.sellers import seed_demo_sellers
from demo.streams import seed_demo_platform, seed_demo_streams
from demo.tickets import seed_demo_tickets
from demo.usage import seed_demo_usage
from models.db import Database
from models.identity.accounts import TenantKind
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
# Each demo tenant's accounts: <local>@<slug>.example, named "<tenant name> <title>".
DEMO_STAFF = (
    ("admin", "Admin", (Role.TENANT_ADMIN,)),
    ("manager", "Manager", (Role.MANAGER,)),
    ("user", "User", (Role.USER,)),
    ("seller", "Seller", (Role.USER,)),  # demo/sellers.py: a marketplace seller
)
PLATFORM_DEMO_ADMIN = DemoAccount(
    PLATFORM_TENANT_SLUG, "admin@platform.example", DEMO_PASSWORD, (Role.PLATFORM_ADMIN,)
)


def demo_accounts() -> list[DemoAccount]:
    """Every account ``seed_demo`` creates (the landing page lists them without a database)."""
    return [
        PLATFORM_DEMO_ADMIN,
        *(
            DemoAccount(slug, f"{local}@{slug}.example", DEMO_PASSWORD, roles)
            for slug, _, _ in DEMO_TENANTS
            for local, _, roles in DEMO_STAFF
        ),
        # TOTP on: its secret is demo/mfa.py:DEMO_MFA_SECRET (seed-demo prints it).
        DemoAccount(DEMO_MFA_TENANT, DEMO_MFA_EMAIL, DEMO_PASSWORD, DEMO_MFA_ROLES),
    ]


async def seed_demo(db: Database, mfa_encryption_key: str = DEVELOPMENT_MFA_KEY) -> list[DemoAccount]:
    """Demo tenants and accounts; running it again changes nothing. The MFA account's secret is
    sealed with ``mfa_encryption_key`` (the server's setting)."""
    await create_platform_admin(db, PLATFORM_DEMO_ADMIN.email, "Platform Admin", DEMO_PASSWORD)
    async with db.transaction(TenantScope.all_tenants()) as session:
        await seed_demo_permission(session)
        for slug, name, kind in DEMO_TENANTS:
            tenant = await ensure_tenant(session, slug, name, kind, f"contact@{slug}.example")
            for local, title, roles in DEMO_STAFF:
                await ensure_user(
                    session, tenant, f"{local}@{slug}.example", f"{name} {title}", DEMO_PASSWORD, roles
                )
            if slug == DEMO_MFA_TENANT:
                await seed_demo_mfa(session, tenant, DEMO_PASSWORD, mfa_encryption_key)
            await seed_demo_catalog(session, tenant)
            await seed_demo_orders(session, tenant)
            await seed_demo_sellers(session, tenant)
            await seed_demo_billing(session, tenant)
            await seed_demo_usage(session, tenant)
            await seed_demo_api_key(session, tenant)
            await seed_demo_role(session, tenant)
            await seed_demo_dns(session, tenant)
            await seed_demo_provisioning(session, tenant)
            await seed_demo_streams(session, tenant, mfa_encryption_key)
            await seed_demo_tickets(session, tenant)
            await seed_demo_notifications(session, tenant)
        await seed_demo_platform(session)
    return demo_accounts()
