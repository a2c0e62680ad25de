"""Promotion codes in the schema: the code (staff), what an order took, validation and the inputs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import relay
from strawberry.types import Info
from strawberry.types.lazy_type import LazyType

from models import promotions as models
from models.promotions import PromotionKind
from schema.catalog.types import Product
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from schema.money import Money, MoneyInput
from schema.nodes import Entity, load_nodes, node_type
from services.orders.promotions import is_promotion_staff

if TYPE_CHECKING:  # schema.billing builds on orders: the plan type is resolved lazily
    from schema.billing.plans import Plan

PLAN_TYPE: LazyType[str, str] = LazyType("Plan", "schema.billing.plans")

documented_enum(
    PromotionKind,
    "What a promotion code takes off.",
    {
        PromotionKind.PERCENT: "A percentage (`percentBps`) of what it applies to.",
        PromotionKind.FIXED: "A fixed amount (`amount`), for orders in its currency only.",
    },
)


@node_type
@strawberry.federation.type(
    keys=["id"],
    name="PromotionCode",
    description="A promotion code of the tenant (catalog staff: MANAGER, TENANT_ADMIN).",
)
class PromotionCode(Entity):
    code_id: relay.NodeID[str]
    code: str = strawberry.field(description="The code, upper-cased (buyers may type it in any case).")
    kind: PromotionKind = strawberry.field(description="A percentage or a fixed amount.")
    percent_bps: int | None = strawberry.field(description="PERCENT: basis points off (1000 = 10 %).")
    amount: Money | None = strawberry.field(description="FIXED: the amount off, and the orders' currency.")
    starts_at: datetime | None = strawberry.field(description="Valid from (UTC); null: already.")
    ends_at: datetime | None = strawberry.field(description="Valid until, excluded (UTC); null: no end.")
    max_uses: int | None = strawberry.field(description="Uses in all; null: unlimited.")
    max_uses_per_user: int | None = strawberry.field(description="Uses per buyer; null: unlimited.")
    uses_count: int = strawberry.field(description="Orders that took it so far (cancelled ones too).")
    active: bool = strawberry.field(description="Deactivated codes read as unknown to buyers.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    product_uuids: strawberry.Private[list[uuid.UUID]]
    plan_uuids: strawberry.Private[list[uuid.UUID]]

    @classmethod
    def from_model(cls, row: models.PromotionCode) -> Self:
        return cls(
            code_id=str(row.id),
            code=row.code,
            kind=row.kind,
            percent_bps=row.percent_bps,
            amount=Money.of(row.amount, row.currency) if row.amount is not None and row.currency else None,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            max_uses=row.max_uses,
            max_uses_per_user=row.max_uses_per_user,
            uses_count=row.uses_count,
            active=row.active,
            created_at=row.created_at,
            updated_at=row.updated_at,
            product_uuids=[uuid.UUID(p) for p in row.product_ids],
            plan_uuids=[uuid.UUID(p) for p in row.plan_ids],
        )

    @strawberry.field(
        description="The products it discounts (their lines' subtotal only); empty: the whole order. "
        "Products out of your reach are left out."
    )
    async def eligible_products(self, info: Info) -> list[Product]:
        found = await Product.load(info, [str(p) for p in self.product_uuids])
        return [p for p in found if p is not None]

    @strawberry.field(
        description="The plans whose first period it discounts (`subscribe(promotionCode:)`); such a "
        "code discounts no order unless it names products too."
    )
    async def eligible_plans(
        self, info: Info
    ) -> list[Annotated[Plan, strawberry.lazy("schema.billing.plans")]]:
        plan_type: type[Plan] = PLAN_TYPE.resolve_type()
        found = await plan_type.load(info, [str(p) for p in self.plan_uuids])
        return [p for p in found if p is not None]

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        """Codes are for catalog staff; to others they look like ids that name nothing."""
        principal = info.context.principal
        return await load_nodes(
            node_ids,
            "PromotionCode",
            info.context.loaders.promotions.code,
            cls.from_model,
            lambda _row: is_promotion_staff(principal),
        )


@strawberry.type(description="What a promotion code would take off an order now, or why it would not apply.")
class PromotionCodeValidation:
    valid: bool = strawberry.field(default=False, description="True when the code applies.")
    discount: Money | None = strawberry.field(
        default=None, description="What it would take off (alone); null when it does not apply."
    )
    kind: PromotionKind | None = strawberry.field(default=None, description="Its kind, when it applies.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="Which promotion codes to list.")
class PromotionCodeFilterInput:
    active: bool | None = strawberry.field(default=None, description="Only active (or inactive) codes.")


@strawberry.input(description="A new promotion code: PERCENT with percentBps, or FIXED with amount.")
class CreatePromotionCodeInput:
    code: str = strawberry.field(description="1-64 of A-Z 0-9 _ - (case-insensitive), unique in the tenant.")
    kind: PromotionKind = strawberry.field(description="A percentage or a fixed amount.")
    percent_bps: int | None = strawberry.field(default=None, description="PERCENT: 1 to 10000 basis points.")
    amount: MoneyInput | None = strawberry.field(
        default=None, description="FIXED: the amount off (minor units) and the orders' currency."
    )
    starts_at: datetime | None = strawberry.field(default=None, description="Valid from; null: at once.")
    ends_at: datetime | None = strawberry.field(
        default=None, description="Valid until, excluded; null: no end."
    )
    max_uses: int | None = strawberry.field(default=None, description="Uses in all; null: unlimited.")
    max_uses_per_user: int | None = strawberry.field(
        default=None, description="Uses per buyer; null: unlimited."
    )
    product_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Only these products' lines are discounted (at most 100); none: the order."
    )
    plan_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="These plans' first period is discounted (at most 100); none: no plan."
    )


@strawberry.input(description="A change of a promotion code: only the fields given change (null clears).")
class UpdatePromotionCodeInput:
    id: relay.GlobalID = strawberry.field(description="The promotion code.")
    code: str | None = strawberry.field(default=strawberry.UNSET, description="A new code.")
    kind: PromotionKind | None = strawberry.field(
        default=strawberry.UNSET, description="A new kind (give its percentBps or amount with it)."
    )
    percent_bps: int | None = strawberry.field(default=strawberry.UNSET, description="PERCENT: basis points.")
    amount: MoneyInput | None = strawberry.field(default=strawberry.UNSET, description="FIXED: the amount.")
    starts_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Valid from; null: at once."
    )
    ends_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Valid until; null: no end."
    )
    max_uses: int | None = strawberry.field(
        default=strawberry.UNSET, description="Uses in all; null: unlimited."
    )
    max_uses_per_user: int | None = strawberry.field(
        default=strawberry.UNSET, description="Uses per buyer; null: unlimited."
    )
    product_ids: list[relay.GlobalID] | None = strawberry.field(
        default=strawberry.UNSET, description="The eligible products; empty or null: the whole order."
    )
    plan_ids: list[relay.GlobalID] | None = strawberry.field(
        default=strawberry.UNSET, description="The eligible plans; empty or null: none."
    )
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="Reactivate or deactivate.")


@strawberry.input(description="The promotion code to deactivate.")
class DeactivatePromotionCodeInput:
    id: relay.GlobalID = strawberry.field(description="The promotion code.")


@strawberry.type(description="The result of a promotion code change: the code, or userErrors.")
class PromotionCodePayload:
    promotion_code: PromotionCode | None = strawberry.field(
        default=None, description="The code after the change."
    )
    user_errors: list[UserError] = user_errors_field()
