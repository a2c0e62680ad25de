"""Cart and order types: the cart, orders (federation entity and Relay node) with their items and
status history, order statistics."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry.types.lazy_type import LazyType

from models import orders as models
from models.orders import OrderStatus
from schema.catalog.types import Product
from schema.enums import documented_enum
from schema.identity.accounts import User, readable_user, user_of
from schema.live import SharedPayload
from schema.money import Money
from schema.nodes import Entity, load_nodes, node_or_none, node_type
from schema.orders.delivery import OrderItemDelivery, item_delivery
from schema.orders.shipping import ShippingMethod
from services.orders import pricing
from services.orders.cart import CartContents, product_available
from services.orders.orders import can_read_order
from services.orders.reads import CurrencyStatistics, OrderSortField, RevenuePoint
from services.orders.reads import OrderStatistics as OrderStatisticsResult

if TYPE_CHECKING:  # schema.billing and schema.provisioning build on orders: resolved lazily
    from schema.billing.payments import PaymentMethod
    from schema.provisioning.types import ProvisioningRequest

PAYMENT_METHOD_TYPE: LazyType[str, str] = LazyType("PaymentMethod", "schema.billing.payments")
PROVISIONING_TYPE: LazyType[str, str] = LazyType("ProvisioningRequest", "schema.provisioning.types")

S = OrderStatus
documented_enum(
    OrderStatus,
    "PENDING -> AWAITING_PAYMENT -> PAID -> PROVISIONING -> COMPLETED; CANCELLED from "
    "PENDING or AWAITING_PAYMENT; PARTIALLY_REFUNDED / REFUNDED after refunds.",
    {
        S.PENDING: "Placed; stock is held. The buyer may still cancel.",
        S.AWAITING_PAYMENT: "Submitted for payment; waiting for the money.",
        S.PAID: "Paid in full.",
        S.PROVISIONING: "Being fulfilled (shipped or provisioned) by the tenant's operators.",
        S.COMPLETED: "Fulfilled.",
        S.CANCELLED: "Cancelled before payment; held stock went back.",
        S.PARTIALLY_REFUNDED: "Part of the total was refunded.",
        S.REFUNDED: "The whole total was refunded (final).",
    },
)
documented_enum(
    OrderSortField,
    "What a list of orders is sorted by.",
    {
        OrderSortField.CREATED_AT: "When the order was placed.",
        OrderSortField.TOTAL: "The order's total amount (across currencies, by number alone).",
        OrderSortField.NUMBER: "The order number.",
    },
)


# ---- cart -----------------------------------------------------------------------------------


@strawberry.type(description="One product in the cart.")
class CartItem:
    quantity: int = strawberry.field(description="Units of the product, 1 to 10000.")
    attributes: JSON = strawberry.field(description="Options chosen (a JSON object).")
    added_at: datetime = strawberry.field(description="When the product was first added (UTC).")
    product_uuid: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, item: models.CartItem) -> Self:
        return cls(
            quantity=item.quantity,
            attributes=JSON(item.attributes),
            added_at=item.added_at,
            product_uuid=item.product_id,
        )

    @strawberry.field(description="Null when the product can no longer be seen (archived or deleted).")
    async def product(self, info: Info) -> Product | None:
        return await node_or_none(Product, info, self.product_uuid)

    @strawberry.field(
        description="Whether the product can be ordered now (active; stock is checked at order)."
    )
    async def available(self, info: Info) -> bool:
        product = await info.context.loaders.catalog.product.load(self.product_uuid)
        return product_available(product)

    @strawberry.field(description="The product's current unit price.")
    async def unit_price(self, info: Info) -> Money | None:
        product = await info.context.loaders.catalog.product.load(self.product_uuid)
        return Money.of(product.price, product.currency) if product else None

    @strawberry.field(description="Unit price x quantity at the current price.")
    async def line_total(self, info: Info) -> Money | None:
        product = await info.context.loaders.catalog.product.load(self.product_uuid)
        if product is None:
            return None
        return Money.of(pricing.line_subtotal(product.price, self.quantity), product.currency)


@strawberry.type(description="Your cart: one line per product, at most 100 lines.")
class Cart:
    items: list[CartItem] = strawberry.field(description="The lines, oldest first.")
    updated_at: datetime | None = strawberry.field(description="Null until something is first added.")

    @classmethod
    def from_contents(cls, contents: CartContents) -> Self:
        return cls(items=[CartItem.from_model(i) for i in contents.items], updated_at=contents.updated_at)

    @strawberry.field(description="The number of units over all lines.")
    def item_count(self) -> int:
        return sum(item.quantity for item in self.items)

    @strawberry.field(description="The sum of the line totals at current prices; null for an empty cart.")
    async def subtotal(self, info: Info) -> Money | None:
        products = await info.context.loaders.catalog.product.load_many([i.product_uuid for i in self.items])
        priced = [(p, i.quantity) for p, i in zip(products, self.items, strict=True) if p is not None]
        currencies = {p.currency for p, _ in priced}
        if len(currencies) != 1:
            return None
        lines = [pricing.Line(p.price, quantity) for p, quantity in priced]
        return Money.of(pricing.subtotal(lines), currencies.pop())


# ---- orders ---------------------------------------------------------------------------------


@strawberry.type(description="A postal address as given with the order.")
class PostalAddress:
    name: str = strawberry.field(description="Recipient's name.")
    company: str | None = strawberry.field(description="Company, if any.")
    line1: str = strawberry.field(description="Street and number.")
    line2: str | None = strawberry.field(description="More of the address, if any.")
    city: str = strawberry.field(description="City or town.")
    state: str | None = strawberry.field(description="State or region, if any.")
    postal_code: str = strawberry.field(description="Postal or ZIP code.")
    country: str = strawberry.field(description="ISO 3166-1 alpha-2, e.g. DE.")
    phone: str | None = strawberry.field(description="Phone number for the carrier, if any.")

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> Self | None:
        if not record:
            return None
        return cls(
            name=record.get("name", ""),
            company=record.get("company"),
            line1=record.get("line1", ""),
            line2=record.get("line2"),
            city=record.get("city", ""),
            state=record.get("state"),
            postal_code=record.get("postal_code", ""),
            country=record.get("country", ""),
            phone=record.get("phone"),
        )


@strawberry.type(description="What was bought: sku, name and unit price as they were when ordered.")
class OrderItem:
    id: strawberry.ID = strawberry.field(description="Opaque id of the item (for its delivery).")
    position: int = strawberry.field(description="1, 2, ... in the order.")
    sku: str = strawberry.field(description="The product's SKU when ordered.")
    name: str = strawberry.field(description="The product's name when ordered.")
    quantity: int = strawberry.field(description="Units ordered.")
    unit_price: Money = strawberry.field(description="Price of one unit when ordered.")
    subtotal: Money = strawberry.field(description="Unit price x quantity.")
    discount: Money = strawberry.field(description="This line's share of the order's discount.")
    tax: Money = strawberry.field(description="This line's share of the order's tax.")
    total: Money = strawberry.field(description="subtotal - discount + tax.")
    attributes: JSON = strawberry.field(description="Options chosen (a JSON object).")
    product_uuid: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, item: models.OrderItem, currency: str) -> Self:
        def money(amount: int) -> Money:
            return Money.of(amount, currency)

        return cls(
            id=strawberry.ID(str(item.id)),
            position=item.position,
            sku=item.sku,
            name=item.name,
            quantity=item.quantity,
            unit_price=money(item.unit_price),
            subtotal=money(item.unit_price * item.quantity),
            discount=money(item.discount_amount),
            tax=money(item.tax_amount),
            total=money(item.total),
            attributes=JSON(item.attributes),
            product_uuid=item.product_id,
        )

    @strawberry.field(description="The product now; null when deleted or out of your reach.")
    async def product(self, info: Info) -> Product | None:
        if self.product_uuid is None:
            return None
        return await node_or_none(Product, info, self.product_uuid)

    @strawberry.field(
        description="What the buyer receives for this item; null until set. The buyer sees it while "
        "the order is PAID, PROVISIONING or COMPLETED, staff always."
    )
    async def delivery(self, info: Info) -> OrderItemDelivery | None:
        return await item_delivery(info, uuid.UUID(self.id))


@strawberry.type(description="One step of an order's life cycle.")
class OrderStatusChange:
    from_status: OrderStatus | None = strawberry.field(
        name="from", description="Null for the order's creation."
    )
    to_status: OrderStatus = strawberry.field(name="to", description="The status it moved to.")
    actor: str = strawberry.field(description='Who moved it: "user", "staff", "admin", "webhook:stripe", ...')
    reason: str | None = strawberry.field(description="Why, when the actor gave a reason.")
    at: datetime = strawberry.field(description="When (UTC).")
    actor_uuid: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, change: models.OrderStatusChange) -> Self:
        return cls(
            from_status=change.from_status,
            to_status=change.to_status,
            actor=change.actor,
            reason=change.reason,
            at=change.created_at,
            actor_uuid=change.actor_user_id,
        )

    @strawberry.field(description="The user who acted, when there was one and you may see them.")
    async def actor_user(self, info: Info) -> User | None:
        return await readable_user(info, self.actor_uuid)


@strawberry.type(description="A promotion code an order took, and what it took off.")
class AppliedPromotionCode:
    code: str = strawberry.field(description="The code (upper-cased).")
    discount: Money = strawberry.field(description="What it took off the order.")


@node_type
@strawberry.federation.type(keys=["id"], name="Order", description="An order of a user in a tenant.")
class Order(Entity):
    order_id: relay.NodeID[str]
    number: str = strawberry.field(description="Readable and unique in the tenant, e.g. ORD-000042.")
    status: OrderStatus = strawberry.field(description="Where the order is in its life cycle.")
    currency: str = strawberry.field(description="ISO 4217 code of every amount of the order.")
    subtotal: Money = strawberry.field(description="Sum of the lines before discount and tax.")
    discount_total: Money = strawberry.field(description="Discount of its promotion and discount codes.")
    tax_total: Money = strawberry.field(description="Tax at the tenant's rate.")
    shipping_total: Money = strawberry.field(description="Shipping charged.")
    total: Money = strawberry.field(description="subtotal - discountTotal + taxTotal + shippingTotal.")
    refunded_total: Money = strawberry.field(description="Refunded so far.")
    shipping_address: PostalAddress | None = strawberry.field(description="Where it ships.")
    billing_address: PostalAddress | None = strawberry.field(description="Where it is billed.")
    notes: str | None = strawberry.field(description="The buyer's notes.")
    created_at: datetime = strawberry.field(description="When it was placed (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    paid_at: datetime | None = strawberry.field(description="When it was paid (UTC); null until then.")
    cancelled_at: datetime | None = strawberry.field(description="When it was cancelled (UTC), if it was.")
    user_uuid: strawberry.Private[uuid.UUID]
    shipping_method_uuid: strawberry.Private[uuid.UUID | None]
    payment_method_uuid: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, order: models.Order) -> Self:
        currency = order.currency
        return cls(
            order_id=str(order.id),
            number=order.number,
            status=order.status,
            currency=currency,
            subtotal=Money.of(order.subtotal, currency),
            discount_total=Money.of(order.discount_total, currency),
            tax_total=Money.of(order.tax_total, currency),
            shipping_total=Money.of(order.shipping_total, currency),
            total=Money.of(order.total, currency),
            refunded_total=Money.of(order.refunded_total, currency),
            shipping_address=PostalAddress.from_record(order.shipping_address),
            billing_address=PostalAddress.from_record(order.billing_address),
            notes=order.notes,
            created_at=order.created_at,
            updated_at=order.updated_at,
            paid_at=order.paid_at,
            cancelled_at=order.cancelled_at,
            user_uuid=order.user_id,
            shipping_method_uuid=order.shipping_method_id,
            payment_method_uuid=order.payment_method_id,
        )

    @strawberry.field(description="The shipping method chosen at checkout; null for none (or digital).")
    async def shipping_method(self, info: Info) -> ShippingMethod | None:
        return await node_or_none(ShippingMethod, info, self.shipping_method_uuid)

    @strawberry.field(
        description="The buyer's saved card named at checkout (`paymentMethodId`); null if none, if it "
        "was removed, or if billing records are out of your reach."
    )
    async def payment_method(
        self, info: Info
    ) -> Annotated[PaymentMethod, strawberry.lazy("schema.billing.payments")] | None:
        card_type: type[PaymentMethod] = PAYMENT_METHOD_TYPE.resolve_type()
        return await node_or_none(card_type, info, self.payment_method_uuid)

    @strawberry.field(
        description="The provisioning requests its paid items opened (products that need "
        "provisioning), oldest first; empty for none."
    )
    async def provisioning_requests(
        self, info: Info
    ) -> list[Annotated[ProvisioningRequest, strawberry.lazy("schema.provisioning.types")]]:
        request_type: type[ProvisioningRequest] = PROVISIONING_TYPE.resolve_type()
        rows = await info.context.loaders.provisioning.requests_of_order.load(uuid.UUID(self.order_id))
        return [request_type.from_model(row) for row in rows]

    @strawberry.field(description="Who placed the order.")
    async def user(self, info: Info) -> User:
        return await user_of(info, self.user_uuid)

    @strawberry.field(description="The order's items in order (at most 100).")
    async def items(self, info: Info) -> list[OrderItem]:
        items = await info.context.loaders.orders.items_of_order.load(uuid.UUID(self.order_id))
        return [OrderItem.from_model(item, self.currency) for item in items]

    @strawberry.field(description="Every status change, oldest first, starting with the creation.")
    async def status_history(self, info: Info) -> list[OrderStatusChange]:
        history = await info.context.loaders.orders.history_of_order.load(uuid.UUID(self.order_id))
        return [OrderStatusChange.from_model(change) for change in history]

    @strawberry.field(description="The promotion codes the order took (by code), each with its discount.")
    async def promotion_codes(self, info: Info) -> list[AppliedPromotionCode]:
        uses = await info.context.loaders.promotions.uses_of_order.load(uuid.UUID(self.order_id))
        return [
            AppliedPromotionCode(code=code, discount=Money.of(use.amount, self.currency))
            for use, code in uses
        ]

    # relay.Node types ``required=True`` as returning no None; the overloads that would say so
    # do not satisfy schema.nodes.NodeType under mypy, and nothing here asks for ``required``.
    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        """Orders out of the caller's reach look exactly like orders that do not exist."""
        principal = info.context.principal
        return await load_nodes(
            node_ids,
            "Order",
            info.context.loaders.orders.order,
            cls.from_model,
            lambda order: can_read_order(principal, order),
        )


