"""Invoices and the money that moves on them, payments and refunds: their types, the invoice
statistics, inputs and payloads. One module because the three types point at one another
(Invoice.payments, Payment.invoice, Payment.refunds, Refund.payment)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.errors import NotFound
from models import billing as models
from models.billing import InvoiceStatus, PaymentStatus, RefundDestination, RefundStatus
from schema.billing.plans import BillingSubscription
from schema.enums import documented_enum
from schema.identity.accounts import User, user_of
from schema.money import Money
from schema.nodes import Entity, load_nodes, node_or_none, node_type
from schema.orders.types import Order
from services.billing.access import can_see
from services.billing.invoice_reads import InvoiceOrderField, StatusFigures

documented_enum(
    InvoiceStatus,
    "DRAFT -> OPEN -> PAID; OPEN -> OVERDUE -> PAID; VOID unless PAID.",
    {
        InvoiceStatus.DRAFT: "Being prepared: not yet due, not sent.",
        InvoiceStatus.OPEN: "Issued: payable until its due date.",
        InvoiceStatus.PAID: "Paid in full (final).",
        InvoiceStatus.VOID: "Cancelled: nothing is owed (final).",
        InvoiceStatus.OVERDUE: "Past its due date and not paid in full; still payable.",
    },
)
documented_enum(
    PaymentStatus,
    "REQUIRES_PAYMENT -> PROCESSING -> SUCCEEDED or FAILED; CANCELLED before it succeeds.",
    {
        PaymentStatus.REQUIRES_PAYMENT: "Created: waiting for the payer to confirm (with clientSecret).",
        PaymentStatus.PROCESSING: "Confirmed: the provider is working on it.",
        PaymentStatus.SUCCEEDED: "The money arrived; it counts towards the invoice.",
        PaymentStatus.FAILED: "The provider declined or failed it (see failureReason).",
        PaymentStatus.CANCELLED: "Abandoned before it succeeded.",
    },
)
documented_enum(
    RefundStatus,
    "REQUESTED -> PROCESSING -> SUCCEEDED or FAILED.",
    {
        RefundStatus.REQUESTED: "Asked for; not yet sent to the provider.",
        RefundStatus.PROCESSING: "The provider is working on it.",
        RefundStatus.SUCCEEDED: "The money went back to the payer.",
        RefundStatus.FAILED: "The provider refused or failed it (see failureReason).",
    },
)
documented_enum(
    RefundDestination,
    "Where a refund's money goes (seed 002 `refund_to`).",
    {
        RefundDestination.ORIGINAL_METHOD: "Back to the card, through the payment provider.",
        RefundDestination.BALANCE: "To the buyer's wallet balance (`wallet`), at once and without a "
        "provider call; the wallet's currency only.",
        RefundDestination.PLAN_CREDIT: "Credit on the buyer's live billing subscription of a plan in the "
        "payment's currency (`BillingSubscription.credit`), taken off its next periods' invoices.",
    },
)
documented_enum(
    InvoiceOrderField,
    "What a list of invoices is sorted by.",
    {
        InvoiceOrderField.CREATED_AT: "When the invoice was created.",
        InvoiceOrderField.DUE_AT: "Its due date.",
        InvoiceOrderField.NUMBER: "The invoice number.",
        InvoiceOrderField.TOTAL: "Its total amount (by number alone, across currencies).",
    },
)


@strawberry.type(description="One line of an invoice.")
class InvoiceLine:
    position: int = strawberry.field(description="1, 2, ... on the invoice.")
    description: str = strawberry.field(description="What is billed, as printed.")
    quantity: int = strawberry.field(description="Units billed.")
    unit_amount: Money = strawberry.field(description="Price of one unit before tax.")
    discount: Money = strawberry.field(description="quantity x unitAmount + tax - total.")
    tax: Money = strawberry.field(description="Tax of the line.")
    total: Money = strawberry.field(description="quantity x unitAmount - discount + tax.")

    @classmethod
    def from_model(cls, line: models.InvoiceLine, currency: str) -> Self:
        return cls(
            position=line.position,
            description=line.description,
            quantity=line.quantity,
            unit_amount=Money.of(line.unit_amount, currency),
            discount=Money.of(line.quantity * line.unit_amount + line.tax_amount - line.total, currency),
            tax=Money.of(line.tax_amount, currency),
            total=Money.of(line.total, currency),
        )


@node_type
@strawberry.federation.type(
    keys=["id"], name="Invoice", description="A numbered invoice (INV-<year>-<6 digits>) of a customer."
)
class Invoice(Entity):
    invoice_id: relay.NodeID[str]
    number: str = strawberry.field(
        description="Assigned at creation (drafts too), gapless per tenant and year, e.g. INV-2026-000042."
    )
    status: InvoiceStatus = strawberry.field(description="Where the invoice is in its life cycle.")
    currency: str = strawberry.field(description="ISO 4217 code of every amount.")
    subtotal: Money = strawberry.field(description="Sum of the lines before tax.")
    tax_total: Money = strawberry.field(description="Sum of the lines' tax.")
    total: Money = strawberry.field(description="What is billed: subtotal + taxTotal.")
    amount_paid: Money = strawberry.field(description="Received so far (succeeded payments).")
    amount_due: Money = strawberry.field(description="What is left to pay: total - amountPaid, at least 0.")
    issued_at: datetime | None = strawberry.field(description="When it was issued (UTC); null for a draft.")
    due_at: datetime | None = strawberry.field(description="When payment is due (UTC).")
    paid_at: datetime | None = strawberry.field(description="When it was paid in full (UTC).")
    voided_at: datetime | None = strawberry.field(description="When it was voided (UTC).")
    sent_at: datetime | None = strawberry.field(description="When it was last mailed to the customer (UTC).")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    pdf_url: str = strawberry.field(
        description="GET it with the same Authorization header to download the PDF (owner or staff)."
    )
    customer_uuid: strawberry.Private[uuid.UUID]
    order_uuid: strawberry.Private[uuid.UUID | None]
    subscription_uuid: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, invoice: models.Invoice) -> Self:
        currency = invoice.currency
        return cls(
            invoice_id=str(invoice.id),
            number=invoice.number,
            status=invoice.status,
            currency=currency,
            subtotal=Money.of(invoice.subtotal, currency),
            tax_total=Money.of(invoice.tax_total, currency),
            total=Money.of(invoice.total, currency),
            amount_paid=Money.of(invoice.amount_paid, currency),
            amount_due=Money.of(max(invoice.total - invoice.amount_paid, 0), currency),
            issued_at=invoice.issued_at,
            due_at=invoice.due_at,
            paid_at=invoice.paid_at,
            voided_at=invoice.voided_at,
            sent_at=invoice.sent_at,
            created_at=invoice.created_at,
            updated_at=invoice.updated_at,
            pdf_url=f"/invoices/{invoice.id}/pdf",
            customer_uuid=invoice.customer_id,
            order_uuid=invoice.order_id,
            subscription_uuid=invoice.subscription_id,
        )

    @strawberry.field(description="Who is billed.")
    async def customer(self, info: Info) -> User:
        return await user_of(info, self.customer_uuid)

    @strawberry.field(description="The lines, in order.")
    async def lines(self, info: Info) -> list[InvoiceLine]:
        lines = await info.context.loaders.billing.lines_of_invoice.load(uuid.UUID(self.invoice_id))
        return [InvoiceLine.from_model(line, self.currency) for line in lines]

    @strawberry.field(description="The order this invoice bills, if any.")
    async def order(self, info: Info) -> Order | None:
        return await node_or_none(Order, info, self.order_uuid)

    @strawberry.field(description="The billing subscription this invoice bills a period of, if any.")
    async def subscription(self, info: Info) -> BillingSubscription | None:
        if self.subscription_uuid is None:
            return None
        found = await info.context.loaders.billing.subscription.load(self.subscription_uuid)
        return BillingSubscription.from_model(found) if found else None

    @strawberry.field(
        description="Given back so far of what was paid: its payments' succeeded refunds, lost disputes "
        "included (the invoice stays PAID: it was paid; this is what went back)."
    )
    async def amount_refunded(self, info: Info) -> Money:
        rows = await info.context.loaders.billing.payments_of_invoice.load(uuid.UUID(self.invoice_id))
        return Money.of(sum(p.amount_refunded for p in rows), self.currency)

    @strawberry.field(description="Payments made or attempted for this invoice, oldest first.")
    async def payments(self, info: Info) -> list[Payment]:
        rows = await info.context.loaders.billing.payments_of_invoice.load(uuid.UUID(self.invoice_id))
        return [Payment.from_model(p, info) for p in rows]

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        """Invoices out of the caller's reach look exactly like invoices that do not exist."""
        principal = info.context.principal
        return await load_nodes(
            node_ids,
            "Invoice",
            info.context.loaders.billing.invoice,
            cls.from_model,
            lambda invoice: can_see(principal, invoice.customer_id),
        )


