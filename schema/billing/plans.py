"""Plans and billing subscriptions: their types, inputs and the plan payload."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.errors import NotFound
from models import billing as models
from models.billing import PlanInterval, SubscriptionStatus
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from schema.identity.accounts import User, user_of
from schema.money import Money, MoneyInput
from schema.nodes import Entity, load_nodes, node_type
from schema.pagination import OrderDirection
from services.billing.access import can_see
from services.billing.plans import SubscriptionOrderField

documented_enum(
    PlanInterval,
    "How often a plan bills.",
    {PlanInterval.MONTH: "Every calendar month.", PlanInterval.YEAR: "Every year."},
)
documented_enum(
    SubscriptionStatus,
    "ACTIVE <-> PAUSED; CANCELLED (final) now or at the period's end.",
    {
        SubscriptionStatus.ACTIVE: "Running: each period is invoiced when it begins.",
        SubscriptionStatus.PAUSED: "On hold: no new periods are invoiced until resumed.",
        SubscriptionStatus.CANCELLED: "Ended for good.",
    },
    name="BillingSubscriptionStatus",
)
documented_enum(
    SubscriptionOrderField,
    "What a list of billing subscriptions is sorted by.",
    {
        SubscriptionOrderField.CREATED_AT: "When it was started.",
        SubscriptionOrderField.CURRENT_PERIOD_END: "When its current period ends.",
    },
    name="BillingSubscriptionOrderField",
)


@node_type
@strawberry.federation.type(keys=["id"], name="Plan", description="A recurring price customers subscribe to.")
class Plan(Entity):
    plan_id: relay.NodeID[str]
    code: str = strawberry.field(description="Short name, unique in the tenant, e.g. pro-monthly.")
    name: str = strawberry.field(description="Display name.")
    price: Money = strawberry.field(description="What each period costs.")
    interval: PlanInterval = strawberry.field(description="How often it bills.")
    active: bool = strawberry.field(description="Inactive plans take no new subscribers.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")

    @classmethod
    def from_model(cls, plan: models.Plan) -> Self:
        return cls(
            plan_id=str(plan.id),
            code=plan.code,
            name=plan.name,
            price=Money.of(plan.amount, plan.currency),
            interval=plan.interval,
            active=plan.active,
            created_at=plan.created_at,
        )

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        return await load_nodes(node_ids, "Plan", info.context.loaders.billing.plan, cls.from_model)


@node_type
@strawberry.federation.type(
    keys=["id"], name="BillingSubscription", description="A customer's recurring plan, billed per period."
)
class BillingSubscription(Entity):
    subscription_id: relay.NodeID[str]
    status: SubscriptionStatus = strawberry.field(description="Where it is in its life cycle.")
    current_period_start: datetime = strawberry.field(description="Start of the period billed now (UTC).")
    current_period_end: datetime = strawberry.field(
        description="End of the period billed now (UTC): the next one begins then."
    )
    cancel_at_period_end: bool = strawberry.field(description="It ends when the current period ends.")
    credit: Money | None = strawberry.field(
        description="Refunded to the plan (`refundTo: PLAN_CREDIT`) and not used yet: taken off the next "
        "periods' invoices; null when none."
    )
    paused_at: datetime | None = strawberry.field(description="When it was paused (UTC), while PAUSED.")
    cancelled_at: datetime | None = strawberry.field(description="When it was cancelled (UTC).")
    created_at: datetime = strawberry.field(description="When it was started (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    plan_uuid: strawberry.Private[uuid.UUID]
    user_uuid: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, subscription: models.BillingSubscription) -> Self:
        return cls(
            subscription_id=str(subscription.id),
            status=subscription.status,
            current_period_start=subscription.current_period_start,
            current_period_end=subscription.current_period_end,
            cancel_at_period_end=subscription.cancel_at_period_end,
            credit=Money.of(subscription.credit_minor, subscription.credit_currency)
            if subscription.credit_minor and subscription.credit_currency
            else None,
            paused_at=subscription.paused_at,
            cancelled_at=subscription.cancelled_at,
            created_at=subscription.created_at,
            updated_at=subscription.updated_at,
            plan_uuid=subscription.plan_id,
            user_uuid=subscription.user_id,
        )

    @strawberry.field(description="The plan subscribed to.")
    async def plan(self, info: Info) -> Plan:
        plan = await info.context.loaders.billing.plan.load(self.plan_uuid)
        if plan is None:
            raise NotFound("Plan")
        return Plan.from_model(plan)

    @strawberry.field(description="The subscriber.")
    async def customer(self, info: Info) -> User:
        return await user_of(info, self.user_uuid)

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        principal = info.context.principal
        return await load_nodes(
            node_ids,
            "BillingSubscription",
            info.context.loaders.billing.subscription,
            cls.from_model,
            lambda subscription: can_see(principal, subscription.user_id),
        )


# ---- inputs -------------------------------------------------------------------------------------


@strawberry.input(description="A new plan.")
class CreatePlanInput:
    code: str = strawberry.field(description="Short name: a-z, 0-9, '.', '_', '-' (stored lowercase).")
    name: str = strawberry.field(description="Display name.")
    price: MoneyInput = strawberry.field(description="What each period costs (more than 0).")
    interval: PlanInterval = strawberry.field(description="How often it bills.")


@strawberry.input(description="Subscribe yourself to a plan; its first period is invoiced at once.")
class SubscribeInput:
    plan_id: relay.GlobalID = strawberry.field(description="The plan's global id (active).")
    promotion_code: str | None = strawberry.field(
        default=None, description="A promotion code for this plan: its first period's invoice is discounted."
    )


@strawberry.input(description="One billing subscription, by id.")
class BillingSubscriptionIdInput:
    id: relay.GlobalID = strawberry.field(description="The billing subscription's global id.")


@strawberry.input(description="A billing subscription to cancel.")
class CancelSubscriptionInput:
    id: relay.GlobalID = strawberry.field(description="The billing subscription's global id.")
    at_period_end: bool = strawberry.field(default=True, description="False ends it now.")


@strawberry.input(description="Move a billing subscription to another plan.")
class ChangePlanInput:
    id: relay.GlobalID = strawberry.field(description="The billing subscription's global id.")
    plan_id: relay.GlobalID = strawberry.field(
        description="The new plan's global id (active, not the current one)."
    )


@strawberry.input(description="Which billing subscriptions to list; the conditions given all apply.")
class BillingSubscriptionFilterInput:
    status: SubscriptionStatus | None = strawberry.field(
        default=None, description="Only those in this status."
    )
    plan_id: relay.GlobalID | None = strawberry.field(default=None, description="Only those on this plan.")
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this subscriber's (staff)."
    )


@strawberry.input(description="How billing subscriptions are sorted (ties in id order).")
class BillingSubscriptionOrderInput:
    field: SubscriptionOrderField = strawberry.field(
        default=SubscriptionOrderField.CREATED_AT, description="Sort key."
    )
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Sort direction.")


# ---- payloads -----------------------------------------------------------------------------------


@strawberry.type(description="The result of a plan change: the plan, or userErrors.")
class PlanPayload:
    plan: Plan | None = strawberry.field(default=None, description="The plan after the change.")
    user_errors: list[UserError] = user_errors_field()
