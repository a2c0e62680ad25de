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
from schema.billing.shared import user_of
from schema.errors import UserError
from schema.identity import User
from schema.money import Money, MoneyInput
from schema.nodes import Entity, load_nodes, node_type
from schema.pagination import OrderDirection
from services.billing.access import can_see
from services.billing.plans import SubscriptionOrderField

strawberry.enum(PlanInterval)
strawberry.enum(SubscriptionStatus, name="BillingSubscriptionStatus")
strawberry.enum(SubscriptionOrderField, name="BillingSubscriptionOrderField")


@node_type
@strawberry.federation.type(keys=["id"], name="Plan", description="A recurring price customers subscribe to.")
class Plan(Entity):
    plan_id: relay.NodeID[str]
    code: str
    name: str
    price: Money
    interval: PlanInterval
    active: bool
    created_at: datetime

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
    status: SubscriptionStatus
    current_period_start: datetime
    current_period_end: datetime
    cancel_at_period_end: bool
    paused_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime
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
            paused_at=subscription.paused_at,
            cancelled_at=subscription.cancelled_at,
            created_at=subscription.created_at,
            updated_at=subscription.updated_at,
            plan_uuid=subscription.plan_id,
            user_uuid=subscription.user_id,
        )

    @strawberry.field
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


@strawberry.input
class CreatePlanInput:
    code: str
    name: str
    price: MoneyInput
    interval: PlanInterval


@strawberry.input
class SubscribeInput:
    plan_id: relay.GlobalID


@strawberry.input
class BillingSubscriptionIdInput:
    id: relay.GlobalID


@strawberry.input
class CancelSubscriptionInput:
    id: relay.GlobalID
    at_period_end: bool = strawberry.field(default=True, description="False ends it now.")


@strawberry.input
class ChangePlanInput:
    id: relay.GlobalID
    plan_id: relay.GlobalID


@strawberry.input
class BillingSubscriptionFilterInput:
    status: SubscriptionStatus | None = None
    plan_id: relay.GlobalID | None = None
    customer_id: relay.GlobalID | None = None


@strawberry.input
class BillingSubscriptionOrderInput:
    field: SubscriptionOrderField = SubscriptionOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.ASC


# ---- payloads -----------------------------------------------------------------------------------


@strawberry.type
class PlanPayload:
    plan: Plan | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
