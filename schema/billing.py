"""Billing types: invoices, payments, refunds, payment methods, plans and billing subscriptions
(federation entities and Relay nodes), outgoing mail, statistics, inputs and payloads."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from core.errors import NotFound
from models import billing as models
from models.billing import (
    InvoiceStatus,
    MailStatus,
    PaymentStatus,
    PlanInterval,
    RefundStatus,
    SubscriptionStatus,
)
from schema.errors import UserError
from schema.identity import User
from schema.money import BigInt, Money, MoneyInput
from schema.nodes import Entity, node_type, parse_uuid
from schema.orders import Order
from schema.pagination import OrderDirection
from services.invoices import InvoiceOrderField, StatusFigures, can_see
from services.payments import PaymentOrderField
from services.refunds import RefundOrderField
from services.subscriptions_billing import SubscriptionOrderField

strawberry.enum(
    InvoiceStatus, description="DRAFT -> OPEN -> PAID; OPEN -> OVERDUE -> PAID; VOID unless PAID."
)
strawberry.enum(PaymentStatus)
strawberry.enum(RefundStatus)
strawberry.enum(PlanInterval)
strawberry.enum(SubscriptionStatus, name="BillingSubscriptionStatus")
strawberry.enum(MailStatus)
strawberry.enum(InvoiceOrderField)
strawberry.enum(PaymentOrderField)
strawberry.enum(RefundOrderField)
strawberry.enum(SubscriptionOrderField, name="BillingSubscriptionOrderField")


async def _order(info: Info, order_id: uuid.UUID | None) -> Order | None:
    if order_id is None:
        return None
    (order,) = await Order.resolve_nodes(info=info, node_ids=[str(order_id)])
    return order


async def _user(info: Info, user_id: uuid.UUID) -> User:
    user = await info.context.loaders.identity.user.load(user_id)
    if user is None:
        raise NotFound("User")
    return User.from_model(user)


# ---- invoices -----------------------------------------------------------------------------------


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
class Invoice(Entity, relay.Node):
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
        return await _user(info, self.customer_uuid)

    @strawberry.field(description="The lines, in order.")
    async def lines(self, info: Info) -> list[InvoiceLine]:
        lines = await info.context.loaders.billing.lines_of_invoice.load(uuid.UUID(self.invoice_id))
        return [InvoiceLine.from_model(line, self.currency) for line in lines]

    @strawberry.field(description="The order this invoice bills, if any.")
    async def order(self, info: Info) -> Order | None:
        return await _order(info, self.order_uuid)

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
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        """Invoices out of the caller's reach look exactly like invoices that do not exist."""
        loaded = await info.context.loaders.billing.invoice.load_many(
            [parse_uuid(i, "Invoice") for i in node_ids]
        )
        principal = info.context.principal
        return [cls.from_model(i) if i and can_see(principal, i.customer_id) else None for i in loaded]


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


# ---- payments -----------------------------------------------------------------------------------


@node_type
@strawberry.federation.type(
    keys=["id"], name="Payment", description="A payment of an invoice at the provider."
)
class Payment(Entity, relay.Node):
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
        return await _user(info, self.user_uuid)

    @strawberry.field
    async def invoice(self, info: Info) -> Invoice | None:
        if self.invoice_uuid is None:
            return None
        found = await info.context.loaders.billing.invoice.load(self.invoice_uuid)
        return Invoice.from_model(found) if found else None

    @strawberry.field
    async def order(self, info: Info) -> Order | None:
        return await _order(info, self.order_uuid)

    @strawberry.field(description="Refunds and disputes of this payment, oldest first.")
    async def refunds(self, info: Info) -> list[Refund]:
        rows = await info.context.loaders.billing.refunds_of_payment.load(uuid.UUID(self.payment_id))
        return [Refund.from_model(r) for r in rows]

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        loaded = await info.context.loaders.billing.payment.load_many(
            [parse_uuid(i, "Payment") for i in node_ids]
        )
        principal = info.context.principal
        return [cls.from_model(p, info) if p and can_see(principal, p.user_id) else None for p in loaded]


