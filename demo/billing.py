"""Billing demo data: plans, the demo user's billing subscription, and invoices (one PAID with its
payment, one OPEN queued for mailing) for the demo orders. It only calls services and models."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.billing import (
    BillingSubscription,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    Plan,
    PlanInterval,
)
from models.identity.accounts import Tenant, User
from models.orders import Order, OrderStatus
from services.billing.invoice_pdf import invoice_document
from services.billing.invoices import apply_payment, new_order_invoice
from services.billing.mail import queue_mail
from services.billing.plans import subscribe_user

DEMO_PLANS = (
    ("starter-monthly", "Starter", 900, PlanInterval.MONTH),
    ("pro-monthly", "Pro", 2900, PlanInterval.MONTH),
    ("pro-yearly", "Pro (yearly)", 29000, PlanInterval.YEAR),
)


async def seed_demo_plan(session: AsyncSession, tenant: Tenant) -> None:
    """Demo plans, and the demo user (user@<slug>.example) on Pro with its first invoice."""
    plans: dict[str, Plan] = {}
    for code, name, amount, interval in DEMO_PLANS:
        plan = await session.scalar(select(Plan).where(Plan.tenant_id == tenant.id, Plan.code == code))
        if plan is None:
            plan = Plan(
                id=uuid.uuid4(),
                tenant_id=tenant.id,
                code=code,
                name=name,
                amount=amount,
                currency="EUR",
                interval=interval,
                active=True,
            )
            session.add(plan)
        plans[code] = plan
    await session.flush()
    user = await session.scalar(
        select(User).where(User.tenant_id == tenant.id, User.email == f"user@{tenant.slug}.example")
    )
    if user is None:
        return
    existing = await session.scalar(
        select(BillingSubscription.id).where(BillingSubscription.user_id == user.id)
    )
    if existing is None:
        await subscribe_user(session, tenant.id, user.id, plans["pro-monthly"])


async def seed_demo_billing(session: AsyncSession, tenant: Tenant) -> None:
    """Plans, the demo user's subscription with its OPEN invoice, and for the demo orders (if the
    orders demo made any): a PAID invoice with its payment for the PAID order and an OPEN invoice,
    queued for mailing, for an order not paid yet. Running it again adds nothing."""
    unpaid = (OrderStatus.PENDING, OrderStatus.AWAITING_PAYMENT)

    await seed_demo_plan(session, tenant)
    orders = list(
        await session.scalars(
            select(Order)
            .where(
                Order.tenant_id == tenant.id,
                Order.status.in_([*unpaid, OrderStatus.PAID]),
            )
            .order_by(Order.created_at, Order.id)
        )
    )
    paid = next((o for o in orders if o.status == OrderStatus.PAID), None)
    awaiting = next((o for o in orders if o.status in unpaid), None)
    for order, target in ((paid, InvoiceStatus.PAID), (awaiting, InvoiceStatus.OPEN)):
        if order is None:
            continue
        if await session.scalar(select(Invoice.id).where(Invoice.order_id == order.id)):
            continue
        invoice = await new_order_invoice(session, order, issue=True)
        if target == InvoiceStatus.PAID:
            session.add(
                Payment(
                    tenant_id=tenant.id,
                    invoice_id=invoice.id,
                    order_id=order.id,
                    user_id=order.user_id,
                    provider="demo",
                    provider_payment_id=f"pi_demo_{order.id.hex}",
                    status=PaymentStatus.SUCCEEDED,
                    amount=invoice.total,
                    currency=invoice.currency,
                    card_last4="4242",
                    succeeded_at=utcnow(),
                )
            )
            apply_payment(session, invoice, invoice.total)
        else:
            document = await invoice_document(session, invoice)
            queue_mail(
                session,
                tenant_id=tenant.id,
                to=document.customer_email,
                subject=f"Invoice {invoice.number} from {document.seller_name}",
                body=f"Please find attached invoice {invoice.number}.",
                attachments={"invoicePdf": str(invoice.id)},
            )
    await session.flush()
