"""Cart and order inputs and payloads."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models.orders import OrderStatus
from schema.errors import UserError, user_errors_field
from schema.orders.types import Cart, Order
from schema.pagination import OrderDirection
from services.orders.new_order import Address
from services.orders.reads import OrderSortField


@strawberry.input(description="A product to put in the cart (added to its line if there).")
class AddToCartInput:
    product_id: relay.GlobalID = strawberry.field(description="The product's global id.")
    quantity: int = strawberry.field(default=1, description="Units to add, 1 to 10000.")
    attributes: JSON | None = strawberry.field(default=None, description="Merged into the line's attributes.")


@strawberry.input(description="A new quantity for a cart line.")
class UpdateCartItemInput:
    product_id: relay.GlobalID = strawberry.field(description="The product's global id.")
    quantity: int = strawberry.field(
        description="The line's new quantity, 1 to 10000 (remove the line to drop it)."
    )


@strawberry.input(description="A cart line to remove.")
class RemoveCartItemInput:
    product_id: relay.GlobalID = strawberry.field(description="The product's global id.")


@strawberry.input(description="Required: name, line1, city, postalCode, country (ISO 3166-1 alpha-2).")
class PostalAddressInput:
    name: str = strawberry.field(description="Recipient's name.")
    line1: str = strawberry.field(description="Street and number.")
    city: str = strawberry.field(description="City or town.")
    postal_code: str = strawberry.field(description="Postal or ZIP code.")
    country: str = strawberry.field(description="ISO 3166-1 alpha-2, e.g. DE.")
    company: str | None = strawberry.field(default=None, description="Company, if any.")
    line2: str | None = strawberry.field(default=None, description="More of the address.")
    state: str | None = strawberry.field(default=None, description="State or region.")
    phone: str | None = strawberry.field(default=None, description="Phone number for the carrier.")

    def to_address(self) -> Address:
        return Address(
            name=self.name,
            line1=self.line1,
            city=self.city,
            postal_code=self.postal_code,
            country=self.country,
            company=self.company,
            line2=self.line2,
            state=self.state,
            phone=self.phone,
        )


@strawberry.input(description="One line of a new order.")
class OrderLineInput:
    product_id: relay.GlobalID = strawberry.field(description="The product's global id (ACTIVE, in stock).")
    quantity: int = strawberry.field(description="Units, 1 to 10000.")
    attributes: JSON | None = strawberry.field(default=None, description="Options chosen (a JSON object).")


@strawberry.input(description="Order the cart (fromCart: true) or the given items.")
class CreateOrderInput:
    shipping_address: PostalAddressInput | None = strawberry.field(
        default=None,
        description="Where it ships: required when any item is physical (not `isDigital`).",
    )
    from_cart: bool = strawberry.field(default=False, description="Order the cart's lines (and empty it).")
    items: list[OrderLineInput] | None = strawberry.field(
        default=None, description="The lines, when not ordering the cart (at most 100)."
    )
    billing_address: PostalAddressInput | None = strawberry.field(
        default=None, description="The shipping address when not given."
    )
    notes: str | None = strawberry.field(default=None, description="Notes for the tenant.")
    discount_code: str | None = strawberry.field(
        default=None,
        description="A discount code of the tenant: one of its promotion codes, else one of its "
        "`discountCodes` setting (prefer `promotionCodes`).",
    )
    promotion_codes: list[str] | None = strawberry.field(
        default=None,
        description="Promotion codes to apply (at most 5, case-insensitive); their discounts add up, "
        "never beyond the subtotal. Any code that does not apply is a userError and no order is placed.",
    )
    submit: bool = strawberry.field(
        default=False,
        description="Submit for payment at once: the order is created AWAITING_PAYMENT, in one step.",
    )
    shipping_method_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="One of the tenant's active `shippingMethods` in the order's currency: required "
        "for physical items when the tenant has such methods; refused for a digital-only order.",
    )
    payment_method_id: relay.GlobalID | None = strawberry.field(
        default=None, description="One of your saved, unexpired payment methods, kept on the order."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Overrides the Idempotency-Key header: a repeat returns the first result."
    )


@strawberry.input(description="An order and, optionally, why it moves.")
class OrderTransitionInput:
    id: relay.GlobalID = strawberry.field(description="The order's global id.")
    reason: str | None = strawberry.field(default=None, description="Why; kept in the status history.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Overrides the Idempotency-Key header: a repeat returns the first result."
    )


@strawberry.input(description="Which orders to list; the conditions given all apply.")
class OrderFilterInput:
    status: OrderStatus | None = strawberry.field(default=None, description="Only orders in this status.")
    user_id: relay.GlobalID | None = strawberry.field(default=None, description="Staff: one user's orders.")
    created_after: datetime | None = strawberry.field(
        default=None, description="Placed at or after this time."
    )
    created_before: datetime | None = strawberry.field(default=None, description="Placed before this time.")
    search: str | None = strawberry.field(default=None, description="Part of the order number.")


@strawberry.input(description="How orders are sorted (ties in id order).")
class OrderSortInput:
    field: OrderSortField = strawberry.field(default=OrderSortField.CREATED_AT, description="Sort key.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="Sort direction (newest first by default)."
    )


# ---- payloads -------------------------------------------------------------------------------


@strawberry.type(description="The result of a cart change: the cart as it is now, or userErrors.")
class CartPayload:
    cart: Cart | None = strawberry.field(default=None, description="The cart after the change.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of an order change: the order as it is now, or userErrors.")
class OrderPayload:
    order: Order | None = strawberry.field(default=None, description="The order after the change.")
    replayed: bool = strawberry.field(
        default=False, description="True when an Idempotency-Key repeat returned the first result."
    )
    user_errors: list[UserError] = user_errors_field()
