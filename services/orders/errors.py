"""The ``code`` of every userError of the cart and order mutations."""

from __future__ import annotations

import enum


class OrderErrorCode(enum.StrEnum):
    # Input
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    INVALID_INPUT = "INVALID_INPUT"  # e.g. items and fromCart together
    INVALID_COUNTRY = "INVALID_COUNTRY"  # not an ISO 3166-1 alpha-2 code
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INVALID_ATTRIBUTES = "INVALID_ATTRIBUTES"
    TOO_MANY_ITEMS = "TOO_MANY_ITEMS"
    # Cart
    CART_FULL = "CART_FULL"
    NOT_IN_CART = "NOT_IN_CART"
    EMPTY_CART = "EMPTY_CART"
    # Products and prices
    PRODUCT_UNAVAILABLE = "PRODUCT_UNAVAILABLE"  # unknown, DRAFT or ARCHIVED
    OUT_OF_STOCK = "OUT_OF_STOCK"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"  # one cart, one order: one currency
    INVALID_DISCOUNT_CODE = "INVALID_DISCOUNT_CODE"
    AMOUNT_TOO_LARGE = "AMOUNT_TOO_LARGE"
    TAX_RATE_MISCONFIGURED = "TAX_RATE_MISCONFIGURED"  # the tenant's taxRateBps setting
    # Life cycle
    INVALID_TRANSITION = "INVALID_TRANSITION"  # the state machine forbids the move
    INVALID_AMOUNT = "INVALID_AMOUNT"  # a refund beyond what is left of the order's total
    PAYMENT_CAPTURED = "PAYMENT_CAPTURED"  # revertPayment: money was taken and not refunded
    PAYMENT_IN_PROGRESS = "PAYMENT_IN_PROGRESS"  # revertPayment: a payment is open or processing
    ALREADY_DELIVERED = "ALREADY_DELIVERED"  # revertPayment: an item's delivery was sent
    ORDER_NOT_PAID = "ORDER_NOT_PAID"  # delivery: only for PAID, PROVISIONING, COMPLETED orders
    NO_DELIVERY = "NO_DELIVERY"  # deliverOrderItem: the item has no delivery info yet
    # Promotion codes (services/orders/promotions.py)
    PROMOTION_CODE_UNKNOWN = "PROMOTION_CODE_UNKNOWN"  # no such code in the tenant, or deactivated
    PROMOTION_CODE_NOT_STARTED = "PROMOTION_CODE_NOT_STARTED"
    PROMOTION_CODE_EXPIRED = "PROMOTION_CODE_EXPIRED"
    PROMOTION_CODE_USED_UP = "PROMOTION_CODE_USED_UP"  # maxUses reached
    PROMOTION_CODE_USER_LIMIT = "PROMOTION_CODE_USER_LIMIT"  # maxUsesPerUser reached
    PROMOTION_CODE_NOT_ELIGIBLE = "PROMOTION_CODE_NOT_ELIGIBLE"  # none of its products ordered
    PROMOTION_CODE_CURRENCY_MISMATCH = "PROMOTION_CODE_CURRENCY_MISMATCH"  # a FIXED code of another currency
    PROMOTION_CODE_REPEATED = "PROMOTION_CODE_REPEATED"  # the same code twice in one order
    TOO_MANY_PROMOTION_CODES = "TOO_MANY_PROMOTION_CODES"
    INVALID_PROMOTION_CODE = "INVALID_PROMOTION_CODE"  # staff: a code's definition does not hold
    PROMOTION_CODE_TAKEN = "PROMOTION_CODE_TAKEN"  # staff: another code of the tenant reads the same
    # Shipping methods and the payment method of an order (services/orders/shipping.py)
    SHIPPING_METHOD_UNKNOWN = "SHIPPING_METHOD_UNKNOWN"  # no such method in the tenant, or deactivated
    SHIPPING_METHOD_CURRENCY_MISMATCH = "SHIPPING_METHOD_CURRENCY_MISMATCH"
    SHIPPING_METHOD_REQUIRED = "SHIPPING_METHOD_REQUIRED"  # physical items, and the tenant has methods
    SHIPPING_NOT_NEEDED = "SHIPPING_NOT_NEEDED"  # a method named for a digital-only order
    INVALID_SHIPPING_METHOD = "INVALID_SHIPPING_METHOD"  # staff: a method's definition does not hold
    SHIPPING_METHOD_TAKEN = "SHIPPING_METHOD_TAKEN"  # staff: another method of the tenant has the code
    PAYMENT_METHOD_UNKNOWN = "PAYMENT_METHOD_UNKNOWN"  # not a saved payment method of the buyer
    PAYMENT_METHOD_EXPIRED = "PAYMENT_METHOD_EXPIRED"  # the saved card's expiry month has passed
