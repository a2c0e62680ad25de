"""Root fields of plans and billing subscriptions."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core.permissions import BILLING_ADMINS
from models import billing as models
from schema.billing.invoice_inputs import BillingSubscriptionPayload
from schema.billing.invoices import Invoice
from schema.billing.plans import (
    BillingSubscription,
    BillingSubscriptionFilterInput,
    BillingSubscriptionIdInput,
    BillingSubscriptionOrderInput,
    CancelSubscriptionInput,
    ChangePlanInput,
    CreatePlanInput,
    Plan,
    PlanPayload,
    SubscribeInput,
)
from schema.directives import AUTHENTICATED, HasRole, access
from schema.errors import mutation_payload
from schema.nodes import optional_reference, parse_uuid
from schema.pagination import (
    FILTER,
    SORT,
    After,
    Before,
    Connection,
    First,
    Last,
    OrderDirection,
    connection,
    page_args,
)
from services.billing import plans
from services.billing.plans import BillingSubscriptionFilter

ADMINS = HasRole(*BILLING_ADMINS)


def _subscription_payload(subscription: models.BillingSubscription) -> BillingSubscriptionPayload:
    return BillingSubscriptionPayload(subscription=BillingSubscription.from_model(subscription))


def _new_period_payload(
    result: tuple[models.BillingSubscription, models.Invoice],
) -> BillingSubscriptionPayload:
    subscription, invoice = result
    return BillingSubscriptionPayload(
        subscription=BillingSubscription.from_model(subscription), invoice=Invoice.from_model(invoice)
    )


@strawberry.type
class PlanQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED), description="Plans on offer (admins may list inactive ones too)."
    )
    async def plans(
        self,
        info: Info,
        active: Annotated[
            bool | None,
            strawberry.argument(
                description="Only active (true) or inactive (false) plans; admins only for false."
            ),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Plan]:
        page = await plans.list_plans(info.context.services, active, page_args(first, after, last, before))
        return connection(page, Plan.from_model)

    @strawberry.field(
        extensions=access(AUTHENTICATED), description="Your billing subscriptions; staff see the tenant's."
    )
    async def billing_subscriptions(
        self,
        info: Info,
        filter: Annotated[BillingSubscriptionFilterInput | None, FILTER] = None,
        order_by: Annotated[BillingSubscriptionOrderInput | None, SORT] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[BillingSubscription]:
        f = filter or BillingSubscriptionFilterInput()
        order = order_by or BillingSubscriptionOrderInput()
        page = await plans.list_billing_subscriptions(
            info.context.services,
            BillingSubscriptionFilter(
                status=f.status,
                plan_id=optional_reference(f.plan_id, "Plan"),
                user_id=optional_reference(f.customer_id, "User"),
            ),
            order.field,
            order.direction == OrderDirection.DESC,
            page_args(first, after, last, before),
        )
        return connection(page, BillingSubscription.from_model)


@strawberry.type
class PlanMutation:
    @strawberry.mutation(extensions=access(ADMINS), description="Offer a new recurring plan.")
    async def create_plan(
        self, info: Info, input: Annotated[CreatePlanInput, strawberry.argument(description="The new plan.")]
    ) -> PlanPayload:
        call = plans.create_plan(
            info.context.services,
            code=input.code,
            name=input.name,
            amount=input.price.amount,
            currency=input.price.currency,
            interval=input.interval,
        )
        return await mutation_payload(PlanPayload, call, lambda p: PlanPayload(plan=Plan.from_model(p)))

    @strawberry.mutation(
        extensions=access(AUTHENTICATED), description="Subscribe to a plan; the first period is invoiced."
    )
    async def subscribe(
        self,
        info: Info,
        input: Annotated[SubscribeInput, strawberry.argument(description="The plan to subscribe to.")],
    ) -> BillingSubscriptionPayload:
        call = plans.subscribe(info.context.services, parse_uuid(input.plan_id, "Plan"), input.promotion_code)
        return await mutation_payload(BillingSubscriptionPayload, call, _new_period_payload)

    @strawberry.mutation(extensions=access(AUTHENTICATED), description="Cancel at the period's end, or now.")
    async def cancel_subscription(
        self,
        info: Info,
        input: Annotated[
            CancelSubscriptionInput,
            strawberry.argument(
                description="The billing subscription, and whether to wait for the period's end."
            ),
        ],
    ) -> BillingSubscriptionPayload:
        call = plans.cancel_billing_subscription(
            info.context.services,
            parse_uuid(input.id, "BillingSubscription"),
            at_period_end=input.at_period_end,
        )
        return await mutation_payload(BillingSubscriptionPayload, call, _subscription_payload)

    @strawberry.mutation(extensions=access(AUTHENTICATED), description="Pause: no renewals until resumed.")
    async def pause_subscription(
        self,
        info: Info,
        input: Annotated[
            BillingSubscriptionIdInput,
            strawberry.argument(description="The ACTIVE billing subscription to pause."),
        ],
    ) -> BillingSubscriptionPayload:
        call = plans.pause_subscription(info.context.services, parse_uuid(input.id, "BillingSubscription"))
        return await mutation_payload(BillingSubscriptionPayload, call, _subscription_payload)

    @strawberry.mutation(extensions=access(AUTHENTICATED), description="Resume a paused subscription.")
    async def resume_subscription(
        self,
        info: Info,
        input: Annotated[
            BillingSubscriptionIdInput,
            strawberry.argument(description="The PAUSED billing subscription to resume."),
        ],
    ) -> BillingSubscriptionPayload:
        call = plans.resume_subscription(info.context.services, parse_uuid(input.id, "BillingSubscription"))
        return await mutation_payload(BillingSubscriptionPayload, call, _subscription_payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Move to another plan; a new period starts now, invoiced.",
    )
    async def change_plan(
        self,
        info: Info,
        input: Annotated[
            ChangePlanInput, strawberry.argument(description="The billing subscription and its new plan.")
        ],
    ) -> BillingSubscriptionPayload:
        call = plans.change_plan(
            info.context.services,
            parse_uuid(input.id, "BillingSubscription"),
            parse_uuid(input.plan_id, "Plan"),
        )
        return await mutation_payload(BillingSubscriptionPayload, call, _new_period_payload)
