"""Root fields of promotion codes (seed 002 /discounts): staff write and list them, buyers validate."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.permissions import CATALOG_STAFF
from core.scopes import ApiScope
from schema.directives import AUTHENTICATED, HasRole, HasScope, access
from schema.errors import mutation_payload
from schema.money import Money, MoneyInput
from schema.nodes import optional_reference, parse_uuid, reference_uuid
from schema.orders.inputs import OrderLineInput
from schema.orders.promotions import (
    CreatePromotionCodeInput,
    DeactivatePromotionCodeInput,
    PromotionCode,
    PromotionCodeFilterInput,
    PromotionCodePayload,
    PromotionCodeValidation,
    UpdatePromotionCodeInput,
)
from schema.pagination import FILTER, After, Before, Connection, First, Last, connection, page_args
from services.orders import promotion_codes, promotions
from services.orders.new_order import NewOrderLine
from services.orders.promotion_codes import PromotionChange, PromotionSpec
from services.orders.promotions import Validation

STAFF = access(HasRole(*CATALOG_STAFF))
READ = access(AUTHENTICATED, HasScope(ApiScope.ORDERS_READ))


def _payload(row: Any) -> PromotionCodePayload:
    return PromotionCodePayload(promotion_code=PromotionCode.from_model(row))


CLEARABLE = ("starts_at", "ends_at", "max_uses", "max_uses_per_user")
T = TypeVar("T")


def _given(value: T | None) -> T | None:
    """An update field: UNSET (not given) and null both read None (see PromotionChange.clear)."""
    return None if value is strawberry.UNSET else value


def _amount(money: MoneyInput | None) -> tuple[int | None, str | None]:
    return (None, None) if money is None else (int(money.amount), money.currency)


def _validation(result: Validation) -> PromotionCodeValidation:
    return PromotionCodeValidation(
        valid=True, discount=Money.of(result.discount, result.currency), kind=result.row.kind
    )


@strawberry.type
class PromotionQuery:
    @strawberry.field(
        extensions=STAFF, description="The tenant's promotion codes, newest first (catalog staff)."
    )
    async def promotion_codes(
        self,
        info: Info,
        filter: Annotated[PromotionCodeFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[PromotionCode]:
        page = await promotion_codes.list_promotion_codes(
            info.context.services,
            (filter or PromotionCodeFilterInput()).active,
            page_args(first, after, last, before),
        )
        return connection(page, PromotionCode.from_model)

    @strawberry.field(
        extensions=READ,
        description="What a promotion code would take off an order of `items` (or of your cart with "
        "`fromCart: true`) now, for you (POST /discounts/validate). Nothing is reserved: checkout "
        "checks again.",
    )
    async def validate_promotion_code(
        self,
        info: Info,
        code: Annotated[str, strawberry.argument(description="The code, in any case.")],
        items: Annotated[
            list[OrderLineInput] | None, strawberry.argument(description="The order's lines (at most 100).")
        ] = None,
        from_cart: Annotated[
            bool, strawberry.argument(description="Price your cart instead of items.")
        ] = False,
        plan_id: Annotated[
            relay.GlobalID | None,
            strawberry.argument(description="Price the first period of this plan instead (subscribe)."),
        ] = None,
    ) -> PromotionCodeValidation:
        lines = [NewOrderLine(reference_uuid(i.product_id, "Product"), i.quantity) for i in items or ()]
        call = promotions.validate_promotion_code(
            info.context.services,
            code,
            lines or None,
            from_cart,
            optional_reference(plan_id, "Plan"),
        )
        return await mutation_payload(PromotionCodeValidation, call, _validation)


@strawberry.type
class PromotionMutation:
    @strawberry.mutation(
        extensions=STAFF, description="Create a promotion code (POST /discounts): catalog staff."
    )
    async def create_promotion_code(
        self,
        info: Info,
        input: Annotated[CreatePromotionCodeInput, strawberry.argument(description="The code.")],
    ) -> PromotionCodePayload:
        amount, currency = _amount(input.amount)
        spec = PromotionSpec(
            code=input.code,
            kind=input.kind,
            percent_bps=input.percent_bps,
            amount=amount,
            currency=currency,
            starts_at=input.starts_at,
            ends_at=input.ends_at,
            max_uses=input.max_uses,
            max_uses_per_user=input.max_uses_per_user,
            product_ids=tuple(reference_uuid(p, "Product") for p in input.product_ids or ()),
            plan_ids=tuple(reference_uuid(p, "Plan") for p in input.plan_ids or ()),
        )
        call = promotion_codes.create_promotion_code(info.context.services, spec)
        return await mutation_payload(PromotionCodePayload, call, _payload)

    @strawberry.mutation(
        extensions=STAFF,
        description="Change a promotion code: only the fields given (catalog staff). Orders placed "
        "already keep their discount.",
    )
    async def update_promotion_code(
        self,
        info: Info,
        input: Annotated[UpdatePromotionCodeInput, strawberry.argument(description="The change.")],
    ) -> PromotionCodePayload:
        clear = frozenset(name for name in CLEARABLE if getattr(input, name) is None)
        amount, currency = _amount(_given(input.amount))
        change = PromotionChange(
            code=_given(input.code),
            kind=_given(input.kind),
            percent_bps=_given(input.percent_bps),
            amount=amount,
            currency=currency,
            starts_at=_given(input.starts_at),
            ends_at=_given(input.ends_at),
            max_uses=_given(input.max_uses),
            max_uses_per_user=_given(input.max_uses_per_user),
            product_ids=None
            if input.product_ids is strawberry.UNSET
            else tuple(reference_uuid(p, "Product") for p in input.product_ids or ()),
            plan_ids=None
            if input.plan_ids is strawberry.UNSET
            else tuple(reference_uuid(p, "Plan") for p in input.plan_ids or ()),
            active=_given(input.active),
            clear=clear,
        )
        call = promotion_codes.update_promotion_code(
            info.context.services, parse_uuid(input.id, "PromotionCode"), change
        )
        return await mutation_payload(PromotionCodePayload, call, _payload)

    @strawberry.mutation(
        extensions=STAFF,
        description="Deactivate a promotion code: new orders cannot take it; placed orders keep it.",
    )
    async def deactivate_promotion_code(
        self,
        info: Info,
        input: Annotated[DeactivatePromotionCodeInput, strawberry.argument(description="The code.")],
    ) -> PromotionCodePayload:
        call = promotion_codes.deactivate_promotion_code(
            info.context.services, parse_uuid(input.id, "PromotionCode")
        )
        return await mutation_payload(PromotionCodePayload, call, _payload)
