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
from schema.errors import UserError
from schema.nodes import Entity, load_nodes, node_type
from schema.pagination import OrderDirection
from services.billing.access import can_see
from services.billing.payments import PaymentOrderField

strawberry.enum(PaymentOrderField)


@node_type
@strawberry.federation.type(keys=["id"], name="PaymentMethod", description="A saved card of a user.")
class PaymentMethod(Entity):
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


# ---- payloads -----------------------------------------------------------------------------------


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