@strawberry.type(description="An order changed status.")
class OrderStatusChangedEvent(SharedPayload):
    order: Order = strawberry.field(description="The order as it is now.")
    from_status: OrderStatus | None = strawberry.field(name="from", description="Null for a new order.")
    to_status: OrderStatus = strawberry.field(name="to", description="The status it moved to.")
    actor: str = strawberry.field(description='Who moved it: "user", "staff", "admin", "webhook:stripe", ...')


# ---- statistics -----------------------------------------------------------------------------


@strawberry.type(description="How many orders are in one status.")
class OrderStatusCount:
    status: OrderStatus = strawberry.field(description="The order status counted.")
    count: int = strawberry.field(description="Orders in it.")


@strawberry.type(description="Revenue of one UTC day (2026-01-31) or month (2026-01).")
class RevenuePeriod:
    period: str = strawberry.field(description="The day (YYYY-MM-DD) or month (YYYY-MM), UTC.")
    orders: int = strawberry.field(description="Paid orders placed in it.")
    revenue: Money = strawberry.field(description="Their totals minus refunds.")

    @classmethod
    def from_point(cls, point: RevenuePoint, currency: str) -> Self:
        return cls(period=point.period, orders=point.orders, revenue=Money.of(point.revenue, currency))


@strawberry.type(
    description="Paid orders (PAID, PROVISIONING, COMPLETED, PARTIALLY_REFUNDED) in one currency."
)
class CurrencyOrderStatistics:
    currency: str = strawberry.field(description="ISO 4217 code of these figures.")
    paid_orders: int = strawberry.field(description="How many paid orders.")
    revenue: Money = strawberry.field(description="Order totals minus what was refunded.")
    average_order_value: Money = strawberry.field(description="revenue / paidOrders, rounded half to even.")
    revenue_by_day: list[RevenuePeriod] = strawberry.field(
        description="Per UTC day with orders, oldest first."
    )
    revenue_by_month: list[RevenuePeriod] = strawberry.field(
        description="Per UTC month with orders, oldest first."
    )

    @classmethod
    def from_result(cls, stats: CurrencyStatistics) -> Self:
        currency = stats.currency
        return cls(
            currency=currency,
            paid_orders=stats.orders,
            revenue=Money.of(stats.revenue, currency),
            average_order_value=Money.of(stats.average_order_value, currency),
            revenue_by_day=[RevenuePeriod.from_point(p, currency) for p in stats.by_day],
            revenue_by_month=[RevenuePeriod.from_point(p, currency) for p in stats.by_month],
        )


@strawberry.type(description="Orders created in [from, to).")
class OrderStatistics:
    from_time: datetime = strawberry.field(name="from", description="Start of the period (UTC, included).")
    to_time: datetime = strawberry.field(name="to", description="End of the period (UTC, excluded).")
    counts_by_status: list[OrderStatusCount] = strawberry.field(description="Orders per status.")
    currencies: list[CurrencyOrderStatistics] = strawberry.field(
        description="Paid-order figures, one entry per currency."
    )

    @classmethod
    def from_result(cls, result: OrderStatisticsResult) -> Self:
        return cls(
            from_time=result.start,
            to_time=result.end,
            counts_by_status=[OrderStatusCount(status=c.status, count=c.count) for c in result.counts],
            currencies=[CurrencyOrderStatistics.from_result(c) for c in result.currencies],
        )


# ---- inputs ---------------------------------------------------------------------------------
