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
from models.billing import InvoiceStatus, PaymentStatus, RefundStatus
from schema.billing.mail import MailMessage
from schema.billing.plans import BillingSubscription
from schema.billing.shared import user_of
from schema.errors import UserError
from schema.identity import User
from schema.money import Money
from schema.nodes import Entity, load_nodes, node_or_none, node_type
from schema.orders import Order
from schema.pagination import OrderDirection
from services.billing.access import can_see
from services.billing.invoices import InvoiceOrderField, StatusFigures

strawberry.enum(
    InvoiceStatus, description="DRAFT -> OPEN -> PAID; OPEN -> OVERDUE -> PAID; VOID unless PAID."
)
strawberry.enum(PaymentStatus)
strawberry.enum(RefundStatus)
strawberry.enum(InvoiceOrderField)


@strawberry.type(description="One line of an invoice.")
class InvoiceLine:
    position: int
    description: str
    quantity: int
    unit_amount: Money
    discount: Money = strawberry.field(description="quantity x unitAmount + tax - total.")
    tax: Money
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
    status: InvoiceStatus
    currency: str
    subtotal: Money
    tax_total: Money
    total: Money
    amount_paid: Money
    amount_due: Money
    issued_at: datetime | None
    due_at: datetime | None
    paid_at: datetime | None
    voided_at: datetime | None
    sent_at: datetime | None
    created_at: datetime
    updated_at: datetime
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
    status: InvoiceStatus
    currency: str
    count: int
    total: Money
    amount_paid: Money

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
    count: int
    by_status: list[InvoiceStatusFigures]


# ---- payments and refunds -----------------------------------------------------------------------


@node_type
@strawberry.federation.type(
    keys=["id"], name="Payment", description="A payment of an invoice at the provider."
)
class Payment(Entity):
    payment_id: relay.NodeID[str]
    status: PaymentStatus
    amount: Money
    amount_refunded: Money
    provider: str
    provider_payment_id: str
    client_secret: str | None = strawberry.field(
        description="For the payer's browser to confirm the payment (null for anyone else)."
    )
    card_last4: str | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime
    succeeded_at: datetime | None
    failed_at: datetime | None
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

    @strawberry.field
    async def invoice(self, info: Info) -> Invoice | None:
        if self.invoice_uuid is None:
            return None
        found = await info.context.loaders.billing.invoice.load(self.invoice_uuid)
        return Invoice.from_model(found) if found else None

    @strawberry.field
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
    status: RefundStatus
    amount: Money
    reason: str | None
    failure_reason: str | None
    disputed: bool = strawberry.field(description="A chargeback opened by the card holder's bank.")
    provider_refund_id: str | None
    created_at: datetime
    processed_at: datetime | None
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
            payment_uuid=refund.payment_id,
            order_uuid=refund.order_id,
        )

    @strawberry.field
    async def payment(self, info: Info) -> Payment:
        found = await info.context.loaders.billing.payment.load(self.payment_uuid)
        if found is None:
            raise NotFound("Payment")
        return Payment.from_model(found, info)

    @strawberry.field
    async def order(self, info: Info) -> Order | None:
        return await node_or_none(Order, info, self.order_uuid)

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        """A refund is visible to whoever may see its payment (Payment's own rule decides)."""
        refunds = await load_nodes(node_ids, "Refund", info.context.loaders.billing.refund, cls.from_model)
        payments = await Payment.load(info, [str(r.payment_uuid) for r in refunds if r])
        visible = {p.payment_id for p in payments if p}
        return [r if r and str(r.payment_uuid) in visible else None for r in refunds]


# ---- inputs -------------------------------------------------------------------------------------


@strawberry.input
class InvoiceFilterInput:
    status: InvoiceStatus | None = None
    customer_id: relay.GlobalID | None = None
    order_id: relay.GlobalID | None = None
    subscription_id: relay.GlobalID | None = None
    currency: str | None = None


@strawberry.input
class InvoiceOrderInput:
    field: InvoiceOrderField = InvoiceOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class CreateInvoiceForOrderInput:
    order_id: relay.GlobalID
    due_at: datetime | None = strawberry.field(default=None, description="Default: 14 days from now.")
    issue: bool = strawberry.field(default=False, description="Issue it at once (OPEN) instead of DRAFT.")


@strawberry.input
class InvoiceIdInput:
    id: relay.GlobalID


@strawberry.input
class SendInvoiceInput:
    id: relay.GlobalID
    to: str | None = strawberry.field(default=None, description="Default: the customer's e-mail.")


# ---- payloads -----------------------------------------------------------------------------------


@strawberry.type
class InvoicePayload:
    invoice: Invoice | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SendInvoicePayload:
    invoice: Invoice | None = None
    mail_message: MailMessage | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MarkOverdueInvoicesPayload:
    count: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)


# Here rather than with the plans: it carries the new period's invoice.
@strawberry.type
class BillingSubscriptionPayload:
    subscription: BillingSubscription | None = None
    invoice: Invoice | None = strawberry.field(
        default=None, description="The new period's invoice, if one began."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)
