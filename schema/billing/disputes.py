"""Disputes (chargebacks): the Dispute type, its inputs and payload."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from core.errors import NotFound
from models import disputes as models
from models.disputes import DisputeStatus
from schema.billing.invoices import Payment, Refund
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from schema.money import BigInt, Money
from schema.nodes import Entity, load_nodes, node_or_none, node_type
from schema.orders.types import Order
from services.billing.disputes import DisputeOutcome, is_local

documented_enum(
    DisputeStatus,
    "OPEN -> UNDER_REVIEW -> WON or LOST; an OPEN dispute may close without evidence.",
    {
        DisputeStatus.OPEN: "The bank took the money back for now: evidence is due (dueBy).",
        DisputeStatus.UNDER_REVIEW: "Evidence submitted: the bank decides.",
        DisputeStatus.WON: "The money stays with the merchant; the holding refund FAILED (final).",
        DisputeStatus.LOST: "The money went back to the card holder; the holding refund SUCCEEDED (final).",
    },
)
documented_enum(
    DisputeOutcome,
    "How the bank decided a dispute.",
    {DisputeOutcome.WON: "For the merchant.", DisputeOutcome.LOST: "For the card holder."},
)


@node_type
@strawberry.federation.type(
    keys=["id"], name="Dispute", description="A chargeback of a payment, held by a disputed refund."
)
class Dispute(Entity):
    dispute_id: relay.NodeID[str]
    status: DisputeStatus = strawberry.field(description="Where the dispute is in its life cycle.")
    amount: Money = strawberry.field(description="What the bank took back.")
    reason: str | None = strawberry.field(description="The bank's or the provider's reason.")
    provider: str = strawberry.field(description='The payment provider of the payment, e.g. "stripe".')
    provider_dispute_id: str | None = strawberry.field(
        description="The provider's id of the dispute; null for one recorded here only."
    )
    evidence: JSON = strawberry.field(description="The evidence submitted, by Stripe's evidence names.")
    evidence_submitted_at: datetime | None = strawberry.field(description="When evidence went in (UTC).")
    due_by: datetime | None = strawberry.field(description="When evidence is due (UTC).")
    closed_at: datetime | None = strawberry.field(description="When it was WON or LOST (UTC).")
    created_at: datetime = strawberry.field(description="When it was recorded (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    payment_uuid: strawberry.Private[uuid.UUID]
    order_uuid: strawberry.Private[uuid.UUID | None]
    refund_uuid: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, dispute: models.Dispute) -> Self:
        return cls(
            dispute_id=str(dispute.id),
            status=dispute.status,
            amount=Money.of(dispute.amount, dispute.currency),
            reason=dispute.reason,
            provider=dispute.provider,
            provider_dispute_id=None if is_local(dispute) else dispute.provider_dispute_id,
            evidence=JSON(dispute.evidence),
            evidence_submitted_at=dispute.evidence_submitted_at,
            due_by=dispute.due_by,
            closed_at=dispute.closed_at,
            created_at=dispute.created_at,
            updated_at=dispute.updated_at,
            payment_uuid=dispute.payment_id,
            order_uuid=dispute.order_id,
            refund_uuid=dispute.refund_id,
        )

    @strawberry.field(description="The payment disputed.")
    async def payment(self, info: Info) -> Payment:
        found = await info.context.loaders.billing.payment.load(self.payment_uuid)
        if found is None:
            raise NotFound("Payment")
        return Payment.from_model(found, info)

    @strawberry.field(description="The order paid, if any.")
    async def order(self, info: Info) -> Order | None:
        return await node_or_none(Order, info, self.order_uuid)

    @strawberry.field(description="The disputed refund holding the amount.")
    async def refund(self, info: Info) -> Refund:
        found = await info.context.loaders.billing.refund.load(self.refund_uuid)
        if found is None:
            raise NotFound("Refund")
        return Refund.from_model(found)

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        """A dispute is visible to whoever may see its payment (Payment's own rule decides)."""
        disputes = await load_nodes(node_ids, "Dispute", info.context.loaders.billing.dispute, cls.from_model)
        payments = await Payment.load(info, [str(d.payment_uuid) for d in disputes if d])
        visible = {p.payment_id for p in payments if p}
        return [d if d and str(d.payment_uuid) in visible else None for d in disputes]


# ---- inputs -------------------------------------------------------------------------------------


@strawberry.input(description="Which disputes to list; the conditions given all apply.")
class DisputeFilterInput:
    status: DisputeStatus | None = strawberry.field(default=None, description="Only disputes in this status.")
    payment_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only disputes of this payment."
    )
    order_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only disputes of this order."
    )


@strawberry.input(description="A chargeback the bank notified for a payment.")
class OpenDisputeInput:
    payment_id: relay.GlobalID = strawberry.field(description="The payment's global id (SUCCEEDED).")
    amount: BigInt | None = strawberry.field(
        default=None, description="Minor units taken back; default: everything not refunded yet."
    )
    reason: str | None = strawberry.field(default=None, description="The bank's reason, e.g. fraudulent.")
    provider_dispute_id: str | None = strawberry.field(
        default=None, description="The provider's id of the dispute, if it has one (evidence goes there)."
    )
    due_by: datetime | None = strawberry.field(default=None, description="When evidence is due (UTC).")


@strawberry.input(description="Evidence against a dispute, in Stripe's evidence fields; give at least one.")
class DisputeEvidenceInput:
    product_description: str | None = strawberry.field(default=None, description="What was sold.")
    customer_name: str | None = strawberry.field(default=None, description="The customer's name.")
    customer_email_address: str | None = strawberry.field(default=None, description="The customer's e-mail.")
    billing_address: str | None = strawberry.field(
        default=None, description="Where the card holder is billed, as one text."
    )
    shipping_carrier: str | None = strawberry.field(default=None, description="Who delivered it.")
    shipping_tracking_number: str | None = strawberry.field(default=None, description="The tracking number.")
    shipping_date: str | None = strawberry.field(default=None, description="When it was shipped.")
    service_date: str | None = strawberry.field(default=None, description="When the service was given.")
    access_activity_log: str | None = strawberry.field(
        default=None, description="The customer's use of the product or service."
    )
    refund_policy_disclosure: str | None = strawberry.field(
        default=None, description="How the refund policy was shown to the customer."
    )
    refund_refusal_explanation: str | None = strawberry.field(
        default=None, description="Why the customer was not refunded."
    )
    uncategorized_text: str | None = strawberry.field(default=None, description="Anything else.")


@strawberry.input(description="Evidence for an OPEN dispute, sent to the provider and submitted.")
class SubmitDisputeEvidenceInput:
    dispute_id: relay.GlobalID = strawberry.field(description="The dispute's global id (OPEN).")
    evidence: DisputeEvidenceInput = strawberry.field(description="What shows the charge was right.")


@strawberry.input(description="The bank's decision on an open dispute.")
class CloseDisputeInput:
    dispute_id: relay.GlobalID = strawberry.field(
        description="The dispute's global id (OPEN or UNDER_REVIEW)."
    )
    outcome: DisputeOutcome = strawberry.field(description="WON or LOST.")


@strawberry.type(description="The result of a dispute step: the dispute, or userErrors.")
class DisputePayload:
    dispute: Dispute | None = strawberry.field(default=None, description="The dispute after the step.")
    user_errors: list[UserError] = user_errors_field()
