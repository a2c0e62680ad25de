"""Property tests of the rating arithmetic (services/billing/rating.py): graduated tiers sum their
tiers, volume pricing rises within a tier and never exceeds graduated pricing when tier prices fall,
per-unit pricing is linear before its one rounding, amounts are whole and never negative, and how
usage is split into records never changes the total."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.billing.rating import (
    MICROS,
    Model,
    Rule,
    Tier,
    amount_of,
    rate,
    round_micros,
    tiered_micros,
    tiers_problem,
    volume_tier,
)

quantities = st.integers(min_value=0, max_value=10**7)
prices = st.integers(min_value=0, max_value=10**8)


@st.composite
def tier_lists(draw: st.DrawFn, falling: bool = False) -> tuple[Tier, ...]:
    bounds = sorted(draw(st.sets(st.integers(min_value=1, max_value=10**6), max_size=5)))
    unit = draw(st.lists(prices, min_size=len(bounds) + 1, max_size=len(bounds) + 1))
    if falling:
        unit = sorted(unit, reverse=True)
    tiers = (*(Tier(b, p) for b, p in zip(bounds, unit, strict=False)), Tier(None, unit[-1]))
    assert tiers_problem(tiers) is None
    return tiers


def test_known_values() -> None:
    tiers = (Tier(100, 10 * MICROS), Tier(1000, 5 * MICROS), Tier(None, 1 * MICROS))
    assert amount_of(Rule(Model.TIERED, tiers=tiers), 1500) == 100 * 10 + 900 * 5 + 500 * 1
    assert amount_of(Rule(Model.VOLUME, tiers=tiers), 1500) == 1500
    assert amount_of(Rule(Model.VOLUME, tiers=tiers), 100) == 1000  # the bound belongs to its tier
    assert amount_of(Rule(Model.VOLUME, tiers=tiers), 101) == 505
    assert amount_of(Rule(Model.PER_UNIT, unit_price_micros=1500), 1000) == 2  # 1.5 cents: half to even
    assert amount_of(Rule(Model.PER_UNIT, unit_price_micros=2500), 1000) == 2  # 2.5 -> 2
    assert amount_of(Rule(Model.PER_UNIT, unit_price_micros=3500), 1000) == 4  # 3.5 -> 4
    assert amount_of(Rule(Model.FLAT, flat_amount=1500), 7) == 1500
    assert amount_of(Rule(Model.FLAT, flat_amount=1500), 0) == 0
    assert [round_micros(m) for m in (0, 499_999, 500_000, 500_001, 1_500_000)] == [0, 0, 0, 1, 2]
    assert tiers_problem((Tier(10, 1), Tier(5, 1), Tier(None, 1))) is not None
    assert tiers_problem((Tier(10, 1),)) is not None
    assert tiers_problem(()) is not None


@given(quantities, tier_lists())
def test_tiered_is_the_sum_over_tiers(quantity: int, tiers: tuple[Tier, ...]) -> None:
    expected, below = 0, 0
    for tier in tiers:
        top = quantity if tier.up_to is None else min(quantity, tier.up_to)
        expected += max(top - below, 0) * tier.unit_price_micros
        below = max(below, top)
    assert tiered_micros(quantity, tiers) == expected
    assert amount_of(Rule(Model.TIERED, tiers=tiers), quantity) == round_micros(expected)


@given(quantities, quantities, tier_lists())
def test_volume_rises_within_a_tier(a: int, b: int, tiers: tuple[Tier, ...]) -> None:
    low, high = sorted((a, b))
    rule = Rule(Model.VOLUME, tiers=tiers)
    if volume_tier(low, tiers) == volume_tier(high, tiers):
        assert amount_of(rule, low) <= amount_of(rule, high)


@given(quantities, tier_lists(falling=True))
def test_volume_never_exceeds_graduated_when_prices_fall(quantity: int, tiers: tuple[Tier, ...]) -> None:
    volume = quantity * volume_tier(quantity, tiers).unit_price_micros
    assert volume <= tiered_micros(quantity, tiers)


@given(quantities, quantities, prices)
def test_per_unit_is_linear_before_rounding(a: int, b: int, price: int) -> None:
    rule = Rule(Model.PER_UNIT, unit_price_micros=price)
    # In micros it is exactly linear; after the one rounding each part is within half a minor unit.
    assert (a + b) * price == a * price + b * price
    assert abs(amount_of(rule, a + b) - (a + b) * price / MICROS) <= 0.5
    if price % MICROS == 0:
        assert amount_of(rule, a + b) == amount_of(rule, a) + amount_of(rule, b)


@given(
    quantities,
    st.sampled_from(list(Model)),
    prices,
    st.integers(min_value=0, max_value=10**9),
    tier_lists(),
)
def test_amounts_are_whole_and_never_negative(
    quantity: int, model: Model, price: int, flat: int, tiers: tuple[Tier, ...]
) -> None:
    amount = amount_of(Rule(model, flat_amount=flat, unit_price_micros=price, tiers=tiers), quantity)
    assert isinstance(amount, int) and amount >= 0


@given(st.lists(st.tuples(st.sampled_from(["calls", "gb"]), st.integers(0, 10**5)), max_size=30), st.data())
def test_splitting_usage_into_records_keeps_the_total(
    records: list[tuple[str, int]], data: st.DataObject
) -> None:
    tiers = data.draw(tier_lists())
    rules = {"calls": Rule(Model.TIERED, tiers=tiers), "gb": Rule(Model.PER_UNIT, unit_price_micros=333_333)}
    whole = rate(records, rules)
    split: list[tuple[str, int]] = []
    for metric, quantity in records:
        cut = data.draw(st.integers(0, quantity))
        split += [(metric, cut), (metric, quantity - cut)]
    assert rate(split, rules) == whole
    assert sum(r.amount for r in whole) == sum(r.amount for r in rate(list(reversed(split)), rules))
