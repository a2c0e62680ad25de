"""Root fields of disputes (chargebacks)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.scopes import ApiScope
from models import disputes as models
from resolvers.billing.payments import provider_of
from schema.billing.disputes import (
    CloseDisputeInput,
    Dispute,
    DisputeFilterInput,
    DisputePayload,
    OpenDisputeInput,
    SubmitDisputeEvidenceInput,
)
from schema.directives import AUTHENTICATED, HasScope, access
from schema.errors import mutation_payload
from schema.nodes import node_or_not_found, optional_reference, parse_uuid
from schema.pagination import FILTER, After, Before, Connection, First, Last, connection, page_args
from services.billing import disputes
from services.billing.disputes import EVIDENCE_FIELDS, DisputeFilter

READ = HasScope(ApiScope.PAYMENTS_READ)
# Services handle disputes with the scope that processes payments; staff with their session.
HANDLE = HasScope(ApiScope.PAYMENTS_PROCESS)


def _payload(dispute: models.Dispute) -> DisputePayload:
    return DisputePayload(dispute=Dispute.from_model(dispute))


@strawberry.type
class DisputeQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED, READ),
        description="Disputes of your payments, newest first; staff see the tenant's.",
    )
    async def disputes(
        self,
        info: Info,
        filter: Annotated[DisputeFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Dispute]:
        f = filter or DisputeFilterInput()
        page = await disputes.list_disputes(
            info.context.services,
            DisputeFilter(
                status=f.status,
                payment_id=optional_reference(f.payment_id, "Payment"),
                order_id=optional_reference(f.order_id, "Order"),
            ),
            page_args(first, after, last, before),
        )
        return connection(page, Dispute.from_model)

    @strawberry.field(
        extensions=access(AUTHENTICATED, READ), description="A dispute of your payment, or any for staff."
    )
    async def dispute(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The dispute's global id.")],
    ) -> Dispute:
        return await node_or_not_found(Dispute, info, id)


@strawberry.type
class DisputeMutation:
    @strawberry.mutation(
        extensions=access(AUTHENTICATED, HANDLE),
        description="Record a chargeback the bank notified for a payment (billing staff and services); "
        "its amount is held by a disputed refund until the dispute closes.",
    )
    async def open_dispute(
        self,
        info: Info,
        input: Annotated[
            OpenDisputeInput, strawberry.argument(description="The payment, amount, reason and due date.")
        ],
    ) -> DisputePayload:
        call = disputes.open_dispute(
            info.context.services,
            parse_uuid(input.payment_id, "Payment"),
            amount=input.amount,
            reason=input.reason,
            provider_dispute_id=input.provider_dispute_id,
            due_by=input.due_by,
        )
        return await mutation_payload(DisputePayload, call, _payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, HANDLE),
        description="Send evidence for an OPEN dispute to the provider and submit it: UNDER_REVIEW "
        "(billing staff and services).",
    )
    async def submit_dispute_evidence(
        self,
        info: Info,
        input: Annotated[
            SubmitDisputeEvidenceInput, strawberry.argument(description="The dispute and its evidence.")
        ],
    ) -> DisputePayload:
        call = disputes.submit_dispute_evidence(
            info.context.services,
            provider_of(info),
            parse_uuid(input.dispute_id, "Dispute"),
            {name: getattr(input.evidence, name) for name in EVIDENCE_FIELDS},
        )
        return await mutation_payload(DisputePayload, call, _payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, HANDLE),
        description="Close an open dispute WON (its refund FAILED) or LOST (its refund SUCCEEDED, the "
        "order refunded), for providers that send no webhook of it (billing staff and services).",
    )
    async def close_dispute(
        self,
        info: Info,
        input: Annotated[CloseDisputeInput, strawberry.argument(description="The dispute and the outcome.")],
    ) -> DisputePayload:
        call = disputes.close_dispute(
            info.context.services, parse_uuid(input.dispute_id, "Dispute"), input.outcome
        )
        return await mutation_payload(DisputePayload, call, _payload)
