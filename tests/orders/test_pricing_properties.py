"""services/orders/pricing.py: examples worked by hand, and properties that must hold for any order."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.orders import pricing
from services.orders.pricing import Discount, Line, allocate, price_order, round_half_even

lines_strategy = st.lists(
    st.builds(Line, unit_price=st.integers(0, 10**9), quantity=st.integers(1, 10_000)),
    min_size=1,
    max_size=20,
)
discounts = st.one_of(
    st.none(),
    st.builds(Discount, amount=st.integers(0, 10**14)),
    st.builds(Discount, percent_bps=st.integers(0, 10_000)),
)
tax_rates = st.integers(0, 10_000)
shipping = st.integers(0, 10**6)


# ---- examples -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (5, 2, 2),
        (7, 2, 4),
        (1, 3, 0),
        (2, 3, 1),
        (25, 10, 2),
        (35, 10, 4),
        (-5, 2, -2),
        (-7, 2, -4),
        (0, 7, 0),
    ],
)
def test_round_half_even_examples(numerator: int, denominator: int, expected: int) -> None:
    assert round_half_even(numerator, denominator) == expected


def test_an_order_priced_by_hand() -> None:
    # 3 x 19.99 + 1 x 10.50 = 70.47; 10 % off = 7.047 -> 7.05 (half-even leaves .047 -> .05);
    # 19 % tax of 63.42 = 12.0498 -> 12.05; total 70.47 - 7.05 + 12.05 + 4.90 = 80.37.
    priced = price_order(
        [Line(1999, 3), Line(1050, 1)], discount=Discount(percent_bps=1000), tax_rate_bps=1900, shipping=490
    )
    assert (priced.subtotal, priced.discount, priced.tax, priced.shipping, priced.total) == (
        7047,
        705,
        1205,
        490,
        8037,
    )
    # The discount split 5997 : 1050 -> exact 599.96 / 105.04 -> 600 / 105 (largest remainder).
    assert [(line.subtotal, line.discount) for line in priced.lines] == [(5997, 600), (1050, 105)]
    # The tax split over the discounted lines 5397 : 945 -> exact 1025.45 / 179.55 -> 1025 / 180.
    assert [line.tax for line in priced.lines] == [1025, 180]
    assert [line.total for line in priced.lines] == [5997 - 600 + 1025, 1050 - 105 + 180]


def test_a_half_cent_rounds_to_even() -> None:
    # 25 % of 2 = 0.5 -> 0 and 25 % of 6 = 1.5 -> 2: never always up, never always down.
    assert price_order([Line(2, 1)], discount=Discount(percent_bps=2500)).discount == 0
    assert price_order([Line(6, 1)], discount=Discount(percent_bps=2500)).discount == 2
    assert price_order([Line(10, 1)], tax_rate_bps=500).tax == 0  # 0.5 -> 0
    assert price_order([Line(30, 1)], tax_rate_bps=500).tax == 2  # 1.5 -> 2


def test_a_fixed_discount_larger_than_the_subtotal_is_capped() -> None:
    priced = price_order([Line(300, 2)], discount=Discount(amount=10_000), tax_rate_bps=2000)
    assert (priced.subtotal, priced.discount, priced.tax, priced.total) == (600, 600, 0, 0)
    assert [line.discount for line in priced.lines] == [600]


def test_three_equal_lines_share_one_cent_deterministically() -> None:
    assert allocate(1, [100, 100, 100]) == [1, 0, 0]
    assert allocate(2, [100, 100, 100]) == [1, 1, 0]
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(0, [0, 0]) == [0, 0]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="either a fixed amount or a percentage"):
        Discount(amount=1, percent_bps=1)
    with pytest.raises(ValueError, match="0 to 10000 basis points"):
        Discount(percent_bps=10_001)
    with pytest.raises(ValueError, match="positive quantity"):
        price_order([Line(100, 0)])
    with pytest.raises(ValueError, match="zero weights"):
        allocate(1, [0, 0])
    with pytest.raises(ValueError, match="denominator"):
        round_half_even(1, 0)


# ---- properties ---------------------------------------------------------------------------


@given(st.integers(-(10**18), 10**18), st.integers(1, 10**9))
def test_round_half_even_agrees_with_decimal(numerator: int, denominator: int) -> None:
    expected = (Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    exact = Fraction(numerator, denominator)
    result = round_half_even(numerator, denominator)
    assert abs(Fraction(result) - exact) <= Fraction(1, 2)
    if exact.denominator != 2:
        assert result == round(exact)
    else:
        assert result % 2 == 0
    # Decimal's default precision (28 digits) is exact for these magnitudes.
    assert result == int(expected)


@settings(max_examples=150)
@given(lines_strategy, discounts, tax_rates, shipping)
def test_totals_add_up_and_are_non_negative_integers(
    lines: list[Line], discount: Discount | None, tax_rate: int, shipping_amount: int
) -> None:
    priced = price_order(lines, discount=discount, tax_rate_bps=tax_rate, shipping=shipping_amount)
    amounts = [priced.subtotal, priced.discount, priced.tax, priced.shipping, priced.total]
    amounts += [a for line in priced.lines for a in (line.subtotal, line.discount, line.tax, line.total)]
    assert all(type(a) is int and a >= 0 for a in amounts)
    assert priced.total == priced.subtotal - priced.discount + priced.tax + priced.shipping
    assert priced.subtotal == sum(line.unit_price * line.quantity for line in lines)
    assert priced.discount <= priced.subtotal


@settings(max_examples=150)
@given(lines_strategy, discounts, tax_rates, shipping)
def test_line_amounts_sum_exactly_to_the_order(
    lines: list[Line], discount: Discount | None, tax_rate: int, shipping_amount: int
) -> None:
    priced = price_order(lines, discount=discount, tax_rate_bps=tax_rate, shipping=shipping_amount)
    assert sum(line.subtotal for line in priced.lines) == priced.subtotal
    assert sum(line.discount for line in priced.lines) == priced.discount
    assert sum(line.tax for line in priced.lines) == priced.tax
    assert sum(line.total for line in priced.lines) == priced.total - priced.shipping
    for line in priced.lines:
        assert 0 <= line.discount <= line.subtotal
        assert line.total == line.subtotal - line.discount + line.tax


@settings(max_examples=100)
@given(st.data(), lines_strategy, discounts, tax_rates, shipping)
def test_the_order_of_lines_changes_nothing(
    data: st.DataObject, lines: list[Line], discount: Discount | None, tax_rate: int, shipping_amount: int
) -> None:
    shuffled = data.draw(st.permutations(lines))
    first = price_order(lines, discount=discount, tax_rate_bps=tax_rate, shipping=shipping_amount)
    second = price_order(shuffled, discount=discount, tax_rate_bps=tax_rate, shipping=shipping_amount)
    totals = ("subtotal", "discount", "tax", "shipping", "total")
    assert [getattr(first, t) for t in totals] == [getattr(second, t) for t in totals]
    # Lines alike get alike shares wherever they stand: the multiset of priced lines is the same.
    assert sorted(first.lines, key=repr) == sorted(second.lines, key=repr)


@given(st.integers(0, 10**12), st.lists(st.integers(0, 10**9), min_size=1, max_size=50))
def test_allocation_is_exact_and_within_one_unit_of_the_proportional_share(
    amount_value: int, weights: list[int]
) -> None:
    if sum(weights) == 0:
        weights = [*weights[:-1], 1]
    shares = allocate(amount_value, weights)
    assert sum(shares) == amount_value
    total = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        exact = Fraction(amount_value * weight, total)
        assert 0 <= share - exact.__floor__() <= 1
        assert share >= 0


@given(st.integers(0, 10**15), st.integers(0, 10**6))
def test_average_rounds_half_even(total: int, count: int) -> None:
    average = pricing.divide_half_even(total, count)
    if count == 0:
        assert average == 0
    else:
        assert abs(Fraction(average) - Fraction(total, count)) <= Fraction(1, 2)
