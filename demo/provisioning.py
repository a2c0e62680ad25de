"""Demo provisioning: each tenant sells a managed database that needs provisioning, and its demo
user has one RUNNING provisioning request of it (the first step done; the server's worker runs
the rest, a step every 5 seconds, so the demo shows live progress at once; /demo starts more)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.catalog import Product, ProductStatus
from models.identity.accounts import Tenant, User
from models.provisioning import ProvisioningRequest, ProvisioningStatus, StepStatus
from services.provisioning.requests import new_request
from services.provisioning.states import move, percent_of, steps_of

DEMO_SERVICE_SKU = "SV-MANAGED-DB"
DEMO_PARAMETERS = {"region": "eu-central", "size": "small", "engine": "postgresql-17"}
DEMO_STEP_SECONDS = 5


async def seed_demo_provisioning(session: AsyncSession, tenant: Tenant) -> None:
    """Idempotent: the product once, the request once per demo user."""
    product = await session.scalar(
        select(Product).where(Product.tenant_id == tenant.id, Product.sku == DEMO_SERVICE_SKU)
    )
    if product is None:
        product = Product(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            sku=DEMO_SERVICE_SKU,
            name="Managed PostgreSQL",
            description="A PostgreSQL database set up for you: paying for it starts its provisioning.",
            base_price=2900,
            currency="EUR",
            status=ProductStatus.ACTIVE,
            stock_quantity=None,
            is_digital=True,
            requires_provisioning=True,
            attributes={"demo": True},
            image_urls=[],
            rating_count=0,
            rating_total=0,
        )
        session.add(product)
        await session.flush()
    user = await session.scalar(
        select(User).where(User.tenant_id == tenant.id, User.email == f"user@{tenant.slug}.example")
    )
    if user is None:
        return
    if await session.scalar(select(ProvisioningRequest.id).where(ProvisioningRequest.user_id == user.id)):
        return
    request = new_request(
        session,
        tenant_id=tenant.id,
        user_id=user.id,
        actor="demo",
        actor_user_id=None,
        product_id=product.id,
        parameters={**DEMO_PARAMETERS, "simulate": {"stepSeconds": DEMO_STEP_SECONDS}},
    )
    move(session, request, ProvisioningStatus.RUNNING, actor="demo", reason="demo request")
    await session.flush()
    steps = await steps_of(session, request.id)
    now = utcnow()
    steps[0].status, steps[0].started_at, steps[0].finished_at = StepStatus.COMPLETED, now, now
    steps[0].message = "Parameters checked."
    steps[0].runs = 1
    request.percent = percent_of(steps)
    await session.flush()