@strawberry.type(description="Invoices of one status in one currency.")
class InvoiceStatusFigures:
    status: InvoiceStatus = strawberry.field(description="The invoice status of these figures.")
    currency: str = strawberry.field(description="ISO 4217 code of the amounts.")
    count: int = strawberry.field(description="Invoices in this status and currency.")
    total: Money = strawberry.field(description="Sum of their totals.")
    amount_paid: Money = strawberry.field(description="Sum paid on them.")

    @classmethod
    def from_result(cls, figures: StatusFigures) -> Self:
        return cls(
            status=figures.status,
            currency=figures.currency,
            count=figures.count,
            total=Money.of(figures.total, figures.currency),
            amount_paid=Money.of(figures.amount_paid, figures.currency),
        )


@strawberry.type(description="Counts and amounts of the tenant's invoices (amounts never mix currencies).")
class InvoiceStatistics:
    count: int = strawberry.field(description="Invoices of the tenant, all statuses.")
    by_status: list[InvoiceStatusFigures] = strawberry.field(description="Figures per status and currency.")


# ---- payments and refunds -----------------------------------------------------------------------


@node_type
@strawberry.federation.type(
    keys=["id"], name="Payment", description="A payment of an invoice at the provider."
)
class Payment(Entity):
    payment_id: relay.NodeID[str]
    status: PaymentStatus = strawberry.field(description="Where the payment is in its life cycle.")
    amount: Money = strawberry.field(description="What is charged.")
    amount_refunded: Money = strawberry.field(description="Refunded so far.")
    provider: str = strawberry.field(description='The payment provider, e.g. "stripe".')
    provider_payment_id: str = strawberry.field(
        description="The provider's id of the payment (e.g. a Stripe PaymentIntent id)."
    )
    client_secret: str | None = strawberry.field(
        description="For the payer's browser to confirm the payment (null for anyone else)."
    )
    card_last4: str | None = strawberry.field(description="Last four digits of the card, once known.")
    failure_reason: str | None = strawberry.field(description="The provider's reason, when FAILED.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    succeeded_at: datetime | None = strawberry.field(description="When it succeeded (UTC).")
    failed_at: datetime | None = strawberry.field(description="When it failed (UTC).")
    currency: strawberry.Private[str]
    user_uuid: strawberry.Private[uuid.UUID]
    invoice_uuid: strawberry.Private[uuid.UUID | None]
    order_uuid: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, payment: models.Payment, info: Info | None = None) -> Self:
        principal = info.context.principal if info else None
        payer = principal is not None and principal.user_id == payment.user_id
        return cls(
            payment_id=str(payment.id),
            status=payment.status,
            amount=Money.of(payment.amount, payment.currency),
            amount_refunded=Money.of(payment.amount_refunded, payment.currency),
            provider=payment.provider,
            provider_payment_id=payment.provider_payment_id,
            client_secret=payment.client_secret if payer else None,
            card_last4=payment.card_last4,
            failure_reason=payment.failure_reason,
            created_at=payment.created_at,
            updated_at=payment.updated_at,
            succeeded_at=payment.succeeded_at,
            failed_at=payment.failed_at,
            currency=payment.currency,
            user_uuid=payment.user_id,
            invoice_uuid=payment.invoice_id,
            order_uuid=payment.order_id,
        )

    @strawberry.field(description="Who pays.")
    async def customer(self, info: Info) -> User:
        return await user_of(info, self.user_uuid)

    @strawberry.field(description="The invoice paid, if any.")
    async def invoice(self, info: Info) -> Invoice | None:
        if self.invoice_uuid is None:
            return None
        found = await info.context.loaders.billing.invoice.load(self.invoice_uuid)
        return Invoice.from_model(found) if found else None

    @strawberry.field(description="The order paid, if any.")
    async def order(self, info: Info) -> Order | None:
        return await node_or_none(Order, info, self.order_uuid)

    @strawberry.field(description="Refunds and disputes of this payment, oldest first.")
    async def refunds(self, info: Info) -> list[Refund]:
        rows = await info.context.loaders.billing.refunds_of_payment.load(uuid.UUID(self.payment_id))
        return [Refund.from_model(r) for r in rows]

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        principal = info.context.principal
        return await load_nodes(
            node_ids,
            "Payment",
            info.context.loaders.billing.payment,
            lambda payment: cls.from_model(payment, info),
            lambda payment: can_see(principal, payment.user_id),
        )


