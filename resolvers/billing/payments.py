"""Root fields of payments and saved cards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.scopes import ApiScope
from models import billing as models
from schema.billing.invoices import Payment
from schema.billing.payments import (
    AddPaymentMethodInput,
    ConfirmPaymentIntentInput,
    CreatePaymentIntentInput,
    PaymentFilterInput,
    PaymentMethod,
    PaymentMethodIdInput,
    PaymentMethodPayload,
    PaymentOrderInput,
    PaymentPayload,
    ProcessInvoicePaymentInput,
    RemovePaymentMethodPayload,
)
from schema.context import RequestContext
from schema.directives import AUTHENTICATED, SERVICE_ONLY, HasScope, access
from schema.errors import UserError, mutation_payload
from schema.nodes import node_or_not_found, optional_reference, parse_uuid
from schema.pagination import (
    FILTER,
    SORT,
    After,
    Before,
    Connection,
    First,
    Last,
    OrderDirection,
    connection,
    page_args,
)
from services.billing import invoice_payments, payments
from services.billing.errors import BillingErrorCode
from services.billing.payments import PaymentFilter
from services.billing.provider import PaymentProvider

READ = HasScope(ApiScope.PAYMENTS_READ)
WRITE = HasScope(ApiScope.PAYMENTS_WRITE)


def provider_of(info: Info[RequestContext, None]) -> PaymentProvider:
    return info.context.payment_provider


def _payment_method_payload(method: models.PaymentMethod) -> PaymentMethodPayload:
    return PaymentMethodPayload(payment_method=PaymentMethod.from_model(method))


def _payment_payload(info: Info) -> Callable[[models.Payment], PaymentPayload]:
    def build(payment: models.Payment) -> PaymentPayload:
        shown = Payment.from_model(payment, info)
        # The client secret is for the payer's browser only (as on Payment.clientSecret).
        return PaymentPayload(payment=shown, client_secret=shown.client_secret)

    return build


@strawberry.type
class PaymentQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED, READ), description="Your payments; staff see all of the tenant's."
    )
    async def payments(
        self,
        info: Info,
        filter: Annotated[PaymentFilterInput | None, FILTER] = None,
        order_by: Annotated[PaymentOrderInput | None, SORT] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
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

    @strawberry.field(
        extensions=access(AUTHENTICATED, READ), description="A payment: yours, or any for staff."
    )
    async def payment(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The payment's global id.")],
    ) -> Payment:
        return await node_or_not_found(Payment, info, id)

    @strawberry.field(extensions=access(AUTHENTICATED, READ), description="Your saved cards, oldest first.")
    async def payment_methods(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[PaymentMethod]:
        page = await payments.list_payment_methods(
            info.context.services, page_args(first, after, last, before)
        )
        return connection(page, PaymentMethod.from_model)


@strawberry.type
class PaymentMutation:
    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE),
        description="Start paying an invoice (its customer, or an admin); returns the client secret.",
    )
    async def create_payment_intent(
        self,
        info: Info,
        input: Annotated[
            CreatePaymentIntentInput, strawberry.argument(description="The invoice to pay and the card.")
        ],
    ) -> PaymentPayload:
        call = payments.create_payment_intent(
            info.context.services,
            provider_of(info),
            parse_uuid(input.invoice_id, "Invoice"),
            payment_method_id=optional_reference(input.payment_method_id, "PaymentMethod"),
            idempotency_key=info.context.idempotency_key(input.idempotency_key),
        )
        return await mutation_payload(PaymentPayload, call, _payment_payload(info))

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE),
        description="Confirm a payment at the provider with a saved card (server-side confirmation).",
    )
    async def confirm_payment_intent(
        self,
        info: Info,
        input: Annotated[
            ConfirmPaymentIntentInput, strawberry.argument(description="The payment to confirm and the card.")
        ],
    ) -> PaymentPayload:
        call = payments.confirm_payment(
            info.context.services,
            provider_of(info),
            parse_uuid(input.payment_id, "Payment"),
            payment_method_id=optional_reference(input.payment_method_id, "PaymentMethod"),
            idempotency_key=info.context.idempotency_key(input.idempotency_key),
        )
        return await mutation_payload(
            PaymentPayload, call, lambda p: PaymentPayload(payment=Payment.from_model(p, info))
        )

    @strawberry.mutation(
        extensions=access(SERVICE_ONLY, HasScope(ApiScope.PAYMENTS_PROCESS)),
        description="Charge what is due on an invoice with the customer's given or default saved card: "
        "the invoice (and its order) PAID, or the payment FAILED with a CARD_REJECTED userError.",
    )
    async def process_invoice_payment(
        self,
        info: Info,
        input: Annotated[
            ProcessInvoicePaymentInput,
            strawberry.argument(description="The invoice and, optionally, the card."),
        ],
    ) -> PaymentPayload:
        call = invoice_payments.process_invoice_payment(
            info.context.services,
            provider_of(info),
            parse_uuid(input.invoice_id, "Invoice"),
            payment_method_id=optional_reference(input.payment_method_id, "PaymentMethod"),
            idempotency_key=info.context.idempotency_key(input.idempotency_key),
        )

        def build(payment: models.Payment) -> PaymentPayload:
            errors = []
            if payment.status == models.PaymentStatus.FAILED:
                errors.append(
                    UserError(
                        field=None,
                        code=BillingErrorCode.CARD_REJECTED.value,
                        message=f"The card was declined: {payment.failure_reason}",
                    )
                )
            return PaymentPayload(payment=Payment.from_model(payment), user_errors=errors)

        return await mutation_payload(PaymentPayload, call, build)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE), description="Save a card from a provider token."
    )
    async def add_payment_method(
        self,
        info: Info,
        input: Annotated[
            AddPaymentMethodInput, strawberry.argument(description="The provider's card token.")
        ],
    ) -> PaymentMethodPayload:
        call = payments.add_payment_method(
            info.context.services, provider_of(info), input.card_token, make_default=input.make_default
        )
        return await mutation_payload(PaymentMethodPayload, call, _payment_method_payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE),
        description="Delete a saved card (another becomes the default).",
    )
    async def remove_payment_method(
        self,
        info: Info,
        input: Annotated[PaymentMethodIdInput, strawberry.argument(description="The card to remove.")],
    ) -> RemovePaymentMethodPayload:
        call = payments.remove_payment_method(
            info.context.services, provider_of(info), parse_uuid(input.id, "PaymentMethod")
        )
        return await mutation_payload(
            RemovePaymentMethodPayload,
            call,
            lambda removed: RemovePaymentMethodPayload(
                removed_id=relay.GlobalID("PaymentMethod", str(removed))
            ),
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE), description="Make one of your cards the default."
    )
    async def set_default_payment_method(
        self,
        info: Info,
        input: Annotated[
            PaymentMethodIdInput, strawberry.argument(description="The card to make your default.")
        ],
    ) -> PaymentMethodPayload:
        call = payments.set_default_payment_method(
            info.context.services, parse_uuid(input.id, "PaymentMethod")
        )
        return await mutation_payload(PaymentMethodPayload, call, _payment_method_payload)