@node_type
@strawberry.federation.type(
    keys=["id"], name="Refund", description="Money given back on a payment: a refund, or a dispute."
)
class Refund(Entity, relay.Node):
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
        return await _order(info, self.order_uuid)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        loaders = info.context.loaders.billing
        refunds = await loaders.refund.load_many([parse_uuid(i, "Refund") for i in node_ids])
        payments = await loaders.payment.load_many([r.payment_id for r in refunds if r])
        owners = {p.id: p.user_id for p in payments if p}
        principal = info.context.principal
        return [
            cls.from_model(r)
            if r and r.payment_id in owners and can_see(principal, owners[r.payment_id])
            else None
            for r in refunds
        ]


@node_type
@strawberry.federation.type(keys=["id"], name="PaymentMethod", description="A saved card of a user.")
class PaymentMethod(Entity, relay.Node):
    payment_method_id: relay.NodeID[str]
    provider: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    is_default: bool = strawberry.field(description="Exactly one card of a user with cards is the default.")
    created_at: datetime

    @classmethod
    def from_model(cls, method: models.PaymentMethod) -> Self:
        return cls(
            payment_method_id=str(method.id),
            provider=method.provider,
            brand=method.brand,
            last4=method.last4,
            exp_month=method.exp_month,
            exp_year=method.exp_year,
            is_default=method.is_default,
            created_at=method.created_at,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        ids = [parse_uuid(i, "PaymentMethod") for i in node_ids]
        loaded = await info.context.loaders.billing.payment_method.load_many(ids)
        principal = info.context.principal
        return [cls.from_model(m) if m and can_see(principal, m.user_id) else None for m in loaded]


# ---- plans and subscriptions ------------------------------------------------------------------


@node_type
@strawberry.federation.type(keys=["id"], name="Plan", description="A recurring price customers subscribe to.")
class Plan(Entity, relay.Node):
    plan_id: relay.NodeID[str]
    code: str
    name: str
    price: Money
    interval: PlanInterval
    active: bool
    created_at: datetime

    @classmethod
    def from_model(cls, plan: models.Plan) -> Self:
        return cls(
            plan_id=str(plan.id),
            code=plan.code,
            name=plan.name,
            price=Money.of(plan.amount, plan.currency),
            interval=plan.interval,
            active=plan.active,
            created_at=plan.created_at,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        loaded = await info.context.loaders.billing.plan.load_many([parse_uuid(i, "Plan") for i in node_ids])
        return [cls.from_model(p) if p else None for p in loaded]


@node_type
@strawberry.federation.type(
    keys=["id"], name="BillingSubscription", description="A customer's recurring plan, billed per period."
)
class BillingSubscription(Entity, relay.Node):
    subscription_id: relay.NodeID[str]
    status: SubscriptionStatus
    current_period_start: datetime
    current_period_end: datetime
    cancel_at_period_end: bool
    paused_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime
    plan_uuid: strawberry.Private[uuid.UUID]
    user_uuid: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, subscription: models.BillingSubscription) -> Self:
        return cls(
            subscription_id=str(subscription.id),
            status=subscription.status,
            current_period_start=subscription.current_period_start,
            current_period_end=subscription.current_period_end,
            cancel_at_period_end=subscription.cancel_at_period_end,
            paused_at=subscription.paused_at,
            cancelled_at=subscription.cancelled_at,
            created_at=subscription.created_at,
            updated_at=subscription.updated_at,
            plan_uuid=subscription.plan_id,
            user_uuid=subscription.user_id,
        )

    @strawberry.field
    async def plan(self, info: Info) -> Plan:
        plan = await info.context.loaders.billing.plan.load(self.plan_uuid)
        if plan is None:
            raise NotFound("Plan")
        return Plan.from_model(plan)

    @strawberry.field(description="The subscriber.")
    async def customer(self, info: Info) -> User:
        return await _user(info, self.user_uuid)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        ids = [parse_uuid(i, "BillingSubscription") for i in node_ids]
        loaded = await info.context.loaders.billing.subscription.load_many(ids)
        principal = info.context.principal
        return [cls.from_model(s) if s and can_see(principal, s.user_id) else None for s in loaded]


# ---- mail -------------------------------------------------------------------------------------


@strawberry.type(description="An outgoing e-mail, stored first and delivered by the mail sender.")
class MailMessage:
    id: strawberry.ID
    to: str
    subject: str
    body_text: str
    attachments: JSON
    status: MailStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def from_model(cls, message: models.MailMessage) -> Self:
        return cls(
            id=strawberry.ID(str(message.id)),
            to=message.to_address,
            subject=message.subject,
            body_text=message.body_text,
            attachments=message.attachments,
            status=message.status,
            attempts=message.attempts,
            last_error=message.last_error,
            created_at=message.created_at,
            sent_at=message.sent_at,
        )


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


@strawberry.input
class PaymentFilterInput:
    status: PaymentStatus | None = None
    invoice_id: relay.GlobalID | None = None
    order_id: relay.GlobalID | None = None
    customer_id: relay.GlobalID | None = None


@strawberry.input
class PaymentOrderInput:
    field: PaymentOrderField = PaymentOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class CreatePaymentIntentInput:
    invoice_id: relay.GlobalID
    payment_method_id: relay.GlobalID | None = None
    idempotency_key: str | None = strawberry.field(default=None, description="Or the Idempotency-Key header.")


@strawberry.input
class ConfirmPaymentIntentInput:
    payment_id: relay.GlobalID
    payment_method_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Default: your default card."
    )
    idempotency_key: str | None = strawberry.field(default=None, description="Or the Idempotency-Key header.")


