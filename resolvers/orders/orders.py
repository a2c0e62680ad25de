"""Cart and order resolvers: parse input, call a service, map the result to schema types."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from datetime import datetime
from functools import partial
from operator import attrgetter
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.permissions import ORDER_STATISTICS_READERS
from core.scopes import ApiScope
from schema.directives import AUTHENTICATED, SERVICE_ONLY, HasRole, HasScope, access
from schema.errors import mutation_payload
from schema.live import EventMessenger, shared_payload
from schema.nodes import node_or_not_found, optional_reference, parse_uuid, reference_uuid
from schema.orders.inputs import (
    AddToCartInput,
    CartPayload,
    CreateOrderInput,
    OrderFilterInput,
    OrderPayload,
    OrderSortInput,
    OrderTransitionInput,
    RemoveCartItemInput,
    UpdateCartItemInput,
)
from schema.orders.types import Cart, Order, OrderStatistics, OrderStatusChangedEvent
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
from services.orders import cart, checkout, live, orders, reads
from services.orders.cart import CartContents
from services.orders.new_order import NewOrder, NewOrderLine
from services.orders.orders import OrderResult, Transition
from services.orders.reads import OrderFilter

STATISTICS = HasRole(*ORDER_STATISTICS_READERS)
READ = HasScope(ApiScope.ORDERS_READ)
WRITE = HasScope(ApiScope.ORDERS_WRITE)


def _cart_payload(contents: CartContents) -> CartPayload:
    return CartPayload(cart=Cart.from_contents(contents))


def _status_event(change: live.StatusChanged) -> OrderStatusChangedEvent:
    return OrderStatusChangedEvent(
        order=Order.from_model(change.order),
        from_status=change.from_status,
        to_status=change.to_status,
        actor=change.actor,
    )


def _order_payload(result: OrderResult) -> OrderPayload:
    return OrderPayload(order=Order.from_model(result.order), replayed=result.replayed)


async def _transition(info: Info, transition: Transition, input: OrderTransitionInput) -> OrderPayload:
    call = orders.transition_order(
        info.context.services,
        transition,
        parse_uuid(input.id, "Order"),
        reason=input.reason,
        idempotency_key=info.context.idempotency_key(input.idempotency_key),
    )
    return await mutation_payload(OrderPayload, call, _order_payload)


@strawberry.type
class OrderQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED, READ), description="Your cart (empty until first used)."
    )
    async def cart(self, info: Info) -> Cart:
        return Cart.from_contents(await cart.get_cart(info.context.services))

    @strawberry.field(
        extensions=access(AUTHENTICATED, READ),
        description="An order: yours, or any of the tenant's for MANAGER, SUPPORT_AGENT and TENANT_ADMIN.",
    )
    async def order(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The order's global id.")],
    ) -> Order:
        return await node_or_not_found(Order, info, id)

    @strawberry.field(
        extensions=access(AUTHENTICATED, READ),
        description="Your orders; MANAGER, SUPPORT_AGENT and TENANT_ADMIN (or holders of orders:read) "
        "see all "
        "of the tenant's.",
    )
    async def orders(
        self,
        info: Info,
        filter: Annotated[OrderFilterInput | None, FILTER] = None,
        order_by: Annotated[OrderSortInput | None, SORT] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Order]:
        f = filter or OrderFilterInput()
        sort = order_by or OrderSortInput()
        page = await reads.list_orders(
            info.context.services,
            OrderFilter(
                status=f.status,
                user_id=optional_reference(f.user_id, "User"),
                created_after=f.created_after,
                created_before=f.created_before,
                search=f.search,
            ),
            sort.field,
            sort.direction == OrderDirection.DESC,
            page_args(first, after, last, before),
        )
        return connection(page, Order.from_model)

    @strawberry.field(
        extensions=access(STATISTICS, READ),
        description="Counts per status and revenue per day, month and currency of orders created in "
        "[from, to) (at most 400 days).",
    )
    async def order_statistics(
        self,
        info: Info,
        from_time: Annotated[
            datetime,
            strawberry.argument(name="from", description="Start, included (with a timezone offset)."),
        ],
        to_time: Annotated[
            datetime,
            strawberry.argument(name="to", description="End, excluded; at most 400 days after `from`."),
        ],
    ) -> OrderStatistics:
        result = await reads.order_statistics(info.context.services, from_time, to_time)
        return OrderStatistics.from_result(result)


@strawberry.type
class OrderMutation:
    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE), description="Add a product; one already in the cart adds up."
    )
    async def add_to_cart(
        self,
        info: Info,
        input: Annotated[
            AddToCartInput, strawberry.argument(description="The product, quantity and options.")
        ],
    ) -> CartPayload:
        # Ids that name no product: the service reports them as PRODUCT_UNAVAILABLE, like unknown ones.
        call = cart.add_to_cart(
            info.context.services,
            reference_uuid(input.product_id, "Product"),
            input.quantity,
            input.attributes,
        )
        return await mutation_payload(CartPayload, call, _cart_payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE), description="Set the quantity of a cart line."
    )
    async def update_cart_item(
        self,
        info: Info,
        input: Annotated[
            UpdateCartItemInput, strawberry.argument(description="The cart line and its new quantity.")
        ],
    ) -> CartPayload:
        call = cart.update_cart_item(
            info.context.services, reference_uuid(input.product_id, "Product"), input.quantity
        )
        return await mutation_payload(CartPayload, call, _cart_payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE), description="Remove a product from the cart."
    )
    async def remove_cart_item(
        self,
        info: Info,
        input: Annotated[RemoveCartItemInput, strawberry.argument(description="The cart line to remove.")],
    ) -> CartPayload:
        call = cart.remove_cart_item(info.context.services, reference_uuid(input.product_id, "Product"))
        return await mutation_payload(CartPayload, call, _cart_payload)

    @strawberry.mutation(extensions=access(AUTHENTICATED, WRITE), description="Empty the cart.")
    async def clear_cart(self, info: Info) -> CartPayload:
        return await mutation_payload(CartPayload, cart.clear_cart(info.context.services), _cart_payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE),
        description="Place a PENDING order (AWAITING_PAYMENT with submit: true) from the cart or from "
        "items. Idempotency-Key: a repeat "
        "returns the first order; the same key with another request is CONFLICT.",
    )
    async def create_order(
        self,
        info: Info,
        input: Annotated[
            CreateOrderInput, strawberry.argument(description="What to order and where it ships.")
        ],
    ) -> OrderPayload:
        new = NewOrder(
            from_cart=input.from_cart,
            items=(
                [
                    NewOrderLine(reference_uuid(i.product_id, "Product"), i.quantity, i.attributes)
                    for i in input.items
                ]
                if input.items is not None
                else None
            ),
            shipping_address=input.shipping_address.to_address() if input.shipping_address else None,
            billing_address=input.billing_address.to_address() if input.billing_address else None,
            notes=input.notes,
            discount_code=input.discount_code,
            promotion_codes=tuple(input.promotion_codes or ()),
            submit=input.submit,
            shipping_method_id=optional_reference(input.shipping_method_id, "ShippingMethod"),
            payment_method_id=optional_reference(input.payment_method_id, "PaymentMethod"),
        )
        call = checkout.create_order(
            info.context.services, new, info.context.idempotency_key(input.idempotency_key)
        )
        return await mutation_payload(OrderPayload, call, _order_payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE), description="PENDING -> AWAITING_PAYMENT (owner or staff)."
    )
    async def submit_order(
        self,
        info: Info,
        input: Annotated[
            OrderTransitionInput, strawberry.argument(description="The PENDING order to submit.")
        ],
    ) -> OrderPayload:
        return await _transition(info, Transition.SUBMIT, input)

    @strawberry.mutation(
        extensions=access(SERVICE_ONLY, HasScope(ApiScope.PAYMENTS_PROCESS)),
        description="AWAITING_PAYMENT -> PAID: its payment arrived (service-only).",
    )
    async def confirm_payment(
        self,
        info: Info,
        input: Annotated[
            OrderTransitionInput,
            strawberry.argument(description="The AWAITING_PAYMENT order whose payment arrived."),
        ],
    ) -> OrderPayload:
        return await _transition(info, Transition.CONFIRM_PAYMENT, input)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE),
        description="PENDING or AWAITING_PAYMENT -> CANCELLED (owner or staff); tracked stock is given back.",
    )
    async def cancel_order(
        self,
        info: Info,
        input: Annotated[
            OrderTransitionInput, strawberry.argument(description="The order to cancel, and why.")
        ],
    ) -> OrderPayload:
        return await _transition(info, Transition.CANCEL, input)

    @strawberry.mutation(
        extensions=access(SERVICE_ONLY, HasScope(ApiScope.ORDERS_PROVISION)),
        description="PAID -> PROVISIONING (service-only).",
    )
    async def start_provisioning(
        self,
        info: Info,
        input: Annotated[
            OrderTransitionInput, strawberry.argument(description="The PAID order to start fulfilling.")
        ],
    ) -> OrderPayload:
        return await _transition(info, Transition.START_PROVISIONING, input)

    @strawberry.mutation(
        extensions=access(SERVICE_ONLY, HasScope(ApiScope.ORDERS_PROVISION)),
        description="PROVISIONING -> COMPLETED (service-only).",
    )
    async def complete_order(
        self,
        info: Info,
        input: Annotated[
            OrderTransitionInput,
            strawberry.argument(description="The PROVISIONING order that was fulfilled."),
        ],
    ) -> OrderPayload:
        return await _transition(info, Transition.COMPLETE, input)


@strawberry.type
class OrderSubscription:
    @strawberry.subscription(
        extensions=access(AUTHENTICATED),
        description="Order status changes: your orders, or all of the tenant's for MANAGER, "
        "SUPPORT_AGENT and TENANT_ADMIN; `orderId` narrows to one order.",
    )
    async def order_status_changed(
        self,
        info: Info,
        order_id: Annotated[
            relay.GlobalID | None,
            strawberry.argument(description="Only this order's changes; all you may see when omitted."),
        ] = None,
    ) -> AsyncGenerator[OrderStatusChangedEvent, None]:
        only = None
        if order_id is not None:
            only = uuid.UUID((await node_or_not_found(Order, info, order_id)).order_id)
        context = info.context
        messenger = EventMessenger.of_current(attrgetter("memo"))
        changes = live.order_status_changes(context.services, context.fanout, context.access, only, messenger)
        async for change in changes:
            context.resolve_event_with(change.loaders)
            yield shared_payload(change.memo, partial(_status_event, change))
