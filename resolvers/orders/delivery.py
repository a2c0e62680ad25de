"""Root fields of order-item delivery and of reverting an order's payment."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core.scopes import ApiScope
from schema.directives import AUTHENTICATED, HasScope, access
from schema.errors import mutation_payload
from schema.nodes import parse_uuid
from schema.orders.delivery import (
    DeliverOrderItemInput,
    OrderItemDelivery,
    OrderItemDeliveryPayload,
    SetOrderItemDeliveryInput,
)
from schema.orders.inputs import OrderPayload, OrderTransitionInput
from schema.orders.types import Order
from services.orders import delivery, orders
from services.orders.delivery import DeliveryInfo, DeliveryResult
from services.orders.orders import OrderResult, Transition

FULFIL = HasScope(ApiScope.ORDERS_PROVISION)
PAYMENTS = HasScope(ApiScope.ORDERS_PAYMENTS)


def _delivery_payload(result: DeliveryResult) -> OrderItemDeliveryPayload:
    return OrderItemDeliveryPayload(
        delivery=OrderItemDelivery.from_model(result.delivery), replayed=result.replayed
    )


def _order_payload(result: OrderResult) -> OrderPayload:
    return OrderPayload(order=Order.from_model(result.order), replayed=result.replayed)


@strawberry.type
class OrderDeliveryMutation:
    @strawberry.mutation(
        extensions=access(AUTHENTICATED, FULFIL),
        description="Set the delivery of one item of a PAID, PROVISIONING or COMPLETED order: content "
        "or a license key, a download link, tracking (MANAGER, SUPPORT_AGENT, TENANT_ADMIN or a "
        "service principal). Replaces what was set; sends nothing (see deliverOrderItem).",
    )
    async def set_order_item_delivery(
        self,
        info: Info,
        input: Annotated[
            SetOrderItemDeliveryInput, strawberry.argument(description="The item and its delivery.")
        ],
    ) -> OrderItemDeliveryPayload:
        given = DeliveryInfo(
            content=input.content,
            download_url=input.download_url,
            carrier=input.carrier,
            tracking_number=input.tracking_number,
            tracking_url=input.tracking_url,
        )
        call = delivery.set_item_delivery(
            info.context.services,
            parse_uuid(input.order_id, "Order"),
            parse_uuid(str(input.item_id), "OrderItem"),
            given,
        )
        return await mutation_payload(
            OrderItemDeliveryPayload, call, lambda d: _delivery_payload(DeliveryResult(d))
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, FULFIL),
        description="Send (or resend) an item's delivery e-mail to the buyer: queued with the count "
        "and time recorded (MANAGER, SUPPORT_AGENT, TENANT_ADMIN or a service principal). A repeat "
        "with the same idempotency key sends nothing again.",
    )
    async def deliver_order_item(
        self,
        info: Info,
        input: Annotated[DeliverOrderItemInput, strawberry.argument(description="The item to deliver.")],
    ) -> OrderItemDeliveryPayload:
        call = delivery.deliver_item(
            info.context.services,
            parse_uuid(input.order_id, "Order"),
            parse_uuid(str(input.item_id), "OrderItem"),
            info.context.idempotency_key(input.idempotency_key),
        )
        return await mutation_payload(OrderItemDeliveryPayload, call, _delivery_payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, PAYMENTS),
        description="AWAITING_PAYMENT or PAID -> PENDING (MANAGER, TENANT_ADMIN or a service "
        "principal), kept in the status history with the reason. Refused while money is held or may "
        "still arrive (PAYMENT_CAPTURED: refund instead; PAYMENT_IN_PROGRESS) or after an item's "
        "delivery went out (ALREADY_DELIVERED).",
    )
    async def revert_payment(
        self,
        info: Info,
        input: Annotated[
            OrderTransitionInput,
            strawberry.argument(description="The order whose payment goes back, and why."),
        ],
    ) -> OrderPayload:
        call = orders.transition_order(
            info.context.services,
            Transition.REVERT_PAYMENT,
            parse_uuid(input.id, "Order"),
            reason=input.reason,
            idempotency_key=info.context.idempotency_key(input.idempotency_key),
        )
        return await mutation_payload(OrderPayload, call, _order_payload)
