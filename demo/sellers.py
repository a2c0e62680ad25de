"""Demo marketplace data: the seller of each tenant (seller@<slug>.example) sells the first product
of the demo orders, has a connected payout account, and is owed a transfer for the paid demo
order; and a WELCOME10 promotion code. Re-runnable: nothing is added twice."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from demo.orders import demo_products
from models.identity.accounts import Tenant, User
from models.orders import Order, OrderStatus
from models.payouts import SellerAccount, Transfer
from models.promotions import PromotionCode, PromotionKind
from services.billing.payouts import schedule_transfers

DEMO_SELLER_LOCAL = "seller"
DEMO_PROMOTION_CODE = "WELCOME10"


async def seed_demo_sellers(session: AsyncSession, tenant: Tenant) -> None:
    seller = await session.scalar(
        select(User).where(
            User.tenant_id == tenant.id, User.email == f"{DEMO_SELLER_LOCAL}@{tenant.slug}.example"
        )
    )
    products = await demo_products(session, tenant)
    if seller is None or not products:
        return
    product = products[0]
    product.seller_id = product.seller_id or seller.id
    if await session.scalar(select(SellerAccount.id).where(SellerAccount.user_id == seller.id)) is None:
        # The in-process provider (the embedded run) accepts any account: the transfer is paid by
        # the first billing job round, and sellerBalance then shows it.
        session.add(
            SellerAccount(
                tenant_id=tenant.id,
                user_id=seller.id,
                provider="stripe",
                provider_account_id=f"acct_demo_{tenant.slug}",
            )
        )
    await session.flush()
    paid = await session.scalars(
        select(Order).where(
            Order.tenant_id == tenant.id, Order.status == OrderStatus.PAID, Order.notes == "Demo order"
        )
    )
    for order in paid:
        if await session.scalar(select(Transfer.id).where(Transfer.order_id == order.id)) is None:
            await schedule_transfers(session, order, actor="demo")
    if await session.scalar(select(PromotionCode.id).where(PromotionCode.tenant_id == tenant.id)) is None:
        session.add(
            PromotionCode(
                tenant_id=tenant.id,
                code=DEMO_PROMOTION_CODE,
                kind=PromotionKind.PERCENT,
                percent_bps=1000,
                max_uses_per_user=1,
                uses_count=0,
                product_ids=[],
                active=True,
            )
        )
