"""Root fields of refunds."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from resolvers.billing.payments import provider_of
from schema.billing.invoices import Refund
from schema.billing.refunds import RefundFilterInput, RefundOrderInput, RefundPayload, RequestRefundInput
from schema.directives import AUTHENTICATED, access
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
from services.billing import refund_processing, refunds
from services.billing.refunds import RefundFilter


@strawberry.type
class RefundQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED), description="Refunds of your payments; staff see the tenant's."
    )
    async def refunds(
        self,
        info: Info,
        filter: Annotated[RefundFilterInput | None, FILTER] = None,
        order_by: Annotated[RefundOrderInput | None, SORT] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Refund]:
        f = filter or RefundFilterInput()
        order = order_by or RefundOrderInput()
        page = await refunds.list_refunds(
            info.context.services,
            RefundFilter(
                status=f.status,
                payment_id=optional_reference(f.payment_id, "Payment"),
                order_id=optional_reference(f.order_id, "Order"),
                disputed=f.disputed,
            ),
            order.field,
            order.direction == OrderDirection.DESC,
            page_args(first, after, last, before),
        )
        return connection(page, Refund.from_model)

    @strawberry.field(
        extensions=access(AUTHENTICATED), description="A refund of your payment, or any for staff."
    )
    async def refund(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The refund's global id.")],
    ) -> Refund:
        return Refund.from_model(await refunds.get_refund(info.context.services, parse_uuid(id, "Refund")))


@strawberry.type
class RefundMutation:
    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Refund a payment (or an order's payment), all or part of it: its owner or staff.",
    )
    async def request_refund(
        self,
        info: Info,
        input: Annotated[
            RequestRefundInput, strawberry.argument(description="The payment or order, amount and reason.")
        ],
    ) -> RefundPayload:
        call = refund_processing.request_refund(
            info.context.services,
            provider_of(info),
            payment_id=optional_reference(input.payment_id, "Payment"),
            order_id=optional_reference(input.order_id, "Order"),
            amount=input.amount,
            reason=input.reason,
        )
        return await mutation_payload(
            RefundPayload, call, lambda r: RefundPayload(refund=Refund.from_model(r))
        )
