"""Order pricing: the one place that turns lines, a discount and a tax rate into amounts.

Pure functions on integers (minor units of one currency); no floats, no I/O.

- line subtotal = unit price x quantity; subtotal = the sum of the line subtotals.
- discount: a fixed amount, or a percentage in basis points of the subtotal (1 bp = 0.01 %);
  never more than the subtotal. A discount may be for some lines only (``Discount.lines``): it is
  then computed on, and spread over, those lines. Several discounts apply one after the other,
  each never more than what is left of its lines, so together never more than the subtotal.
- tax = ``tax_rate_bps`` of (subtotal - discount): prices are tax-exclusive, tax is charged on the
  discounted amount.
- total = subtotal - discount + tax + shipping (shipping is order-level, not spread over lines).

Rounding: every division rounds half to even (banker's rounding) with exact integer arithmetic,
so rounding errors do not drift one way over many orders.

Allocation: the order's discount is spread over the lines in proportion to their subtotals, and
the tax in proportion to their discounted amounts, by the largest-remainder method: each line gets
the floor of its exact share and the units left over go to the lines with the largest remainders
(ties: the larger weight, then the earlier line). Line amounts therefore sum exactly to the
order's amounts, and no line is discounted below zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BPS = 10_000  # basis points in 100 %


@dataclass(frozen=True, slots=True)
class Line:
    unit_price: int
    quantity: int


@dataclass(frozen=True, slots=True)
class Discount:
    """Exactly one of ``amount`` (minor units) and ``percent_bps`` (0..10000); ``lines``: the
    positions of the lines it is for (None: every line)."""

    amount: int | None = None
    percent_bps: int | None = None
    lines: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if (self.amount is None) == (self.percent_bps is None):
            raise ValueError("a discount is either a fixed amount or a percentage")
        if self.amount is not None and self.amount < 0:
            raise ValueError("a discount amount is not negative")
        if self.percent_bps is not None and not 0 <= self.percent_bps <= BPS:
            raise ValueError("a discount percentage is 0 to 10000 basis points")


@dataclass(frozen=True, slots=True)
class LinePrice:
    subtotal: int
    discount: int
    tax: int
    total: int


@dataclass(frozen=True, slots=True)
class OrderPrice:
    lines: tuple[LinePrice, ...]
    subtotal: int
    discount: int
    tax: int
    shipping: int
    total: int
    # What each discount given to price_order took off, in order (they sum to ``discount``).
    discounts: tuple[int, ...] = ()


def round_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, halves to the even one."""
    if denominator <= 0:
        raise ValueError("the denominator is positive")
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def line_subtotal(unit_price: int, quantity: int) -> int:
    if unit_price < 0 or quantity < 1:
        raise ValueError("a line has a non-negative unit price and a positive quantity")
    return unit_price * quantity


def subtotal(lines: Sequence[Line]) -> int:
    return sum(line_subtotal(line.unit_price, line.quantity) for line in lines)


def discount_amount(subtotal_amount: int, discount: Discount | None) -> int:
    """The order-level discount: never negative, never more than the subtotal."""
    if discount is None:
        return 0
    if discount.percent_bps is not None:
        return min(round_half_even(subtotal_amount * discount.percent_bps, BPS), subtotal_amount)
    if discount.amount is not None:
        return min(discount.amount, subtotal_amount)
    raise ValueError("a discount is either a fixed amount or a percentage")


def tax_amount(taxable: int, tax_rate_bps: int) -> int:
    if tax_rate_bps < 0:
        raise ValueError("a tax rate is not negative")
    return round_half_even(taxable * tax_rate_bps, BPS)


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` over ``weights`` in proportion, summing exactly to ``amount``."""
    if amount < 0 or any(w < 0 for w in weights):
        raise ValueError("amounts and weights are not negative")
    total_weight = sum(weights)
    if total_weight == 0:
        if amount:
            raise ValueError("cannot allocate an amount over zero weights")
        return [0] * len(weights)
    shares = [divmod(amount * w, total_weight) for w in weights]
    allocated = [floor for floor, _ in shares]
    left_over = amount - sum(allocated)
    # Largest remainder first; ties by the larger weight, then by position (stable).
    order = sorted(range(len(weights)), key=lambda i: (-shares[i][1], -weights[i], i))
    for i in order[:left_over]:
        allocated[i] += 1
    return allocated


def _apply_discount(discount: Discount, line_subtotals: Sequence[int], line_discounts: list[int]) -> int:
    """Adds ``discount``'s share to ``line_discounts`` (in place); returns what it took off."""
    positions = range(len(line_subtotals)) if discount.lines is None else sorted(set(discount.lines))
    if any(not 0 <= i < len(line_subtotals) for i in positions):
        raise ValueError("a discount's lines are positions of the order's lines")
    base = sum(line_subtotals[i] for i in positions)
    left = [line_subtotals[i] - line_discounts[i] for i in positions]
    taken = min(discount_amount(base, discount), sum(left))
    # Spread over what is left of its lines, so that no line goes below zero.
    for i, share in zip(positions, allocate(taken, left), strict=True):
        line_discounts[i] += share
    return taken


def price_order(
    lines: Sequence[Line],
    *,
    discount: Discount | None = None,
    discounts: Sequence[Discount] = (),
    tax_rate_bps: int = 0,
    shipping: int = 0,
) -> OrderPrice:
    """Every amount of an order, per line and in total; ``discount`` applies first, then each
    of ``discounts`` in turn."""
    if shipping < 0:
        raise ValueError("shipping is not negative")
    line_subtotals = [line_subtotal(line.unit_price, line.quantity) for line in lines]
    order_subtotal = sum(line_subtotals)
    line_discounts = [0] * len(line_subtotals)
    given = ([discount] if discount is not None else []) + list(discounts)
    parts = tuple(_apply_discount(d, line_subtotals, line_discounts) for d in given)
    order_discount = sum(parts)
    order_tax = tax_amount(order_subtotal - order_discount, tax_rate_bps)
    line_nets = [s - d for s, d in zip(line_subtotals, line_discounts, strict=True)]
    line_taxes = allocate(order_tax, line_nets)
    priced = tuple(
        LinePrice(subtotal=s, discount=d, tax=t, total=s - d + t)
        for s, d, t in zip(line_subtotals, line_discounts, line_taxes, strict=True)
    )
    return OrderPrice(
        lines=priced,
        subtotal=order_subtotal,
        discount=order_discount,
        tax=order_tax,
        shipping=shipping,
        total=order_subtotal - order_discount + order_tax + shipping,
        discounts=parts,
    )


def divide_half_even(amount: int, count: int) -> int:
    """An average of ``count`` amounts (0 for none), rounded like every other amount."""
    return round_half_even(amount, count) if count else 0
