"""Billing resolvers: parse input, call a service, map the result to schema types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.errors import NotFound
from core.permissions import BILLING_ADMINS, BILLING_STAFF, Role
from schema.billing import (
    AddPaymentMethodInput,
    BillingSubscription,
    BillingSubscriptionFilterInput,
    BillingSubscriptionIdInput,
    BillingSubscriptionOrderInput,
    BillingSubscriptionPayload,
    CancelSubscriptionInput,
    ChangePlanInput,
    ConfirmPaymentIntentInput,
    CreateInvoiceForOrderInput,
    CreatePaymentIntentInput,
    CreatePlanInput,
    Invoice,
    InvoiceFilterInput,
    InvoiceIdInput,
    InvoiceOrderInput,
    InvoicePayload,
    InvoiceStatistics,
    InvoiceStatusFigures,
    MailMessage,
    MarkOverdueInvoicesPayload,
    Payment,
    PaymentFilterInput,
    PaymentMethod,
    PaymentMethodIdInput,
    PaymentMethodPayload,
    PaymentOrderInput,
    PaymentPayload,
    Plan,
    PlanPayload,
    Refund,
    RefundFilterInput,
    RefundOrderInput,
    RefundPayload,
    RemovePaymentMethodPayload,
    RequestRefundInput,
    SendInvoiceInput,
    SendInvoicePayload,
    SubscribeInput,
)
from schema.directives import AUTHENTICATED, HasRole, access
from schema.errors import mutation_payload
from schema.nodes import optional_reference, parse_uuid
from schema.pagination import Connection, OrderDirection, connection, page_args
from services import invoices, mailer, payments, refunds, subscriptions_billing
from services.invoices import InvoiceFilter
from services.payment_provider import PaymentProvider
from services.payments import PaymentFilter
from services.refunds import RefundFilter
from services.subscriptions_billing import SubscriptionFilter

STAFF = HasRole(*BILLING_STAFF)
ADMINS = HasRole(*BILLING_ADMINS)
TENANT_ADMIN = HasRole(Role.TENANT_ADMIN)


def _provider(info: Info) -> PaymentProvider:
    return info.context.payment_provider


def _invoice_payload(invoice: object) -> InvoicePayload:
    return InvoicePayload(invoice=Invoice.from_model(invoice))  # type: ignore[arg-type]


def _subscription_payload(result: object) -> BillingSubscriptionPayload:
    if isinstance(result, tuple):
        subscription, invoice = result
        return BillingSubscriptionPayload(
            subscription=BillingSubscription.from_model(subscription), invoice=Invoice.from_model(invoice)
        )
    return BillingSubscriptionPayload(subscription=BillingSubscription.from_model(result))  # type: ignore[arg-type]


def _payment_payload(info: Info) -> Callable[[Any], PaymentPayload]:
    def build(payment: Any) -> PaymentPayload:
        shown = Payment.from_model(payment, info)
        # The client secret is for the payer's browser only (as on Payment.clientSecret).
        return PaymentPayload(payment=shown, client_secret=shown.client_secret)

    return build


async def _invoice_by_id(info: Info, id: relay.GlobalID) -> Invoice:
    (invoice,) = await Invoice.resolve_nodes(info=info, node_ids=[str(id)])
    if invoice is None:
        raise NotFound("Invoice")
    return invoice


@strawberry.type
class BillingQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="Your invoices; MANAGER, SUPPORT_AGENT and TENANT_ADMIN see all of the tenant's.",
    )
    async def invoices(
        self,
        info: Info,
        filter: InvoiceFilterInput | None = None,
        order_by: InvoiceOrderInput | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Invoice]:
        f = filter or InvoiceFilterInput()
        order = order_by or InvoiceOrderInput()
        page = await invoices.list_invoices(
            info.context.services,
            InvoiceFilter(
                status=f.status,
                customer_id=optional_reference(f.customer_id, "User"),
                order_id=optional_reference(f.order_id, "Order"),
                subscription_id=optional_reference(f.subscription_id, "BillingSubscription"),
                currency=f.currency,
            ),
            order.field,
            order.direction == OrderDirection.DESC,
            page_args(first, after, last, before),
        )
        return connection(page, Invoice.from_model)

    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="Invoices OVERDUE, or OPEN past their due date (yours; staff: the tenant's).",
    )
    async def overdue_invoices(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Invoice]:
        page = await invoices.list_invoices(
            info.context.services,
            InvoiceFilter(overdue=True),
            invoices.InvoiceOrderField.DUE_AT,
            False,
            page_args(first, after, last, before),
        )
        return connection(page, Invoice.from_model)

    @strawberry.field(extensions=access(AUTHENTICATED), description="An invoice: yours, or any for staff.")
    async def invoice(self, info: Info, id: relay.GlobalID) -> Invoice:
        return await _invoice_by_id(info, id)

    @strawberry.field(extensions=access(AUTHENTICATED), description="An invoice by its number.")
    async def invoice_by_number(self, info: Info, number: str) -> Invoice:
        return Invoice.from_model(await invoices.get_invoice_by_number(info.context.services, number))

    @strawberry.field(
        extensions=access(STAFF), description="Invoice counts and amounts per status and currency."
    )
    async def invoice_statistics(self, info: Info) -> InvoiceStatistics:
        figures = await invoices.invoice_statistics(info.context.services)
        return InvoiceStatistics(
            count=sum(f.count for f in figures),
            by_status=[InvoiceStatusFigures.from_result(f) for f in figures],
        )

    @strawberry.field(
        extensions=access(AUTHENTICATED), description="Your payments; staff see all of the tenant's."
    )
    async def payments(
        self,
        info: Info,
        filter: PaymentFilterInput | None = None,
        order_by: PaymentOrderInput | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Payment]:
        f = filter or PaymentFilterInput()
        order = order_by or PaymentOrderInput()
        page = await payments.list_payments(
            info.context.services,
            PaymentFilter(
                status=f.status,
                invoice_id=optional_reference(f.invoice_id, "Invoice"),
                order_id=optional_reference(f.order_id, "Order"),
                user_id=optional_reference(f.customer_id, "User"),
            ),
            order.field,
            order.direction == OrderDirection.DESC,
            page_args(first, after, last, before),
        )
        return connection(page, lambda p: Payment.from_model(p, info))

    @strawberry.field(extensions=access(AUTHENTICATED), description="A payment: yours, or any for staff.")
    async def payment(self, info: Info, id: relay.GlobalID) -> Payment:
        (payment,) = await Payment.resolve_nodes(info=info, node_ids=[str(id)])
        if payment is None:
            raise NotFound("Payment")
        return payment

    @strawberry.field(extensions=access(AUTHENTICATED), description="Your saved cards, oldest first.")
    async def payment_methods(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[PaymentMethod]:
        page = await payments.list_payment_methods(
            info.context.services, page_args(first, after, last, before)
        )
        return connection(page, PaymentMethod.from_model)

    @strawberry.field(
        extensions=access(AUTHENTICATED), description="Refunds of your payments; staff see the tenant's."
    )
    async def refunds(
        self,
        info: Info,
        filter: RefundFilterInput | None = None,
        order_by: RefundOrderInput | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Refund]:
        f = filter or RefundFilterInput()
        order = order_by or RefundOrderInput()
        page = await refunds.list_refunds(
            info.context.services,
            RefundFilter(
                status=f.status,
                payment_id=optional_reference(f.payment_id, "Payment"),
                order_id=optional_reference(f.order_id, "Order"),
                disputed=f.disputed,
            ),
            order.field,
            order.direction == OrderDirection.DESC,
            page_args(first, after, last, before),
        )
        return connection(page, Refund.from_model)

    @strawberry.field(
        extensions=access(AUTHENTICATED), description="A refund of your payment, or any for staff."
    )
    async def refund(self, info: Info, id: relay.GlobalID) -> Refund:
        return Refund.from_model(await refunds.get_refund(info.context.services, parse_uuid(id, "Refund")))

    @strawberry.field(
        extensions=access(AUTHENTICATED), description="Plans on offer (admins may list inactive ones too)."
    )
    async def plans(
        self,
        info: Info,
        active: bool | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Plan]:
        page = await subscriptions_billing.list_plans(
            info.context.services, active, page_args(first, after, last, before)
        )
        return connection(page, Plan.from_model)

    @strawberry.field(
        extensions=access(AUTHENTICATED), description="Your billing subscriptions; staff see the tenant's."
    )
    async def billing_subscriptions(
        self,
        info: Info,
        filter: BillingSubscriptionFilterInput | None = None,
        order_by: BillingSubscriptionOrderInput | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[BillingSubscription]:
        f = filter or BillingSubscriptionFilterInput()
        order = order_by or BillingSubscriptionOrderInput()
        page = await subscriptions_billing.list_subscriptions(
            info.context.services,
            SubscriptionFilter(
                status=f.status,
                plan_id=optional_reference(f.plan_id, "Plan"),
                user_id=optional_reference(f.customer_id, "User"),
            ),
            order.field,
            order.direction == OrderDirection.DESC,
            page_args(first, after, last, before),
        )
        return connection(page, BillingSubscription.from_model)

    @strawberry.field(
        extensions=access(TENANT_ADMIN),
        description="Outgoing e-mail of the tenant, newest first (queued, sent and failed).",
    )
    async def mail_messages(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[MailMessage]:
        page = await mailer.list_mail(info.context.services, page_args(first, after, last, before))
        return connection(page, MailMessage.from_model)


@strawberry.type
class BillingMutation:
    @strawberry.mutation(
        extensions=access(STAFF), description="Invoice an order: its items become the lines."
    )
    async def create_invoice_for_order(self, info: Info, input: CreateInvoiceForOrderInput) -> InvoicePayload:
        call = invoices.create_invoice_for_order(
            info.context.services, parse_uuid(input.order_id, "Order"), due_at=input.due_at, issue=input.issue
        )
        return await mutation_payload(InvoicePayload, call, _invoice_payload)

    @strawberry.mutation(extensions=access(STAFF), description="DRAFT -> OPEN.")
    async def issue_invoice(self, info: Info, input: InvoiceIdInput) -> InvoicePayload:
        call = invoices.issue_invoice(info.context.services, parse_uuid(input.id, "Invoice"))
        return await mutation_payload(InvoicePayload, call, _invoice_payload)

    @strawberry.mutation(
        extensions=access(ADMINS),
        description="Void an unpaid invoice (TENANT_ADMIN stands in for service principals).",
    )
    async def void_invoice(self, info: Info, input: InvoiceIdInput) -> InvoicePayload:
        call = invoices.void_invoice(info.context.services, parse_uuid(input.id, "Invoice"))
        return await mutation_payload(InvoicePayload, call, _invoice_payload)

    @strawberry.mutation(
        extensions=access(STAFF), description="E-mail the invoice with its PDF to the customer."
    )
    async def send_invoice(self, info: Info, input: SendInvoiceInput) -> SendInvoicePayload:
        call = invoices.send_invoice(info.context.services, parse_uuid(input.id, "Invoice"), input.to)
        return await mutation_payload(
            SendInvoicePayload,
            call,
            lambda r: SendInvoicePayload(
                invoice=Invoice.from_model(r[0]), mail_message=MailMessage.from_model(r[1])
            ),
        )

    @strawberry.mutation(
        extensions=access(ADMINS), description="OPEN invoices past their due date become OVERDUE now."
    )
    async def mark_overdue_invoices(self, info: Info) -> MarkOverdueInvoicesPayload:
        call = invoices.mark_overdue_in_tenant(info.context.services)
        return await mutation_payload(
            MarkOverdueInvoicesPayload, call, lambda n: MarkOverdueInvoicesPayload(count=n)
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Start paying an invoice (its customer, or an admin); returns the client secret.",
    )
    async def create_payment_intent(self, info: Info, input: CreatePaymentIntentInput) -> PaymentPayload:
        call = payments.create_payment_intent(
            info.context.services,
            _provider(info),
            parse_uuid(input.invoice_id, "Invoice"),
            payment_method_id=optional_reference(input.payment_method_id, "PaymentMethod"),
            idempotency_key=info.context.idempotency_key(input.idempotency_key),
        )
        return await mutation_payload(
            PaymentPayload,
            call,
            _payment_payload(info),
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Confirm a payment at the provider with a saved card (server-side confirmation).",
    )
    async def confirm_payment_intent(self, info: Info, input: ConfirmPaymentIntentInput) -> PaymentPayload:
        call = payments.confirm_payment(
            info.context.services,
            _provider(info),
            parse_uuid(input.payment_id, "Payment"),
            payment_method_id=optional_reference(input.payment_method_id, "PaymentMethod"),
            idempotency_key=info.context.idempotency_key(input.idempotency_key),
        )
        return await mutation_payload(
            PaymentPayload, call, lambda p: PaymentPayload(payment=Payment.from_model(p, info))
        )

    @strawberry.mutation(extensions=access(AUTHENTICATED), description="Save a card from a provider token.")
    async def add_payment_method(self, info: Info, input: AddPaymentMethodInput) -> PaymentMethodPayload:
        call = payments.add_payment_method(
            info.context.services, _provider(info), input.card_token, make_default=input.make_default
        )
        return await mutation_payload(
            PaymentMethodPayload,
            call,
            lambda m: PaymentMethodPayload(payment_method=PaymentMethod.from_model(m)),
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED), description="Delete a saved card (another becomes the default)."
    )
    async def remove_payment_method(
        self, info: Info, input: PaymentMethodIdInput
    ) -> RemovePaymentMethodPayload:
        call = payments.remove_payment_method(
            info.context.services, _provider(info), parse_uuid(input.id, "PaymentMethod")
        )
        return await mutation_payload(
            RemovePaymentMethodPayload,
            call,
            lambda removed: RemovePaymentMethodPayload(
                removed_id=relay.GlobalID("PaymentMethod", str(removed))
            ),
        )

    @strawberry.mutation(extensions=access(AUTHENTICATED), description="Make one of your cards the default.")
    async def set_default_payment_method(
        self, info: Info, input: PaymentMethodIdInput
    ) -> PaymentMethodPayload:
        call = payments.set_default_payment_method(
            info.context.services, parse_uuid(input.id, "PaymentMethod")
        )
        return await mutation_payload(
            PaymentMethodPayload,
            call,
            lambda m: PaymentMethodPayload(payment_method=PaymentMethod.from_model(m)),
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Refund a payment (or an order's payment), all or part of it: its owner or staff.",
    )
    async def request_refund(self, info: Info, input: RequestRefundInput) -> RefundPayload:
        call = refunds.request_refund(
            info.context.services,
            _provider(info),
            payment_id=optional_reference(input.payment_id, "Payment"),
            order_id=optional_reference(input.order_id, "Order"),
            amount=input.amount,
            reason=input.reason,
        )
        return await mutation_payload(
            RefundPayload, call, lambda r: RefundPayload(refund=Refund.from_model(r))
        )

    @strawberry.mutation(extensions=access(TENANT_ADMIN), description="Offer a new recurring plan.")
    async def create_plan(self, info: Info, input: CreatePlanInput) -> PlanPayload:
        call = subscriptions_billing.create_plan(
            info.context.services,
            code=input.code,
            name=input.name,
            amount=input.price.amount,
            currency=input.price.currency,
            interval=input.interval,
        )
        return await mutation_payload(PlanPayload, call, lambda p: PlanPayload(plan=Plan.from_model(p)))

    @strawberry.mutation(
        extensions=access(AUTHENTICATED), description="Subscribe to a plan; the first period is invoiced."
    )
    async def subscribe(self, info: Info, input: SubscribeInput) -> BillingSubscriptionPayload:
        call = subscriptions_billing.subscribe(info.context.services, parse_uuid(input.plan_id, "Plan"))
        return await mutation_payload(BillingSubscriptionPayload, call, _subscription_payload)

    @strawberry.mutation(extensions=access(AUTHENTICATED), description="Cancel at the period's end, or now.")
    async def cancel_subscription(
        self, info: Info, input: CancelSubscriptionInput
    ) -> BillingSubscriptionPayload:
        call = subscriptions_billing.cancel_subscription(
            info.context.services,
            parse_uuid(input.id, "BillingSubscription"),
            at_period_end=input.at_period_end,
        )
        return await mutation_payload(BillingSubscriptionPayload, call, _subscription_payload)

    @strawberry.mutation(extensions=access(AUTHENTICATED), description="Pause: no renewals until resumed.")
    async def pause_subscription(
        self, info: Info, input: BillingSubscriptionIdInput
    ) -> BillingSubscriptionPayload:
        call = subscriptions_billing.pause_subscription(
            info.context.services, parse_uuid(input.id, "BillingSubscription")
        )
        return await mutation_payload(BillingSubscriptionPayload, call, _subscription_payload)

    @strawberry.mutation(extensions=access(AUTHENTICATED), description="Resume a paused subscription.")
    async def resume_subscription(
        self, info: Info, input: BillingSubscriptionIdInput
    ) -> BillingSubscriptionPayload:
        call = subscriptions_billing.resume_subscription(
            info.context.services, parse_uuid(input.id, "BillingSubscription")
        )
        return await mutation_payload(BillingSubscriptionPayload, call, _subscription_payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Move to another plan; a new period starts now, invoiced.",
    )
    async def change_plan(self, info: Info, input: ChangePlanInput) -> BillingSubscriptionPayload:
        call = subscriptions_billing.change_plan(
            info.context.services,
            parse_uuid(input.id, "BillingSubscription"),
            parse_uuid(input.plan_id, "Plan"),
        )
        return await mutation_payload(BillingSubscriptionPayload, call, _subscription_payload)
