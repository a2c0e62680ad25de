"""Currencies come from the ISO 4217 list (the iso4217 package), not a pattern: XXQ matched
``[A-Z]{3}`` and was accepted; their minor units come from the same list."""

from __future__ import annotations

from typing import Any

import pytest

from services.billing.invoice_pdf import format_money
from services.money import currency_problem, is_currency, minor_digits
from tests.catalog.conftest import Shop
from tests.support.graphql import GraphQLClient

CREATE = """
mutation($input: CreateProductInput!) {
  createProduct(input: $input) { product { basePrice { currency } } userErrors { field code } }
}"""


def test_only_current_codes_with_minor_units_are_currencies() -> None:
    assert all(is_currency(code) for code in ("EUR", "USD", "JPY", "KWD", "CHF", "CLF"))
    # Not assigned; lower case; withdrawn (Deutsche Mark); no minor units (gold, "no currency").
    assert not any(is_currency(code) for code in ("XXQ", "eur", "DEM", "XAU", "XXX", "EURO", ""))
    problem = currency_problem("basePrice.currency", "XXQ")
    assert problem is not None
    assert (problem.field, problem.code) == (("input", "basePrice", "currency"), "INVALID_CURRENCY")


def test_minor_units_come_from_the_list() -> None:
    assert [minor_digits(code) for code in ("EUR", "JPY", "KWD", "CLF", "ISK")] == [2, 0, 3, 4, 0]
    assert format_money(1234567, "KWD") == "1,234.567 KWD"
    assert format_money(12345, "CLF") == "1.2345 CLF"
    assert format_money(1500, "ISK") == "1,500 ISK"


@pytest.mark.parametrize(("currency", "accepted"), [("XXQ", False), ("XAU", False), ("CHF", True)])
async def test_a_price_needs_an_iso_4217_currency(
    gql: GraphQLClient, acme: Shop, currency: str, accepted: bool
) -> None:
    variables: dict[str, Any] = {
        "input": {
            "sku": f"coin-{currency}",
            "name": "Coin",
            "basePrice": {"amount": 100, "currency": currency},
        }
    }
    payload = (await gql(CREATE, variables, token=acme.admin.token)).ok()["createProduct"]
    if accepted:
        assert payload == {"product": {"basePrice": {"currency": currency}}, "userErrors": []}
    else:
        assert payload == {
            "product": None,
            "userErrors": [{"field": ["input", "basePrice", "currency"], "code": "INVALID_CURRENCY"}],
        }