@node_type
@strawberry.federation.type(
    keys=["id"], name="Refund", description="Money given back on a payment: a refund, or a dispute."
)
class Refund(Entity):
    refund_id: relay.NodeID[str]
    status: RefundStatus = strawberry.field(description="Where the refund is in its life cycle.")
    amount: Money = strawberry.field(description="What goes back to the payer.")
    reason: str | None = strawberry.field(description="Why it was asked for.")
    failure_reason: str | None = strawberry.field(description="The provider's reason, when FAILED.")
    disputed: bool = strawberry.field(description="A chargeback opened by the card holder's bank.")
    provider_refund_id: str | None = strawberry.field(
        description="The provider's id of the refund, once sent."
    )
    created_at: datetime = strawberry.field(description="When it was asked for (UTC).")
    processed_at: datetime | None = strawberry.field(description="When it succeeded or failed (UTC).")
    refund_to: RefundDestination = strawberry.field(description="Where the money goes.")
    details: str | None = strawberry.field(description="Notes given with the request.")
    retry_count: int = strawberry.field(description="Provider attempts that failed so far (at most 5).")
    last_error: str | None = strawberry.field(description="Why the last provider attempt failed.")
    next_retry_at: datetime | None = strawberry.field(
        description="When the billing job sends it again (UTC); null: no retry is due."
    )
    payment_uuid: strawberry.Private[uuid.UUID]
    order_uuid: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, refund: models.Refund) -> Self:
        return cls(
            refund_id=str(refund.id),
            status=refund.status,
            amount=Money.of(refund.amount, refund.currency),
            reason=refund.reason,
            failure_reason=refund.failure_reason,
            disputed=refund.disputed,
            provider_refund_id=refund.provider_refund_id,
            created_at=refund.created_at,
            processed_at=refund.processed_at,
            refund_to=refund.refund_to,
            details=refund.details,
            retry_count=refund.retry_count,
            last_error=refund.last_error,
            next_retry_at=refund.next_retry_at,
            payment_uuid=refund.payment_id,
            order_uuid=refund.order_id,
        )

    @strawberry.field(description="The payment refunded.")
    async def payment(self, info: Info) -> Payment:
        found = await info.context.loaders.billing.payment.load(self.payment_uuid)
        if found is None:
            raise NotFound("Payment")
        return Payment.from_model(found, info)

    @strawberry.field(description="The order refunded, if any.")
    async def order(self, info: Info) -> Order | None:
        return await node_or_none(Order, info, self.order_uuid)

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        """A refund is visible to whoever may see its payment (Payment's own rule decides)."""
        refunds = await load_nodes(node_ids, "Refund", info.context.loaders.billing.refund, cls.from_model)
        payments = await Payment.load(info, [str(r.payment_uuid) for r in refunds if r])
        visible = {p.payment_id for p in payments if p}
        return [r if r and str(r.payment_uuid) in visible else None for r in refunds]
