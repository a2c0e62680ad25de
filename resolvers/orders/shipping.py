"""Root fields of shipping methods (seed 004 ``shipping_methods``): catalog staff write them, every
signed-in user lists the active ones (to choose one at checkout: ``createOrder(shippingMethodId:)``)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.permissions import CATALOG_STAFF
from core.scopes import ApiScope
from schema.directives import AUTHENTICATED, HasRole, HasScope, access
from schema.errors import mutation_payload
from schema.money import MoneyInput
from schema.nodes import parse_uuid
from schema.orders.shipping import (
    CreateShippingMethodInput,
    DeactivateShippingMethodInput,
    ShippingMethod,
    ShippingMethodPayload,
    UpdateShippingMethodInput,
)
from schema.pagination import After, Before, Connection, First, Last, connection, page_args
from services.orders import shipping
from services.orders.shipping import ShippingChange, ShippingSpec

STAFF = access(HasRole(*CATALOG_STAFF))
READ = access(AUTHENTICATED, HasScope(ApiScope.ORDERS_READ))


def _payload(row: Any) -> ShippingMethodPayload:
    return ShippingMethodPayload(shipping_method=ShippingMethod.from_model(row))


def _price(money: MoneyInput | None) -> tuple[int | None, str | None]:
    return (None, None) if money is None or money is strawberry.UNSET else (int(money.amount), money.currency)


@strawberry.type
class ShippingQuery:
    @strawberry.field(
        extensions=READ,
        description="The tenant's shipping methods in `position` order: the active ones, and with "
        "`includeInactive` the inactive ones too (catalog staff; ignored for others).",
    )
    async def shipping_methods(
        self,
        info: Info,
        include_inactive: Annotated[
            bool, strawberry.argument(description="Staff: list the deactivated methods too.")
        ] = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ShippingMethod]:
        page = await shipping.list_shipping_methods(
            info.context.services, include_inactive, page_args(first, after, last, before)
        )
        return connection(page, ShippingMethod.from_model)


@strawberry.type
class ShippingMutation:
    @strawberry.mutation(extensions=STAFF, description="Create a shipping method: catalog staff.")
    async def create_shipping_method(
        self,
        info: Info,
        input: Annotated[CreateShippingMethodInput, strawberry.argument(description="The method.")],
    ) -> ShippingMethodPayload:
        spec = ShippingSpec(
            code=input.code,
            name=input.name,
            price=int(input.price.amount),
            currency=input.price.currency,
            free_over=None if input.free_over is None else int(input.free_over),
            active=input.active,
            position=input.position,
        )
        call = shipping.create_shipping_method(info.context.services, spec)
        return await mutation_payload(ShippingMethodPayload, call, _payload)

    @strawberry.mutation(
        extensions=STAFF,
        description="Change a shipping method: only the fields given (catalog staff). Placed orders "
        "keep their shipping total.",
    )
    async def update_shipping_method(
        self,
        info: Info,
        input: Annotated[UpdateShippingMethodInput, strawberry.argument(description="The change.")],
    ) -> ShippingMethodPayload:
        price, currency = _price(input.price)
        free_over = None if input.free_over in (None, strawberry.UNSET) else int(input.free_over)
        change = ShippingChange(
            code=None if input.code is strawberry.UNSET else input.code,
            name=None if input.name is strawberry.UNSET else input.name,
            price=price,
            currency=currency,
            free_over=free_over,
            clear_free_over=input.free_over is None,
            active=None if input.active is strawberry.UNSET else input.active,
            position=None if input.position is strawberry.UNSET else input.position,
        )
        call = shipping.update_shipping_method(
            info.context.services, parse_uuid(input.id, "ShippingMethod"), change
        )
        return await mutation_payload(ShippingMethodPayload, call, _payload)

    @strawberry.mutation(
        extensions=STAFF,
        description="Deactivate a shipping method: new orders cannot take it; placed orders keep it.",
    )
    async def deactivate_shipping_method(
        self,
        info: Info,
        input: Annotated[DeactivateShippingMethodInput, strawberry.argument(description="The method.")],
    ) -> ShippingMethodPayload:
        call = shipping.deactivate_shipping_method(
            info.context.services, parse_uuid(input.id, "ShippingMethod")
        )
        return await mutation_payload(ShippingMethodPayload, call, _payload)
