"""The billing demo data: seeded last by demo.seed_demo (after catalog and orders),
re-runnable without duplicates, and readable through the API."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from core.scope import TenantScope
from demo import DEMO_PASSWORD, seed_demo
from models.billing import (
    BillingSubscription,
    Invoice,
    InvoiceStatus,
    MailMessage,
    MailStatus,
    Payment,
    PaymentStatus,
    Plan,
)
from models.catalog import Product
from models.identity.accounts import Tenant
from models.orders import Order, OrderStatus
from models.payouts import Transfer, TransferStatus
from models.promotions import PromotionCode
from server.runtime import Runtime
from services.billing.in_process_provider import InProcessPaymentProvider
from services.billing.payouts import send_due_transfers
from tests.billing.support import rows
from tests.support.identity import Identity


async def snapshot(runtime: Runtime) -> dict[str, object]:
    return {
        "invoices": sorted((i.tenant_id, i.number, i.status, i.total) for i in await rows(runtime, Invoice)),
        "plans": len(await rows(runtime, Plan)),
        "subscriptions": len(await rows(runtime, BillingSubscription)),
        "payments": len(await rows(runtime, Payment)),
        "mail": len(await rows(runtime, MailMessage)),
    }


async def test_the_demo_has_plans_a_subscription_and_invoices_for_the_demo_orders(
    runtime: Runtime, identity: Identity
) -> None:
    await seed_demo(runtime.db)
    first = await snapshot(runtime)
    await seed_demo(runtime.db)
    assert await snapshot(runtime) == first

    async with runtime.db.session(TenantScope.all_tenants()) as session:
        acme = await session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    assert acme is not None
    invoices = await rows(runtime, Invoice, Invoice.tenant_id == acme.id)
    orders = {o.id: o for o in await rows(runtime, Order, Order.tenant_id == acme.id)}
    assert sorted(p.code for p in await rows(runtime, Plan, Plan.tenant_id == acme.id)) == [
        "pro-monthly",
        "pro-yearly",
        "starter-monthly",
    ]
    (subscription,) = await rows(runtime, BillingSubscription, BillingSubscription.tenant_id == acme.id)
    by_subscription = [i for i in invoices if i.subscription_id == subscription.id]
    assert [(i.status, i.total) for i in by_subscription] == [(InvoiceStatus.OPEN, 2900)]
    order_invoices = {orders[i.order_id].status: i for i in invoices if i.order_id}
    if orders:  # the orders demo placed a PAID and an unpaid order
        paid = order_invoices[OrderStatus.PAID]
        assert (
            paid.status == InvoiceStatus.PAID
            and paid.amount_paid == paid.total == orders[paid.order_id].total
        )
        (payment,) = await rows(runtime, Payment, Payment.invoice_id == paid.id)
        assert payment.status == PaymentStatus.SUCCEEDED and payment.amount == paid.total
        unpaid = next(i for s, i in order_invoices.items() if s != OrderStatus.PAID)
        assert unpaid.status == InvoiceStatus.OPEN
        (mail,) = await rows(runtime, MailMessage, MailMessage.tenant_id == acme.id)
        assert mail.status == MailStatus.QUEUED and mail.attachments == {"invoicePdf": str(unpaid.id)}
    numbers = sorted(i.number for i in invoices)
    assert numbers == [f"INV-{paid.created_at.year}-{n:06d}" for n in range(1, len(invoices) + 1)]
    # Every demo tenant got the same.
    assert sorted(Counter(i.tenant_id for i in await rows(runtime, Invoice)).values()) == [3, 3]

    # The demo user reads their invoices through the API.
    signed_in = (await identity.login("acme", "user@acme.example", DEMO_PASSWORD)).ok()["login"]
    listed = (
        await identity.gql(
            "query { invoices { totalCount nodes { number } } }", token=signed_in["accessToken"]
        )
    ).ok()["invoices"]
    assert listed["totalCount"] == len(invoices)


async def test_the_demo_seller_is_paid_by_the_billing_job(runtime: Runtime, identity: Identity) -> None:
    await seed_demo(runtime.db)
    await seed_demo(runtime.db)  # again: nothing twice
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        acme = await session.scalar(select(Tenant).where(Tenant.slug == "acme"))
    assert acme is not None
    (transfer,) = await rows(runtime, Transfer, Transfer.tenant_id == acme.id)
    (order,) = await rows(runtime, Order, Order.id == transfer.order_id)
    (sold,) = [p for p in await rows(runtime, Product, Product.tenant_id == acme.id) if p.seller_id]
    assert order.status == OrderStatus.PAID and sold.seller_id == transfer.seller_id
    assert (transfer.status, transfer.amount, transfer.platform_fee) == (
        TransferStatus.PENDING,
        sold.price,
        0,
    )
    assert len(await rows(runtime, Transfer)) == 2  # one per demo tenant
    assert [c.code for c in await rows(runtime, PromotionCode, PromotionCode.tenant_id == acme.id)] == [
        "WELCOME10"
    ]

    # The embedded default's in-process provider pays it; the seller reads it through the API.
    provider = InProcessPaymentProvider()
    assert await send_due_transfers(runtime.db, provider) == 2
    signed_in = (await identity.login("acme", "seller@acme.example", DEMO_PASSWORD)).ok()["login"]
    mine = (
        await identity.gql(
            "query { transfers { nodes { status amount { amount } } } }", token=signed_in["accessToken"]
        )
    ).ok()["transfers"]["nodes"]
    assert mine == [{"status": "PAID", "amount": {"amount": transfer.amount}}]
    assert provider.transferred[f"acct_demo_{acme.slug}"] == {order.currency: transfer.amount}
