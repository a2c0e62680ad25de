"""The userError codes of catalog mutations."""

from __future__ import annotations

import enum


class CatalogErrorCode(enum.StrEnum):
    REQUIRED = "REQUIRED"  # a required field is empty or null
    TOO_LONG = "TOO_LONG"
    INVALID_SKU = "INVALID_SKU"
    INVALID_SLUG = "INVALID_SLUG"
    INVALID_URL = "INVALID_URL"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INVALID_ATTRIBUTES = "INVALID_ATTRIBUTES"  # attributes that are not a JSON object
    TOO_MANY_ATTRIBUTES = "TOO_MANY_ATTRIBUTES"
    TOO_MANY_IMAGES = "TOO_MANY_IMAGES"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"  # a sale price in another currency than the base price
    SALE_ABOVE_BASE = "SALE_ABOVE_BASE"
    NOT_FOUND = "NOT_FOUND"  # a referenced product, category or brand does not exist or is out of reach
    CONFLICT = "CONFLICT"  # the SKU or slug is taken, or the product is already reviewed
    PRODUCT_ORDERED = "PRODUCT_ORDERED"  # an ordered product is archived, never deleted
    CYCLE = "CYCLE"  # a category moved below itself
    TOO_DEEP = "TOO_DEEP"  # the category tree would nest too deep
    INVALID_RATING = "INVALID_RATING"
    NOT_A_BUYER = "NOT_A_BUYER"  # only buyers of a product review it
