"""Money in the schema: integer minor units (BigInt: GraphQL's Int stops at 2**31) and a currency."""

from __future__ import annotations

from typing import NewType

import strawberry

BigInt = strawberry.scalar(
    NewType("BigInt", int),
    serialize=int,
    parse_value=lambda value: (
        int(value) if isinstance(value, int) and not isinstance(value, bool) else _reject(value)
    ),
    description="A whole number beyond GraphQL Int's 32 bits, serialised as a JSON number.",
)


def _reject(value: object) -> int:
    raise ValueError(f"BigInt cannot represent {value!r}")


@strawberry.federation.type(shareable=True, description="An amount in minor units (cents) of a currency.")
class Money:
    amount: BigInt  # type: ignore[valid-type]
    currency: str = strawberry.field(description="ISO 4217 code, e.g. EUR.")


@strawberry.input(description="An amount in minor units (cents) of a currency.")
class MoneyInput:
    amount: BigInt  # type: ignore[valid-type]
    currency: str