@strawberry.input
class AddPaymentMethodInput:
    card_token: str = strawberry.field(description="The provider's card token, e.g. tok_visa.")
    make_default: bool = False


@strawberry.input
class PaymentMethodIdInput:
    id: relay.GlobalID


@strawberry.input
class RequestRefundInput:
    payment_id: relay.GlobalID | None = None
    order_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Refunds the order's payment."
    )
    amount: BigInt | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Minor units; default: everything not refunded yet."
    )
    reason: str | None = None


@strawberry.input
class RefundFilterInput:
    status: RefundStatus | None = None
    payment_id: relay.GlobalID | None = None
    order_id: relay.GlobalID | None = None
    disputed: bool | None = None


@strawberry.input
class RefundOrderInput:
    field: RefundOrderField = RefundOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class CreatePlanInput:
    code: str
    name: str
    price: MoneyInput
    interval: PlanInterval


@strawberry.input
class SubscribeInput:
    plan_id: relay.GlobalID


@strawberry.input
class BillingSubscriptionIdInput:
    id: relay.GlobalID


@strawberry.input
class CancelSubscriptionInput:
    id: relay.GlobalID
    at_period_end: bool = strawberry.field(default=True, description="False ends it now.")


@strawberry.input
class ChangePlanInput:
    id: relay.GlobalID
    plan_id: relay.GlobalID


@strawberry.input
class BillingSubscriptionFilterInput:
    status: SubscriptionStatus | None = None
    plan_id: relay.GlobalID | None = None
    customer_id: relay.GlobalID | None = None


@strawberry.input
class BillingSubscriptionOrderInput:
    field: SubscriptionOrderField = SubscriptionOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.ASC


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


@strawberry.type
class PaymentPayload:
    payment: Payment | None = None
    client_secret: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PaymentMethodPayload:
    payment_method: PaymentMethod | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RemovePaymentMethodPayload:
    removed_id: relay.GlobalID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RefundPayload:
    refund: Refund | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PlanPayload:
    plan: Plan | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class BillingSubscriptionPayload:
    subscription: BillingSubscription | None = None
    invoice: Invoice | None = strawberry.field(
        default=None, description="The new period's invoice, if one began."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)
