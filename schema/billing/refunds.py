"""The inputs and payload of refunds (the Refund type is in invoices.py)."""

from __future__ import annotations

import strawberry
from strawberry import relay

from models.billing import RefundStatus
from schema.billing.invoices import Refund
from schema.errors import UserError
from schema.money import BigInt
from schema.pagination import OrderDirection
from services.billing.refunds import RefundOrderField

strawberry.enum(RefundOrderField)


@strawberry.input
class RequestRefundInput:
    payment_id: relay.GlobalID | None = None
    order_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Refunds the order's payment."
    )
    amount: BigInt | None = strawberry.field(
        default=None, description="Minor units; default: everything not refunded yet."
    )
    reason: str | None = None


@strawberry.input
class RefundFilterInput:
    status: RefundStatus | None = None
    payment_id: relay.GlobalID | None = None
    order_id: relay.GlobalID | None = None
    disputed: bool | None = None


@strawberry.input
class RefundOrderInput:
    field: RefundOrderField = RefundOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.ASC


@strawberry.type
class RefundPayload:
    refund: Refund | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
