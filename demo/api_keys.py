"""The demo API key: a TEST key of acme's demo admin with read scopes, its secret fixed and
documented (README, `tenantgraph seed-demo`) so that a demo can call the API with it at once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.scopes import ApiScope
from models.identity.accounts import Tenant, User
from models.identity.api_keys import ApiKey, ApiKeyEnvironment
from services.identity.api_keys import NewApiKey, hash_secret, key_row

# Demo data only: anyone can read it here. Real keys come from createApiKey and are random.
DEMO_API_KEY = "tg_test_demo_acme_admin_read_only_0000000000000000"
DEMO_API_KEY_OWNER = "admin@acme.example"
DEMO_API_KEY_SCOPES = (
    ApiScope.USERS_READ,
    ApiScope.TENANTS_READ,
    ApiScope.PRODUCTS_READ,
    ApiScope.ORDERS_READ,
    ApiScope.INVOICES_READ,
    ApiScope.PAYMENTS_READ,
)


async def seed_demo_api_key(session: AsyncSession, tenant: Tenant) -> None:
    """The demo key of the tenant's admin, if this is the tenant the key belongs to and it is missing."""
    if not DEMO_API_KEY_OWNER.endswith(f"@{tenant.slug}.example"):
        return
    if await session.scalar(select(ApiKey.id).where(ApiKey.secret_hash == hash_secret(DEMO_API_KEY))):
        return
    owner = await session.scalar(
        select(User).where(User.tenant_id == tenant.id, User.email == DEMO_API_KEY_OWNER)
    )
    if owner is None:
        return
    new = NewApiKey(name="Demo read-only key", scopes=DEMO_API_KEY_SCOPES, environment=ApiKeyEnvironment.TEST)
    session.add(key_row(tenant.id, owner.id, new, DEMO_API_KEY, 600, []))
