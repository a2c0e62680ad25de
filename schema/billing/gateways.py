"""Redirect-style payment gateways: the provider enum, startGatewayPayment's input and payload."""

from __future__ import annotations

import strawberry
from strawberry import relay

from schema.billing.invoices import Payment
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from services.billing.gateways import GatewayName

documented_enum(
    GatewayName,
    "A redirect-style payment gateway: the payer is sent to its page and comes back to our callback.",
    {GatewayName.ZARINPAL: "ZarinPal (amounts in IRR or IRT)."},
    name="PaymentGateway",
)


@strawberry.input(description="Pay an invoice or an order through a redirect-style gateway.")
class StartGatewayPaymentInput:
    invoice_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The invoice to pay (OPEN or OVERDUE); give it or orderId."
    )
    order_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="The order to pay (AWAITING_PAYMENT; through its open invoice when it has one).",
    )
    provider: GatewayName = strawberry.field(description="The gateway to pay through.")
    idempotency_key: str | None = strawberry.field(default=None, description="Or the Idempotency-Key header.")


@strawberry.type(description="A started gateway payment: send the payer to redirectUrl, or userErrors.")
class StartGatewayPaymentPayload:
    payment: Payment | None = strawberry.field(
        default=None, description="The pending payment (REQUIRES_PAYMENT until the gateway calls back)."
    )
    redirect_url: str | None = strawberry.field(
        default=None, description="The gateway's page where the payer pays."
    )
    authority: str | None = strawberry.field(default=None, description="The gateway's id of the payment.")
    user_errors: list[UserError] = user_errors_field()
