"""The inputs and payload of refunds (the Refund type is in invoices.py)."""

from __future__ import annotations

import strawberry
from strawberry import relay

from models.billing import RefundDestination, RefundStatus
from schema.billing.invoices import Refund
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from schema.money import BigInt
from schema.pagination import OrderDirection
from services.billing.refunds import RefundOrderField

documented_enum(
    RefundOrderField,
    "What a list of refunds is sorted by.",
    {RefundOrderField.CREATED_AT: "When the refund was asked for.", RefundOrderField.AMOUNT: "Its amount."},
)


@strawberry.input(description="A refund of a payment (name the payment or its order).")
class RequestRefundInput:
    payment_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The payment's global id (SUCCEEDED)."
    )
    order_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Refunds the order's payment."
    )
    amount: BigInt | None = strawberry.field(
        default=None, description="Minor units; default: everything not refunded yet."
    )
    reason: str | None = strawberry.field(default=None, description="Why; kept with the refund.")
    details: str | None = strawberry.field(
        default=None, description="Notes for staff and the buyer (seed 001 refund details), at most 2000."
    )
    refund_to: RefundDestination = strawberry.field(
        default=RefundDestination.ORIGINAL_METHOD, description="Where the money goes."
    )
    process: bool = strawberry.field(
        default=True,
        description="Send it at once (the default); false: it stays REQUESTED, its amount reserved, "
        "until `processRefund`.",
    )


@strawberry.input(description="The refund to process.")
class ProcessRefundInput:
    id: relay.GlobalID = strawberry.field(description="The refund (REQUESTED).")


@strawberry.input(description="Which refunds to list; the conditions given all apply.")
class RefundFilterInput:
    status: RefundStatus | None = strawberry.field(default=None, description="Only refunds in this status.")
    payment_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only refunds of this payment."
    )
    order_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only refunds of this order."
    )
    disputed: bool | None = strawberry.field(
        default=None, description="Only disputes (true) or only refunds (false)."
    )


@strawberry.input(description="How refunds are sorted (ties in id order).")
class RefundOrderInput:
    field: RefundOrderField = strawberry.field(default=RefundOrderField.CREATED_AT, description="Sort key.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Sort direction.")


@strawberry.type(description="The result of a refund request: the refund, or userErrors.")
class RefundPayload:
    refund: Refund | None = strawberry.field(default=None, description="The refund after the step.")
    user_errors: list[UserError] = user_errors_field()
