"""Demo orders: the demo user of each tenant gets one PENDING and one PAID order."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.catalog import Product, ProductStatus
from models.identity.accounts import Tenant, User
from models.orders import Order, OrderStatus
from services.orders.checkout import place_order
from services.orders.new_order import Address, NewOrder, NewOrderLine
from services.orders.states import move

DEMO_ADDRESS = Address(
    name="Demo User", line1="1 Example Street", city="Berlin", postal_code="10115", country="DE"
)


async def demo_products(session: AsyncSession, tenant: Tenant) -> list[Product]:
    """Two sellable products of one currency from the demo catalog (seeded before the orders)."""
    sellable = list(
        await session.scalars(
            select(Product)
            .where(
                Product.tenant_id == tenant.id,
                Product.status == ProductStatus.ACTIVE,
                (Product.stock_quantity.is_(None)) | (Product.stock_quantity >= 10),
            )
            .order_by(Product.sku)
            .limit(20)
        )
    )
    return [p for p in sellable if p.currency == sellable[0].currency][:2] if sellable else []


async def seed_demo_orders(session: AsyncSession, tenant: Tenant) -> None:
    """One PENDING and one PAID order of the tenant's demo user (user@<slug>.example), placed
    through the same code as createOrder; does nothing when that user has orders already."""
    user = await session.scalar(
        select(User).where(User.tenant_id == tenant.id, User.email == f"user@{tenant.slug}.example")
    )
    if user is None:
        return
    if await session.scalar(select(Order.id).where(Order.user_id == user.id).limit(1)) is not None:
        return
    products = await demo_products(session, tenant)
    if not products:
        return
    lines = [NewOrderLine(p.id, n + 1, {}) for n, p in enumerate(products)]
    for paid in (False, True):
        order = await place_order(
            session,
            tenant_id=tenant.id,
            user_id=user.id,
            new=NewOrder(items=lines, shipping_address=DEMO_ADDRESS, notes="Demo order"),
            actor="demo",
        )
        if paid:
            move(session, order, OrderStatus.AWAITING_PAYMENT, actor="demo")
            move(session, order, OrderStatus.PAID, actor="demo", reason="Demo payment")
    await session.flush()
