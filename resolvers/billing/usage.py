"""Root fields of usage metering and rating (seed 000 /usage and /rating)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.errors import BadUserInput
from core.permissions import BILLING_STAFF
from core.scopes import ApiScope
from schema.billing.invoices import Invoice
from schema.billing.usage import (
    BillUsageInput,
    BillUsagePayload,
    CreatePricingRuleInput,
    PricingInput,
    PricingRule,
    PricingRulePayload,
    RecordUsageBatchInput,
    RecordUsageBatchPayload,
    RecordUsageInput,
    RecordUsagePayload,
    UpdatePricingRuleInput,
    UsageFilterInput,
    UsageRating,
    UsageRecord,
    UsageSummaryRow,
)
from schema.directives import AUTHENTICATED, HasRole, HasScope, access
from schema.errors import mutation_payload
from schema.nodes import optional_reference, parse_uuid, reference_uuid
from schema.pagination import FILTER, After, Before, Connection, First, Last, connection, page_args
from services.billing import pricing_rules, usage, usage_billing
from services.billing.pricing_rules import RuleSpec
from services.billing.rating import Tier
from services.billing.usage import Bucket, NewUsage, UsageFilter

READ = access(AUTHENTICATED, HasScope(ApiScope.USAGE_READ, ApiScope.USAGE_WRITE))
WRITE = access(AUTHENTICATED, HasScope(ApiScope.USAGE_WRITE))
STAFF = access(HasRole(*BILLING_STAFF))


def _new_usage(item: RecordUsageInput) -> NewUsage:
    dimensions: Any = item.dimensions
    if dimensions is not None and not isinstance(dimensions, dict):
        raise BadUserInput("dimensions must be a JSON object.")
    return NewUsage(
        event_id=item.event_id,
        customer_id=reference_uuid(item.customer_id, "User"),
        metric=item.metric,
        quantity=item.quantity,
        occurred_at=item.occurred_at,
        dimensions=dimensions,
    )


def _spec(pricing: PricingInput) -> RuleSpec:
    return RuleSpec(
        model=pricing.model,
        currency=pricing.currency.strip().upper(),
        flat_amount=pricing.flat_amount,
        unit_price_micros=pricing.unit_price_micros,
        tiers=tuple(Tier(t.up_to, t.unit_price_micros) for t in pricing.tiers),
    )


def _filter(f: UsageFilterInput | None) -> UsageFilter:
    f = f or UsageFilterInput()
    return UsageFilter(
        customer_id=optional_reference(f.customer_id, "User"),
        metric=f.metric,
        occurred_from=f.occurred_from,
        occurred_to=f.occurred_to,
        billed=f.billed,
    )


@strawberry.type
class UsageQuery:
    @strawberry.field(
        extensions=READ,
        description="Usage records, newest first (GET /usage, /usage/customer/:id, /usage/unbilled with "
        "`billed: false`): your own; staff and services see the tenant's.",
    )
    async def usage_records(
        self,
        info: Info,
        filter: Annotated[UsageFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[UsageRecord]:
        page = await usage.list_usage(
            info.context.services, _filter(filter), True, page_args(first, after, last, before)
        )
        return connection(page, UsageRecord.from_model)

    @strawberry.field(
        extensions=READ,
        description="Usage summed per metric, customer and day or month in [occurredFrom, occurredTo) "
        "(GET /usage/summary; at most 400 days, 1000 rows): your own; staff and services the tenant's.",
    )
    async def usage_summary(
        self,
        info: Info,
        filter: Annotated[
            UsageFilterInput, strawberry.argument(description="The range (required) and filters.")
        ],
        bucket: Annotated[Bucket, strawberry.argument(description="Day or month buckets.")] = Bucket.MONTH,
    ) -> list[UsageSummaryRow]:
        rows = await usage.usage_summary(info.context.services, _filter(filter), bucket)
        return [UsageSummaryRow.of(row) for row in rows]

    @strawberry.field(
        extensions=READ,
        description="What a customer's usage of a period costs under the pricing rules (POST "
        "/rating/calculate; nothing is billed): yourself, or anyone for staff and services.",
    )
    async def calculate_rating(
        self,
        info: Info,
        customer_id: Annotated[relay.GlobalID, strawberry.argument(description="The customer.")],
        period: Annotated[str, strawberry.argument(description="The month, YYYY-MM (UTC).")],
    ) -> UsageRating:
        rating = await pricing_rules.calculate_rating(
            info.context.services, reference_uuid(customer_id, "User"), period
        )
        return UsageRating.of(rating)

    @strawberry.field(
        extensions=READ, description="The pricing rules of a product (GET /rating/pricing-rules/product/:id)."
    )
    async def pricing_rules(
        self,
        info: Info,
        product_id: Annotated[relay.GlobalID, strawberry.argument(description="The product.")],
    ) -> list[PricingRule]:
        rows = await pricing_rules.rules_of_product(
            info.context.services, reference_uuid(product_id, "Product")
        )
        return [PricingRule.from_model(row) for row in rows]


@strawberry.type
class UsageMutation:
    @strawberry.mutation(
        extensions=WRITE,
        description="Record one usage event (POST /usage/record): services (usage:write) and billing staff.",
    )
    async def record_usage(
        self, info: Info, input: Annotated[RecordUsageInput, strawberry.argument(description="The event.")]
    ) -> RecordUsagePayload:
        call = usage.record_usage(info.context.services, [_new_usage(input)])
        return await mutation_payload(
            RecordUsagePayload,
            call,
            lambda done: RecordUsagePayload(
                usage_record=UsageRecord.from_model(done[0].record), replayed=done[0].replayed
            ),
        )

    @strawberry.mutation(
        extensions=WRITE,
        description="Record up to 100 usage events at once, all or none (POST /usage/record-batch).",
    )
    async def record_usage_batch(
        self,
        info: Info,
        input: Annotated[RecordUsageBatchInput, strawberry.argument(description="The events.")],
    ) -> RecordUsageBatchPayload:
        call = usage.record_usage(info.context.services, [_new_usage(i) for i in input.records], batch=True)
        return await mutation_payload(
            RecordUsageBatchPayload,
            call,
            lambda done: RecordUsageBatchPayload(
                usage_records=[UsageRecord.from_model(d.record) for d in done],
                replayed=sum(d.replayed for d in done),
            ),
        )

    @strawberry.mutation(
        extensions=STAFF, description="Price a product's metric (POST /rating/pricing-rules): billing staff."
    )
    async def create_pricing_rule(
        self,
        info: Info,
        input: Annotated[CreatePricingRuleInput, strawberry.argument(description="The rule.")],
    ) -> PricingRulePayload:
        call = pricing_rules.create_pricing_rule(
            info.context.services,
            reference_uuid(input.product_id, "Product"),
            input.metric,
            _spec(input.pricing),
        )
        return await mutation_payload(
            PricingRulePayload,
            call,
            lambda rule: PricingRulePayload(pricing_rule=PricingRule.from_model(rule)),
        )

    @strawberry.mutation(
        extensions=STAFF, description="Change a pricing rule (PUT /rating/pricing-rules/:id): billing staff."
    )
    async def update_pricing_rule(
        self,
        info: Info,
        input: Annotated[UpdatePricingRuleInput, strawberry.argument(description="The change.")],
    ) -> PricingRulePayload:
        call = pricing_rules.update_pricing_rule(
            info.context.services,
            parse_uuid(input.id, "PricingRule"),
            None if input.pricing is None else _spec(input.pricing),
            input.active,
        )
        return await mutation_payload(
            PricingRulePayload,
            call,
            lambda rule: PricingRulePayload(pricing_rule=PricingRule.from_model(rule)),
        )

    @strawberry.mutation(
        extensions=WRITE,
        description="Bill the tenant's unbilled usage of a period now: one invoice per customer and "
        "currency, exactly once (billing admins and services; the billing job does ended periods).",
    )
    async def bill_usage(
        self, info: Info, input: Annotated[BillUsageInput, strawberry.argument(description="The period.")]
    ) -> BillUsagePayload:
        call = usage_billing.bill_usage_now(info.context.services, input.period)
        return await mutation_payload(
            BillUsagePayload,
            call,
            lambda result: BillUsagePayload(
                invoices=[Invoice.from_model(i) for i in result.invoices], billed_records=result.records
            ),
        )
