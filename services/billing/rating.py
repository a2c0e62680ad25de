"""Rating: the pure arithmetic that prices a period's usage of one metric under a pricing rule.

Quantities are whole units (integers). Unit prices are integer *micros* of the currency's minor
unit (1 minor unit = 1_000_000 micros; 0.0001 EUR, a hundredth of a cent, is 10_000 micros), so a
unit may cost a fraction of a cent without floats. A metric's amount is computed in micros and
rounded ONCE to whole minor units, half to even (banker's rounding); a FLAT rule's amount is whole
minor units already.

- FLAT: the rule's flat amount for a period with any usage of the metric (none: 0).
- PER_UNIT: quantity x unit price.
- TIERED (graduated): each tier's units at that tier's price, summed.
- VOLUME: every unit at the price of the tier the total quantity falls in.
Tiers are ordered by ``up_to`` (inclusive upper bound of units; the last tier is unbounded, None)."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MICROS = 1_000_000
MAX_TIERS = 20


class Model(enum.StrEnum):
    """The pricing models (models/usage.py PricingModel has the same members)."""

    FLAT = "FLAT"
    PER_UNIT = "PER_UNIT"
    TIERED = "TIERED"
    VOLUME = "VOLUME"


@dataclass(frozen=True, slots=True)
class Tier:
    up_to: int | None  # inclusive upper bound of the tier's units; None: no bound (the last tier)
    unit_price_micros: int


@dataclass(frozen=True, slots=True)
class Rule:
    model: Model
    flat_amount: int = 0
    unit_price_micros: int = 0
    tiers: tuple[Tier, ...] = ()


def round_micros(micros: int) -> int:
    """Micros to whole minor units, half to even; never negative for a non-negative input."""
    whole, rest = divmod(micros, MICROS)
    if rest * 2 > MICROS or (rest * 2 == MICROS and whole % 2 == 1):
        whole += 1
    return whole


def tiers_problem(tiers: Sequence[Tier]) -> str | None:
    """Why these tiers cannot price usage, or None."""
    if not tiers:
        return "Give at least one tier."
    if len(tiers) > MAX_TIERS:
        return f"At most {MAX_TIERS} tiers."
    previous = 0
    for position, tier in enumerate(tiers):
        last = position == len(tiers) - 1
        if tier.unit_price_micros < 0:
            return "A tier's unit price cannot be negative."
        if last != (tier.up_to is None):
            return "Only the last tier is unbounded (upTo null), and it must be."
        if tier.up_to is not None:
            if tier.up_to <= previous:
                return "Tier bounds (upTo) must be positive and increase."
            previous = tier.up_to
    return None


def tiered_micros(quantity: int, tiers: Sequence[Tier]) -> int:
    """Graduated: the units of each tier at its price."""
    total, below = 0, 0
    for tier in tiers:
        top = quantity if tier.up_to is None else min(quantity, tier.up_to)
        if top <= below:
            break
        total += (top - below) * tier.unit_price_micros
        below = top
    return total


def volume_tier(quantity: int, tiers: Sequence[Tier]) -> Tier:
    """The tier the total falls in (0 units: the first)."""
    for tier in tiers:
        if tier.up_to is None or quantity <= tier.up_to:
            return tier
    return tiers[-1]


def amount_of(rule: Rule, quantity: int) -> int:
    """What ``quantity`` units cost under ``rule``, in whole minor units (>= 0)."""
    if quantity < 0:
        raise ValueError("usage quantities are not negative")
    if rule.model == Model.FLAT:
        return rule.flat_amount if quantity > 0 else 0
    if rule.model == Model.PER_UNIT:
        return round_micros(quantity * rule.unit_price_micros)
    if rule.model == Model.TIERED:
        return round_micros(tiered_micros(quantity, rule.tiers))
    return round_micros(quantity * volume_tier(quantity, rule.tiers).unit_price_micros)


def totals_by_metric(records: Iterable[tuple[str, int]]) -> dict[str, int]:
    """The quantity of each metric over (metric, quantity) records: rating prices the total of the
    period, so how usage was split into records never changes the amount."""
    totals: dict[str, int] = defaultdict(int)
    for metric, quantity in records:
        totals[metric] += quantity
    return dict(totals)


@dataclass(frozen=True, slots=True)
class Rated:
    metric: str
    quantity: int
    amount: int


def rate(records: Iterable[tuple[str, int]], rules: dict[str, Rule]) -> list[Rated]:
    """Each metric of ``records`` that has a rule, its total quantity and amount, by metric name."""
    return [
        Rated(metric, quantity, amount_of(rules[metric], quantity))
        for metric, quantity in sorted(totals_by_metric(records).items())
        if metric in rules
    ]
