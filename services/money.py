"""Money is integer minor units of an ISO 4217 currency; never floats."""

from __future__ import annotations

import enum
from types import MappingProxyType

from iso4217 import Currency

from core.errors import FieldProblem

# Active ISO 4217 codes (the iso4217 package's current list) with their minor-unit exponent.
# Codes without minor units (gold, SDR, the testing and "no currency" codes) cannot be counted in
# minor units, so they are no currency here.
MINOR_DIGITS = MappingProxyType(
    {currency.code: currency.exponent for currency in Currency if currency.exponent is not None}
)
# Bounded well inside 64-bit and JavaScript's 2**53: totals of many lines cannot overflow.
MAX_AMOUNT = 10**15


class MoneyErrorCode(enum.StrEnum):
    """userError codes of any money input (prices, refunds, plans)."""

    INVALID_CURRENCY = "INVALID_CURRENCY"
    INVALID_AMOUNT = "INVALID_AMOUNT"


def is_currency(code: str) -> bool:
    return code in MINOR_DIGITS


def minor_digits(currency: str) -> int:
    """Digits after the decimal point of ``currency`` (EUR 2, JPY 0, KWD 3); 2 for a code that is
    no longer current (stored before it was withdrawn)."""
    return MINOR_DIGITS.get(currency, 2)


def currency_problem(field: str, currency: str) -> FieldProblem | None:
    if not is_currency(currency):
        return FieldProblem(
            ("input", *field.split(".")),
            MoneyErrorCode.INVALID_CURRENCY,
            "Use a current ISO 4217 code like EUR.",
        )
    return None


def amount_problem(field: str, amount: int, *, allow_zero: bool = True) -> FieldProblem | None:
    low = 0 if allow_zero else 1
    if not low <= amount <= MAX_AMOUNT:
        return FieldProblem(
            ("input", *field.split(".")),
            MoneyErrorCode.INVALID_AMOUNT,
            f"Amounts are whole minor units from {low} to {MAX_AMOUNT}.",
        )
    return None
