"""Money is integer minor units of an ISO 4217 currency; never floats."""

from __future__ import annotations

import enum
import re

from core.errors import FieldProblem

_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Bounded well inside 64-bit and JavaScript's 2**53: totals of many lines cannot overflow.
MAX_AMOUNT = 10**15


class MoneyErrorCode(enum.StrEnum):
    """userError codes of any money input (prices, refunds, plans)."""

    INVALID_CURRENCY = "INVALID_CURRENCY"
    INVALID_AMOUNT = "INVALID_AMOUNT"


def currency_problem(field: str, currency: str) -> FieldProblem | None:
    if not _CURRENCY.match(currency):
        return FieldProblem(
            ("input", *field.split(".")), MoneyErrorCode.INVALID_CURRENCY, "Use an ISO 4217 code like EUR."
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
