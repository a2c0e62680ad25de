"""Root fields of refunds."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from resolvers.billing.payments import provider_of
from schema.billing.invoices import Refund
from schema.billing.refunds import (
    ProcessRefundInput,
    RefundFilterInput,
    RefundOrderInput,
    RefundPayload,
    RequestRefundInput,
)
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
            details=input.details,
            refund_to=input.refund_to,
            process=input.process,
        )
        return await mutation_payload(RefundPayload, call, _payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Send a REQUESTED refund now (POST /refunds/:id/process): billing staff and "
        "services. One already sent, or being sent, comes back as it is: nothing is sent twice.",
    )
    async def process_refund(
        self,
        info: Info,
        input: Annotated[ProcessRefundInput, strawberry.argument(description="The refund.")],
    ) -> RefundPayload:
        call = refund_processing.process_refund(
            info.context.services, provider_of(info), parse_uuid(input.id, "Refund")
        )
        return await mutation_payload(RefundPayload, call, _payload)


def _payload(refund: Any) -> RefundPayload:
    return RefundPayload(refund=Refund.from_model(refund))
