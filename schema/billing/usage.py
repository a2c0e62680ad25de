"""Usage metering and rating: usage records, pricing rules, ratings and usage summaries; their
inputs and payloads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from models import usage as models
from models.usage import PricingModel
from schema.billing.invoices import Invoice
from schema.catalog.types import Product
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from schema.identity.accounts import User, user_of
from schema.money import BigInt, Money
from schema.nodes import Entity, load_nodes, node_or_none, node_type
from services.billing.pricing_rules import RatedLine, Rating
from services.billing.usage import Bucket, SummaryRow, visible_usage_row

documented_enum(
    PricingModel,
    "How a pricing rule prices a period's quantity of its metric.",
    {
        PricingModel.FLAT: "A fixed amount for a period with any usage of the metric.",
        PricingModel.PER_UNIT: "Quantity x unit price.",
        PricingModel.TIERED: "Graduated: each tier's units at that tier's unit price, summed.",
        PricingModel.VOLUME: "Every unit at the unit price of the tier the total quantity falls in.",
    },
)
documented_enum(
    Bucket,
    "The time buckets of a usage summary (UTC).",
    {Bucket.DAY: "One row per calendar day.", Bucket.MONTH: "One row per calendar month (billing period)."},
    name="UsageBucket",
)


@node_type
@strawberry.federation.type(
    keys=["id"], name="UsageRecord", description="One recorded usage event of a customer."
)
class UsageRecord(Entity):
    record_id: relay.NodeID[str]
    event_id: str = strawberry.field(description="The client's event id (unique in the tenant).")
    metric: str = strawberry.field(description="What was used, e.g. api_calls.")
    quantity: BigInt = strawberry.field(description="How many whole units.")
    occurred_at: datetime = strawberry.field(description="When it happened (UTC).")
    period: str = strawberry.field(description="Its billing period (calendar month, UTC): YYYY-MM.")
    dimensions: JSON = strawberry.field(description="The event's dimensions (a small flat JSON object).")
    created_at: datetime = strawberry.field(description="When it was recorded (UTC).")
    billed_at: datetime | None = strawberry.field(
        description="When it was billed (UTC); null while unbilled."
    )
    billed: bool = strawberry.field(description="It is on an invoice.")
    customer_uuid: strawberry.Private[uuid.UUID]
    invoice_uuid: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, record: models.UsageRecord) -> Self:
        return cls(
            record_id=str(record.id),
            event_id=record.event_id,
            metric=record.metric,
            quantity=BigInt(record.quantity),
            occurred_at=record.occurred_at,
            period=record.period,
            dimensions=JSON(record.dimensions),
            created_at=record.created_at,
            billed_at=record.billed_at,
            billed=record.invoice_id is not None,
            customer_uuid=record.customer_id,
            invoice_uuid=record.invoice_id,
        )

    @strawberry.field(description="Whose usage it is.")
    async def customer(self, info: Info) -> User:
        return await user_of(info, self.customer_uuid)

    @strawberry.field(description="The invoice that bills it; null while unbilled.")
    async def invoice(self, info: Info) -> Invoice | None:
        return await node_or_none(Invoice, info, self.invoice_uuid)

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        principal = info.context.principal
        return await load_nodes(
            node_ids,
            "UsageRecord",
            info.context.loaders.usage.usage_record,
            cls.from_model,
            lambda record: visible_usage_row(principal, record.customer_id),
        )


@strawberry.type(description="One tier of a TIERED or VOLUME rule.")
class PricingTier:
    up_to: BigInt | None = strawberry.field(description="Its last unit (inclusive); null for the last tier.")
    unit_price_micros: BigInt = strawberry.field(
        description="Price of a unit in millionths of the minor unit (1000000 = 1 cent)."
    )


@node_type
@strawberry.federation.type(
    keys=["id"], name="PricingRule", description="How one metric of a product is priced."
)
class PricingRule(Entity):
    rule_id: relay.NodeID[str]
    metric: str = strawberry.field(description="The metric it prices (one rule per metric in a tenant).")
    model: PricingModel = strawberry.field(description="How it prices.")
    currency: str = strawberry.field(description="ISO 4217 code of its prices.")
    flat_amount: Money = strawberry.field(description="FLAT: the amount per period (minor units).")
    unit_price_micros: BigInt = strawberry.field(
        description="PER_UNIT: the price of a unit in millionths of the minor unit (1000000 = 1 cent)."
    )
    tiers: list[PricingTier] = strawberry.field(description="TIERED and VOLUME: the tiers, in order.")
    active: bool = strawberry.field(description="Inactive rules take no new usage.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    product_uuid: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, rule: models.PricingRule) -> Self:
        return cls(
            rule_id=str(rule.id),
            metric=rule.metric,
            model=rule.model,
            currency=rule.currency,
            flat_amount=Money.of(rule.flat_amount, rule.currency),
            unit_price_micros=BigInt(rule.unit_price_micros),
            tiers=[
                PricingTier(
                    up_to=None if t.get("upTo") is None else BigInt(int(t["upTo"])),
                    unit_price_micros=BigInt(int(t["unitPriceMicros"])),
                )
                for t in rule.tiers
            ],
            active=rule.active,
            created_at=rule.created_at,
            updated_at=rule.updated_at,
            product_uuid=rule.product_id,
        )

    @strawberry.field(description="The product whose metric it prices.")
    async def product(self, info: Info) -> Product | None:
        return await node_or_none(Product, info, self.product_uuid)

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        return await load_nodes(
            node_ids, "PricingRule", info.context.loaders.usage.pricing_rule, cls.from_model
        )


@strawberry.type(description="The priced usage of one metric in a period.")
class RatedMetric:
    metric: str = strawberry.field(description="What was used, e.g. api_calls.")
    quantity: BigInt = strawberry.field(description="Its total quantity in the period.")
    amount: Money = strawberry.field(description="What it costs under its rule (rounded once, half to even).")
    rule: PricingRule = strawberry.field(description="The rule that priced it.")

    @classmethod
    def of(cls, line: RatedLine) -> Self:
        return cls(
            metric=line.metric,
            quantity=BigInt(line.quantity),
            amount=Money.of(line.amount, line.currency),
            rule=PricingRule.from_model(line.rule),
        )


@strawberry.type(description="What a customer's usage of a period costs (a preview: nothing is billed).")
class UsageRating:
    period: str = strawberry.field(description="The period (YYYY-MM, UTC).")
    metrics: list[RatedMetric] = strawberry.field(description="Each priced metric, by name.")
    totals: list[Money] = strawberry.field(description="The total per currency (usually one).")
    customer_uuid: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, rating: Rating) -> Self:
        return cls(
            period=rating.period,
            metrics=[RatedMetric.of(line) for line in rating.lines],
            totals=[Money.of(amount, currency) for currency, amount in sorted(rating.totals.items())],
            customer_uuid=rating.customer_id,
        )

    @strawberry.field(description="Whose usage it is.")
    async def customer(self, info: Info) -> User:
        return await user_of(info, self.customer_uuid)


@strawberry.type(description="The usage of one metric by one customer in one time bucket.")
class UsageSummaryRow:
    metric: str = strawberry.field(description="What was used, e.g. api_calls.")
    bucket: str = strawberry.field(description="The day (YYYY-MM-DD) or month (YYYY-MM), UTC.")
    quantity: BigInt = strawberry.field(description="The total quantity.")
    records: int = strawberry.field(description="How many usage records it sums.")
    customer_uuid: strawberry.Private[uuid.UUID]

    @classmethod
    def of(cls, row: SummaryRow) -> Self:
        return cls(
            metric=row.metric,
            bucket=row.bucket,
            quantity=BigInt(row.quantity),
            records=row.records,
            customer_uuid=row.customer_id,
        )

    @strawberry.field(description="Whose usage it is.")
    async def customer(self, info: Info) -> User:
        return await user_of(info, self.customer_uuid)


# ---- inputs and payloads -------------------------------------------------------------------------


@strawberry.input(description="One usage event.")
class RecordUsageInput:
    event_id: str = strawberry.field(
        description="Your id of the event (1-128 of A-Z a-z 0-9 _ . : -), unique in the tenant: a repeat "
        "returns the first record; the same id with other usage is USAGE_EVENT_CONFLICT."
    )
    customer_id: relay.GlobalID = strawberry.field(description="The user whose usage it is.")
    metric: str = strawberry.field(description="A metric one of the tenant's pricing rules prices.")
    quantity: BigInt = strawberry.field(description="Whole units, 0 or more.")
    occurred_at: datetime | None = strawberry.field(
        default=None, description="When it happened (UTC; default now; at most 5 minutes ahead)."
    )
    dimensions: JSON | None = strawberry.field(
        default=None, description="At most 16 flat keys (strings, numbers, booleans), 1000 characters."
    )


@strawberry.input(description="Up to 100 usage events, recorded all or none.")
class RecordUsageBatchInput:
    records: list[RecordUsageInput] = strawberry.field(description="The events (1 to 100).")


@strawberry.type(description="The result of recording usage: the record, or userErrors.")
class RecordUsagePayload:
    usage_record: UsageRecord | None = strawberry.field(default=None, description="The record.")
    replayed: bool = strawberry.field(default=False, description="The event id was recorded before.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of a batch: the records in input order, or userErrors.")
class RecordUsageBatchPayload:
    usage_records: list[UsageRecord] = strawberry.field(default_factory=list, description="The records.")
    replayed: int = strawberry.field(default=0, description="How many were recorded before.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="Which usage records to list; the conditions given all apply.")
class UsageFilterInput:
    customer_id: relay.GlobalID | None = strawberry.field(default=None, description="Only this customer's.")
    metric: str | None = strawberry.field(default=None, description="Only this metric's.")
    occurred_from: datetime | None = strawberry.field(default=None, description="Happened at or after (UTC).")
    occurred_to: datetime | None = strawberry.field(default=None, description="Happened before (UTC).")
    billed: bool | None = strawberry.field(
        default=None, description="Only billed (true) or unbilled (false)."
    )


@strawberry.input(description="One tier of a TIERED or VOLUME rule.")
class PricingTierInput:
    up_to: BigInt | None = strawberry.field(
        default=None, description="Its last unit; null for the last tier."
    )
    unit_price_micros: BigInt = strawberry.field(description="Unit price in millionths of the minor unit.")


@strawberry.input(description="The prices of a pricing rule (those its model uses).")
class PricingInput:
    model: PricingModel = strawberry.field(description="How it prices.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. EUR.")
    flat_amount: BigInt = strawberry.field(default=BigInt(0), description="FLAT: minor units per period.")
    unit_price_micros: BigInt = strawberry.field(
        default=BigInt(0), description="PER_UNIT: unit price in millionths of the minor unit."
    )
    tiers: list[PricingTierInput] = strawberry.field(
        default_factory=list, description="TIERED and VOLUME: 1-20 tiers, upTo increasing, the last null."
    )


@strawberry.input(description="A new pricing rule for a product's metric.")
class CreatePricingRuleInput:
    product_id: relay.GlobalID = strawberry.field(description="The product.")
    metric: str = strawberry.field(description="The metric (1-64 of a-z 0-9 _ . : -), unique in the tenant.")
    pricing: PricingInput = strawberry.field(description="Its model and prices.")


@strawberry.input(description="A change of a pricing rule: new prices, or (in)activation.")
class UpdatePricingRuleInput:
    id: relay.GlobalID = strawberry.field(description="The rule.")
    pricing: PricingInput | None = strawberry.field(default=None, description="New model and prices.")
    active: bool | None = strawberry.field(default=None, description="False: no new usage of the metric.")


@strawberry.type(description="The result of a pricing rule change: the rule, or userErrors.")
class PricingRulePayload:
    pricing_rule: PricingRule | None = strawberry.field(default=None, description="The rule.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="Which period to bill now.")
class BillUsageInput:
    period: str = strawberry.field(description="The month, YYYY-MM (UTC); the current one closes it.")


@strawberry.type(description="The result of billing usage: the invoices made, or userErrors.")
class BillUsagePayload:
    invoices: list[Invoice] = strawberry.field(
        default_factory=list, description="One per customer and currency."
    )
    billed_records: int = strawberry.field(default=0, description="How many usage records they bill.")
    user_errors: list[UserError] = user_errors_field()
