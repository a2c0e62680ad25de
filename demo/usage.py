"""Usage demo data: pricing rules on a demo product (API calls tiered, storage per unit, a flat
support fee) and this month's usage of the demo user (user@<slug>.example). Re-runnable: rules are
found by metric, usage records by event id. It only calls services and models."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.catalog import Product
from models.identity.accounts import Tenant, User
from models.usage import PricingModel, PricingRule, UsageRecord
from services.billing.usage import NewUsage, period_of, usage_digest

DEMO_USAGE_SKU = "SW-VAULT"
# metric, model, flat amount (minor), unit price (micros), tiers (upTo, micros)
DEMO_RULES: tuple[tuple[str, PricingModel, int, int, list[dict[str, int | None]]], ...] = (
    (
        "api_calls",
        PricingModel.TIERED,
        0,
        0,
        [{"upTo": 1000, "unitPriceMicros": 0}, {"upTo": None, "unitPriceMicros": 50_000}],
    ),
    ("storage_gb", PricingModel.PER_UNIT, 0, 25_000_000, []),
    ("support", PricingModel.FLAT, 1500, 0, []),
)
# event id suffix, metric, quantity, days ago
DEMO_EVENTS = (
    ("calls-1", "api_calls", 800, 2),
    ("calls-2", "api_calls", 700, 1),
    ("storage-1", "storage_gb", 12, 1),
)


async def seed_demo_usage(session: AsyncSession, tenant: Tenant) -> None:
    product = await session.scalar(
        select(Product).where(Product.tenant_id == tenant.id, Product.sku == DEMO_USAGE_SKU)
    )
    if product is None:
        return
    for metric, model, flat, unit, tiers in DEMO_RULES:
        found = await session.scalar(
            select(PricingRule.id).where(PricingRule.tenant_id == tenant.id, PricingRule.metric == metric)
        )
        if found is None:
            session.add(
                PricingRule(
                    id=uuid.uuid4(),
                    tenant_id=tenant.id,
                    product_id=product.id,
                    metric=metric,
                    model=model,
                    currency=product.currency,
                    flat_amount=flat,
                    unit_price_micros=unit,
                    tiers=tiers,
                    active=True,
                )
            )
    user = await session.scalar(
        select(User).where(User.tenant_id == tenant.id, User.email == f"user@{tenant.slug}.example")
    )
    if user is None:
        return
    now = utcnow()
    for suffix, metric, quantity, days_ago in DEMO_EVENTS:
        event_id = f"demo-{period_of(now)}-{suffix}"
        exists = await session.scalar(
            select(UsageRecord.id).where(UsageRecord.tenant_id == tenant.id, UsageRecord.event_id == event_id)
        )
        if exists is not None:
            continue
        occurred_at = max(
            now - timedelta(days=days_ago), now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        )
        session.add(
            UsageRecord(
                id=uuid.uuid4(),
                tenant_id=tenant.id,
                event_id=event_id,
                body_digest=usage_digest(
                    NewUsage(event_id, user.id, metric, quantity, occurred_at, {"region": "eu-west"})
                ),
                customer_id=user.id,
                metric=metric,
                quantity=quantity,
                occurred_at=occurred_at,
                period=period_of(occurred_at),
                dimensions={"region": "eu-west"},
                created_at=now,
            )
        )
    await session.flush()
