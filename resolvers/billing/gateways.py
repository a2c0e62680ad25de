"""Root field of redirect-style gateway payments (the callback is server/payment_callbacks.py)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core.scopes import ApiScope
from schema.billing.gateways import StartGatewayPaymentInput, StartGatewayPaymentPayload
from schema.billing.invoices import Payment
from schema.context import RequestContext
from schema.directives import AUTHENTICATED, HasScope, access
from schema.errors import mutation_payload
from schema.nodes import optional_reference
from services.billing.gateway_payments import StartedGatewayPayment, start_gateway_payment
from services.billing.gateways import gateway_for

WRITE = HasScope(ApiScope.PAYMENTS_WRITE)


def _base_url(context: RequestContext) -> str:
    request = context.request
    return str(request.base_url) if request is not None and not context.is_websocket else ""


@strawberry.type
class GatewayMutation:
    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE),
        description="Pay an invoice or an order through a redirect-style gateway: answers the page "
        "to send the payer to; the gateway calls back GET /payments/callback/{provider}.",
    )
    async def start_gateway_payment(
        self,
        info: Info[RequestContext, None],
        input: Annotated[
            StartGatewayPaymentInput,
            strawberry.argument(description="The invoice or order, and the gateway."),
        ],
    ) -> StartGatewayPaymentPayload:
        settings = info.context.services.settings
        call = start_gateway_payment(
            info.context.services,
            gateway_for(settings, input.provider.value),
            input.provider.value,
            invoice_id=optional_reference(input.invoice_id, "Invoice"),
            order_id=optional_reference(input.order_id, "Order"),
            base_url=_base_url(info.context),
            idempotency_key=info.context.idempotency_key(input.idempotency_key),
        )

        def build(started: StartedGatewayPayment) -> StartGatewayPaymentPayload:
            return StartGatewayPaymentPayload(
                payment=Payment.from_model(started.payment, info),
                redirect_url=started.gateway.redirect_url,
                authority=started.gateway.authority,
            )

        return await mutation_payload(StartGatewayPaymentPayload, call, build)
