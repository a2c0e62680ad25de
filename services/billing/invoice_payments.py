"""``processInvoicePayment`` (seed 000 /payments/process): a service principal charges what is due on
an invoice with the customer's given or default saved card, in one step.

The invoice row is locked FOR UPDATE before the provider is called, and the provider's idempotency
keys are derived from the invoice, the amount due and the card: two concurrent calls (whatever their
own idempotency keys) are serialised on the row, and the second finds the invoice PAID, so the card is
charged once. A declined card is recorded: the Payment is FAILED and committed, and the caller gets a
CARD_REJECTED userError next to it."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, NotFound, invalid
from core.permissions import SERVICE_ONLY
from models.billing import Invoice, Payment, PaymentStatus
from models.db import locked_or_not_found
from services.billing.errors import BillingErrorCode
from services.billing.invoices import PAYABLE
from services.billing.payments import _default_method, _own_method, _provider_failed, apply_intent
from services.billing.provider import PaymentProvider, ProviderError
from services.context import ServiceContext
from services.idempotency import run_once


async def process_invoice_payment(
    ctx: ServiceContext,
    provider: PaymentProvider,
    invoice_id: uuid.UUID,
    *,
    payment_method_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
) -> Payment:
    principal = ctx.require_principal()
    if not principal.is_service_or(*SERVICE_ONLY):
        raise Forbidden("Only service principals process invoice payments.")

    async def perform(session: AsyncSession) -> uuid.UUID:
        invoice = await locked_or_not_found(session, Invoice, invoice_id)
        due = invoice.total - invoice.amount_paid
        if invoice.status not in PAYABLE or due <= 0:
            raise invalid(
                "invoiceId",
                BillingErrorCode.INVOICE_NOT_PAYABLE,
                f"A {invoice.status.value} invoice has nothing to pay.",
            )
        method = (
            await _own_method(session, invoice.customer_id, payment_method_id)
            if payment_method_id is not None
            else await _default_method(session, invoice.customer_id)
        )
        charge_key = f"invoice-{invoice.id}-{due}-{method.id}"
        payment_id = uuid.uuid4()
        try:
            intent = await provider.create_payment_intent(
                amount=due,
                currency=invoice.currency,
                metadata={
                    "tenant_id": str(invoice.tenant_id),
                    "invoice_id": str(invoice.id),
                    "invoice_number": invoice.number,
                    "payment_id": str(payment_id),
                },
                idempotency_key=f"pi-{charge_key}",
            )
            session.add(
                payment := Payment(
                    id=payment_id,
                    tenant_id=invoice.tenant_id,
                    invoice_id=invoice.id,
                    order_id=invoice.order_id,
                    user_id=invoice.customer_id,
                    payment_method_id=method.id,
                    provider=provider.name,
                    provider_payment_id=intent.id,
                    client_secret=intent.client_secret,
                    status=PaymentStatus.REQUIRES_PAYMENT,
                    amount=due,
                    currency=invoice.currency,
                )
            )
            await session.flush()
            confirmed = await provider.confirm_payment_intent(
                intent.id, payment_method=method.provider_method_id, idempotency_key=f"confirm-{charge_key}"
            )
        except ProviderError as exc:
            raise _provider_failed(exc) from exc
        await apply_intent(session, payment, confirmed, actor="service", actor_user_id=principal.person_id)
        return payment_id

    request = {"invoiceId": str(invoice_id), "paymentMethodId": str(payment_method_id or "")}
    outcome = await run_once(ctx, "billing.processInvoicePayment", idempotency_key, request, perform)
    async with ctx.read() as session:
        payment = await session.get(Payment, outcome.entity_id)
    if payment is None:
        raise NotFound("Payment")
    return payment
