"""Saved cards, and the inputs and payloads of paying (the Payment type is in invoices.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import billing as models
from models.billing import PaymentStatus
from schema.billing.invoices import Payment
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from schema.nodes import Entity, load_nodes, node_type
from schema.pagination import OrderDirection
from services.billing.access import can_see
from services.billing.payments import PaymentOrderField

documented_enum(
    PaymentOrderField,
    "What a list of payments is sorted by.",
    {PaymentOrderField.CREATED_AT: "When the payment was created.", PaymentOrderField.AMOUNT: "Its amount."},
)


@node_type
@strawberry.federation.type(keys=["id"], name="PaymentMethod", description="A saved card of a user.")
class PaymentMethod(Entity):
    payment_method_id: relay.NodeID[str]
    provider: str = strawberry.field(description='The payment provider holding the card, e.g. "stripe".')
    brand: str | None = strawberry.field(description='Card brand, e.g. "visa".')
    last4: str | None = strawberry.field(description="Last four digits of the card.")
    exp_month: int | None = strawberry.field(description="Expiry month, 1 to 12.")
    exp_year: int | None = strawberry.field(description="Expiry year, e.g. 2029.")
    is_default: bool = strawberry.field(description="Exactly one card of a user with cards is the default.")
    created_at: datetime = strawberry.field(description="When it was saved (UTC).")

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
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        principal = info.context.principal
        return await load_nodes(
            node_ids,
            "PaymentMethod",
            info.context.loaders.billing.payment_method,
            cls.from_model,
            lambda method: can_see(principal, method.user_id),
        )


# ---- inputs -------------------------------------------------------------------------------------


@strawberry.input(description="Which payments to list; the conditions given all apply.")
class PaymentFilterInput:
    status: PaymentStatus | None = strawberry.field(default=None, description="Only payments in this status.")
    invoice_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only payments of this invoice."
    )
    order_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only payments of this order."
    )
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this payer's (staff)."
    )


@strawberry.input(description="How payments are sorted (ties in id order).")
class PaymentOrderInput:
    field: PaymentOrderField = strawberry.field(default=PaymentOrderField.CREATED_AT, description="Sort key.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Sort direction.")


@strawberry.input(description="Start paying an invoice: a payment for its amount due.")
class CreatePaymentIntentInput:
    invoice_id: relay.GlobalID = strawberry.field(description="The invoice's global id (OPEN or OVERDUE).")
    payment_method_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The card to charge; default: your default card."
    )
    idempotency_key: str | None = strawberry.field(default=None, description="Or the Idempotency-Key header.")


@strawberry.input(description="Confirm a started payment with a card.")
class ConfirmPaymentIntentInput:
    payment_id: relay.GlobalID = strawberry.field(description="The payment's global id (REQUIRES_PAYMENT).")
    payment_method_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Default: your default card."
    )
    idempotency_key: str | None = strawberry.field(default=None, description="Or the Idempotency-Key header.")


@strawberry.input(
    description="Charge what is due on an invoice with a saved card of its customer (service-only)."
)
class ProcessInvoicePaymentInput:
    invoice_id: relay.GlobalID = strawberry.field(description="The invoice's global id (OPEN or OVERDUE).")
    payment_method_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A saved card of the invoice's customer; default: their default card."
    )
    idempotency_key: str | None = strawberry.field(default=None, description="Or the Idempotency-Key header.")


@strawberry.input(description="A card to save with the payment provider.")
class AddPaymentMethodInput:
    card_token: str = strawberry.field(description="The provider's card token, e.g. tok_visa.")
    make_default: bool = strawberry.field(
        default=False, description="Make it your default card (the first card always is)."
    )


@strawberry.input(description="One saved card, by id.")
class PaymentMethodIdInput:
    id: relay.GlobalID = strawberry.field(description="The card's global id.")


# ---- payloads -----------------------------------------------------------------------------------


@strawberry.type(description="The result of a payment step: the payment, or userErrors.")
class PaymentPayload:
    payment: Payment | None = strawberry.field(default=None, description="The payment after the step.")
    client_secret: str | None = strawberry.field(
        default=None, description="For the payer's browser to confirm with the provider."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of a card change: the card, or userErrors.")
class PaymentMethodPayload:
    payment_method: PaymentMethod | None = strawberry.field(
        default=None, description="The card after the change."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of removing a card.")
class RemovePaymentMethodPayload:
    removed_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The id of the card removed."
    )
    user_errors: list[UserError] = user_errors_field()
