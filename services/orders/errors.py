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
