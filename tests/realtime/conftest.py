"""Fixtures of the realtime tests: the orders tests' shop (a tenant with products and accounts)."""

from tests.orders.conftest import shop as shop
