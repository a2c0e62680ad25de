"""Money in the schema: integer minor units (BigInt: GraphQL's Int stops at 2**31) and a currency."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

BigInt = NewType("BigInt", int)


def _parse_big_int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"BigInt cannot represent {value!r}")


# Registered through StrawberryConfig.scalar_map in subgraph/build.py.
SCALARS: dict[object, ScalarDefinition] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        serialize=int,
        parse_value=_parse_big_int,
        description="A whole number beyond GraphQL Int's 32 bits, serialised as a JSON number.",
    )
}


@strawberry.federation.type(shareable=True, description="An amount in minor units (cents) of a currency.")
class Money:
    amount: BigInt = strawberry.field(description="Whole minor units: 1999 with EUR is 19.99 EUR.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. EUR.")

    @classmethod
    def of(cls, amount: int, currency: str) -> Money:
        return cls(amount=BigInt(amount), currency=currency)


@strawberry.input(description="An amount in minor units (cents) of a currency.")
class MoneyInput:
    amount: BigInt = strawberry.field(description="Whole minor units: 1999 with EUR is 19.99 EUR.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. EUR.")
