"""Shipping methods in the schema: the method, its inputs and payload (services/orders/shipping.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import shipping as models
from schema.errors import UserError, user_errors_field
from schema.money import BigInt, Money, MoneyInput
from schema.nodes import Entity, load_nodes, node_type


@node_type
@strawberry.federation.type(
    keys=["id"],
    name="ShippingMethod",
    description="A way the tenant ships physical items, at a price in one currency (free from "
    "`freeOver` on). Written by catalog staff (MANAGER, TENANT_ADMIN).",
)
class ShippingMethod(Entity):
    shipping_method_id: relay.NodeID[str]
    code: str = strawberry.field(description="Unique in the tenant, upper-cased, e.g. STANDARD.")
    name: str = strawberry.field(description="What buyers read, e.g. Standard (3-5 days).")
    price: Money = strawberry.field(description="What it charges an order, in the orders' currency.")
    free_over: Money | None = strawberry.field(
        description="An order whose subtotal (before discounts) is at least this ships for 0; null: never."
    )
    active: bool = strawberry.field(description="Only active methods are offered and taken at checkout.")
    position: int = strawberry.field(description="Lists are in this order, lowest first.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")

    @classmethod
    def from_model(cls, row: models.ShippingMethod) -> Self:
        return cls(
            shipping_method_id=str(row.id),
            code=row.code,
            name=row.name,
            price=Money.of(row.price, row.currency),
            free_over=Money.of(row.free_over, row.currency) if row.free_over is not None else None,
            active=row.active,
            position=row.position,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        """Any signed-in user of the tenant reads its methods (an order's may be inactive now)."""
        principal = info.context.principal
        return await load_nodes(
            node_ids,
            "ShippingMethod",
            info.context.loaders.orders.shipping_method,
            cls.from_model,
            lambda _row: principal is not None,
        )


@strawberry.input(description="A new shipping method.")
class CreateShippingMethodInput:
    code: str = strawberry.field(description="1-64 of A-Z 0-9 _ - (case-insensitive), unique in the tenant.")
    name: str = strawberry.field(description="What buyers read, 1-200 characters.")
    price: MoneyInput = strawberry.field(description="Its price (0 or more) and the orders' currency.")
    free_over: BigInt | None = strawberry.field(
        default=None, description="Free from this subtotal on (minor units of the price's currency)."
    )
    position: int = strawberry.field(default=0, description="Where it is listed, lowest first (0-1000000).")
    active: bool = strawberry.field(default=True, description="Offered at checkout from now on.")


@strawberry.input(description="A change of a shipping method: only the fields given change.")
class UpdateShippingMethodInput:
    id: relay.GlobalID = strawberry.field(description="The shipping method.")
    code: str | None = strawberry.field(default=strawberry.UNSET, description="A new code.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="A new name.")
    price: MoneyInput | None = strawberry.field(
        default=strawberry.UNSET, description="A new price and currency."
    )
    free_over: BigInt | None = strawberry.field(
        default=strawberry.UNSET, description="A new free-shipping threshold; null: never free."
    )
    position: int | None = strawberry.field(default=strawberry.UNSET, description="A new position.")
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="Reactivate or deactivate.")


@strawberry.input(description="The shipping method to deactivate.")
class DeactivateShippingMethodInput:
    id: relay.GlobalID = strawberry.field(description="The shipping method.")


@strawberry.type(description="The result of a shipping method change: the method, or userErrors.")
class ShippingMethodPayload:
    shipping_method: ShippingMethod | None = strawberry.field(
        default=None, description="The method after the change."
    )
    user_errors: list[UserError] = user_errors_field()
