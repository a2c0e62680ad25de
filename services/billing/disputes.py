"""Disputes (chargebacks) end to end: recorded OPEN from the provider's webhook
(``record_dispute``) or by staff or a service the bank told (``open_dispute``, seed 000
``POST /refunds/dispute``), the evidence sent through the provider (``submit_dispute_evidence``:
UNDER_REVIEW), and closed WON or LOST (``settle_dispute``: from the webhook, or by operation with
``close_dispute`` for providers without one).

While a dispute is open its amount is held by a disputed Refund, PROCESSING, so that it counts as
under way in ``refundable``. Closing settles that refund through ``apply_refund_status`` like any
refund: WON fails it (the money stays), LOST succeeds it (the payment's and the order's refunded
amounts and the order's status move). Each step is one transaction with its outbox event."""

from __future__ import annotations

import enum
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, InvalidInput, NotFound, invalid
from core.permissions import BILLING_STAFF
from core.principal import Principal
from loaders.pagination import Page, PageArgs, SortKey, paginate, where_given
from models.base import utcnow
from models.billing import Payment, Refund, RefundStatus
from models.db import locked_or_not_found
from models.disputes import CLOSED_DISPUTES, Dispute, DisputeStatus
from services.billing.access import can_see, visible
from services.billing.errors import BillingErrorCode
from services.billing.provider import FAILED, SUCCEEDED, PaymentProvider, ProviderError
from services.billing.refunds import MAX_REASON, amount_to_take, apply_refund_status, new_refund, refund_event
from services.context import ServiceContext
from services.events import record_event
from services.money import amount_problem

DISPUTE_OPENED = "dispute.opened"
DISPUTE_EVIDENCE_SUBMITTED = "dispute.evidence_submitted"
DISPUTE_CLOSED = "dispute.closed"
ACTOR = "dispute"
MAX_PROVIDER_DISPUTE_ID = 255
MAX_EVIDENCE_TEXT = 5000
# Disputes opened by operation without the provider's id: kept under ``local:<our id>`` (the column
# is required and unique per provider); their evidence goes to the bank by other means.
LOCAL_PREFIX = "local:"
# The evidence a dispute takes, in Stripe's ``evidence[...]`` names (text fields only).
EVIDENCE_FIELDS = (
    "product_description",
    "customer_name",
    "customer_email_address",
    "billing_address",
    "shipping_carrier",
    "shipping_tracking_number",
    "shipping_date",
    "service_date",
    "access_activity_log",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "uncategorized_text",
)


class DisputeOutcome(enum.StrEnum):
    WON = DisputeStatus.WON.value
    LOST = DisputeStatus.LOST.value


@dataclass(frozen=True, slots=True)
class DisputeFilter:
    status: DisputeStatus | None = None
    payment_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None


def is_local(dispute: Dispute) -> bool:
    """Recorded here only: the provider has no id of it."""
    return dispute.provider_dispute_id.startswith(LOCAL_PREFIX)


def _event(session: AsyncSession, topic: str, dispute: Dispute, actor: str) -> None:
    record_event(
        session,
        topic=topic,
        tenant_id=dispute.tenant_id,
        payload={
            "disputeId": str(dispute.id),
            "paymentId": str(dispute.payment_id),
            "orderId": str(dispute.order_id) if dispute.order_id else None,
            "refundId": str(dispute.refund_id),
            "status": dispute.status.value,
            "amount": dispute.amount,
            "currency": dispute.currency,
            "reason": dispute.reason,
            "actor": actor,
        },
    )


def _require_staff(principal: Principal, doing: str) -> None:
    if not principal.is_service_or(*BILLING_STAFF):
        raise Forbidden(f"Only billing staff and services {doing}.")


def _new_dispute(
    session: AsyncSession,
    payment: Payment,
    amount: int,
    reason: str | None,
    *,
    provider_dispute_id: str | None,
    due_by: datetime | None,
    opened_by: uuid.UUID | None,
    actor: str,
) -> Dispute:
    """An OPEN dispute of the locked ``payment`` and the disputed refund holding ``amount``."""
    refund = new_refund(
        session,
        payment,
        amount,
        RefundStatus.PROCESSING,
        f"Dispute: {reason or 'unspecified'}"[:MAX_REASON],
        requested_by=opened_by,
        disputed=True,
    )
    dispute_id = uuid.uuid4()
    dispute = Dispute(
        id=dispute_id,
        tenant_id=payment.tenant_id,
        payment_id=payment.id,
        order_id=payment.order_id,
        refund_id=refund.id,
        provider=payment.provider,
        provider_dispute_id=provider_dispute_id or f"{LOCAL_PREFIX}{dispute_id}",
        amount=amount,
        currency=payment.currency,
        reason=reason,
        status=DisputeStatus.OPEN,
        evidence={},
        due_by=due_by,
        opened_by=opened_by,
    )
    session.add(dispute)
    refund_event(session, refund, actor)
    _event(session, DISPUTE_OPENED, dispute, actor)
    return dispute


async def _by_provider_id(
    session: AsyncSession, payment: Payment, provider_dispute_id: str
) -> Dispute | None:
    return await session.scalar(
        select(Dispute)
        .where(Dispute.provider == payment.provider, Dispute.provider_dispute_id == provider_dispute_id)
        .with_for_update()
    )


async def record_dispute(
    session: AsyncSession,
    payment: Payment,
    provider_dispute_id: str,
    amount: int | None,
    reason: str | None,
    due_by: datetime | None,
    *,
    actor: str,
) -> tuple[Dispute | None, str]:
    """The webhook's dispute of the locked ``payment`` (once per provider dispute id), holding the
    amount the bank took back, at most what was not refunded yet; None when nothing is left."""
    existing = await _by_provider_id(session, payment, provider_dispute_id)
    if existing is not None:
        return existing, f"dispute {provider_dispute_id} already recorded"
    left = payment.amount - payment.amount_refunded
    held = min(amount or left, left)
    if held <= 0:
        return None, f"dispute {provider_dispute_id}: nothing of the payment is left to dispute"
    dispute = _new_dispute(
        session,
        payment,
        held,
        reason,
        provider_dispute_id=provider_dispute_id,
        due_by=due_by,
        opened_by=None,
        actor=actor,
    )
    return dispute, f"dispute {provider_dispute_id} opened for {held}"


async def open_dispute(
    ctx: ServiceContext,
    payment_id: uuid.UUID,
    *,
    amount: int | None = None,
    reason: str | None = None,
    provider_dispute_id: str | None = None,
    due_by: datetime | None = None,
) -> Dispute:
    """Records a chargeback the bank notified for a payment (staff and services): ``amount``
    (default: all that is left refundable) is held until the dispute closes."""
    principal = ctx.require_principal()
    _require_staff(principal, "open disputes")
    if amount is not None and (problem := amount_problem("amount", amount, allow_zero=False)):
        raise InvalidInput(problem)
    reason = (reason or "").strip() or None  # at most MAX_REASON: the GraphQL layer refuses longer
    provider_dispute_id = (provider_dispute_id or "").strip() or None

    async with ctx.transaction() as session:
        payment = await session.get(Payment, payment_id, with_for_update=True)
        if payment is None or not can_see(principal, payment.user_id):
            raise NotFound("Payment")
        amount = await amount_to_take(session, payment, amount, field="paymentId", verb="disputed")
        if provider_dispute_id and await _by_provider_id(session, payment, provider_dispute_id):
            raise invalid(
                "providerDisputeId",
                BillingErrorCode.DISPUTE_ALREADY_RECORDED,
                f"Dispute {provider_dispute_id} is recorded already.",
            )
        return _new_dispute(
            session,
            payment,
            amount,
            reason,
            provider_dispute_id=provider_dispute_id,
            due_by=due_by,
            opened_by=principal.person_id,
            actor=ACTOR,
        )


def _evidence_key(dispute: Dispute, evidence: Mapping[str, str]) -> str:
    """The same evidence sent again is a replay at the provider; other evidence a new request."""
    digest = hashlib.sha256(json.dumps(dict(evidence), sort_keys=True).encode()).hexdigest()[:16]
    return f"dispute-evidence-{dispute.id}-{digest}"


def _closed(dispute: Dispute) -> InvalidInput:
    return invalid(None, BillingErrorCode.DISPUTE_CLOSED, f"The dispute was closed {dispute.status.value}.")


def _open_or_refused(dispute: Dispute) -> None:
    if dispute.status in CLOSED_DISPUTES:
        raise _closed(dispute)
    if dispute.status != DisputeStatus.OPEN:
        raise invalid(None, BillingErrorCode.DISPUTE_NOT_OPEN, "Evidence was submitted already.")


async def submit_dispute_evidence(
    ctx: ServiceContext, provider: PaymentProvider, dispute_id: uuid.UUID, evidence: Mapping[str, str | None]
) -> Dispute:
    """Sends the evidence of an OPEN dispute to the provider and submits it (staff and services):
    UNDER_REVIEW. A dispute without the provider's id keeps its evidence here only."""
    principal = ctx.require_principal()
    _require_staff(principal, "submit dispute evidence")
    given = {name: text.strip() for name in EVIDENCE_FIELDS if (text := evidence.get(name)) and text.strip()}
    if not given:
        raise invalid("evidence", BillingErrorCode.INVALID_EVIDENCE, "Give at least one piece of evidence.")

    async with ctx.read() as session:
        dispute = await session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound("Dispute")
    _open_or_refused(dispute)
    if not is_local(dispute):
        try:
            await provider.submit_dispute_evidence(
                dispute.provider_dispute_id, evidence=given, idempotency_key=_evidence_key(dispute, given)
            )
        except ProviderError as exc:
            raise invalid(
                None, BillingErrorCode.PAYMENT_PROVIDER_ERROR, f"The payment provider refused: {exc.message}"
            ) from exc

    async with ctx.transaction() as session:
        dispute = await locked_or_not_found(session, Dispute, dispute_id)
        _open_or_refused(dispute)  # closed by a webhook meanwhile
        dispute.evidence = given
        dispute.evidence_submitted_at = utcnow()
        dispute.status = DisputeStatus.UNDER_REVIEW
        _event(session, DISPUTE_EVIDENCE_SUBMITTED, dispute, ACTOR)
        return dispute


async def settle_dispute(
    session: AsyncSession, dispute: Dispute, payment: Payment, outcome: DisputeOutcome, *, actor: str
) -> bool:
    """Closes the locked ``dispute`` of the locked ``payment`` WON or LOST; False when it was
    closed already. Its refund fails (won: the money stays) or succeeds (lost)."""
    if dispute.status in CLOSED_DISPUTES:
        return False
    refund = await locked_or_not_found(session, Refund, dispute.refund_id)
    won = outcome == DisputeOutcome.WON
    await apply_refund_status(
        session, refund, payment, FAILED if won else SUCCEEDED, actor=actor, failure_reason="Dispute won"
    )
    dispute.status = DisputeStatus(outcome.value)
    dispute.closed_at = utcnow()
    _event(session, DISPUTE_CLOSED, dispute, actor)
    return True


async def close_recorded(
    session: AsyncSession, payment: Payment, provider_dispute_id: str, outcome: DisputeOutcome, *, actor: str
) -> tuple[bool, str]:
    """The webhook's close of a dispute of the locked ``payment``: (whether it is known, a note)."""
    dispute = await _by_provider_id(session, payment, provider_dispute_id)
    if dispute is None or dispute.payment_id != payment.id:
        return False, f"unknown dispute {provider_dispute_id}"
    changed = await settle_dispute(session, dispute, payment, outcome, actor=actor)
    return True, f"dispute {provider_dispute_id} {dispute.status.value}" + ("" if changed else " (unchanged)")


async def close_dispute(ctx: ServiceContext, dispute_id: uuid.UUID, outcome: DisputeOutcome) -> Dispute:
    """Closes an open dispute WON or LOST by operation (staff and services), for providers that
    send no webhook of the bank's decision."""
    principal = ctx.require_principal()
    _require_staff(principal, "close disputes")
    async with ctx.transaction() as session:
        # Locked in the order of every refund path: the payment, then its refund (settle_dispute).
        payment_id = await session.scalar(select(Dispute.payment_id).where(Dispute.id == dispute_id))
        if payment_id is None:
            raise NotFound("Dispute")
        payment = await locked_or_not_found(session, Payment, payment_id)
        dispute = await locked_or_not_found(session, Dispute, dispute_id)
        if not await settle_dispute(session, dispute, payment, outcome, actor=ACTOR):
            raise _closed(dispute)
        return dispute


# ---- reads ------------------------------------------------------------------------------------


async def list_disputes(ctx: ServiceContext, dispute_filter: DisputeFilter, page: PageArgs) -> Page[Dispute]:
    """Newest first; a dispute is its payment's owner's."""
    f = dispute_filter
    owner = select(Payment.user_id).where(Payment.id == Dispute.payment_id).scalar_subquery()
    statement = where_given(
        visible(select(Dispute), owner, ctx.require_principal()),
        (Dispute.status, f.status),
        (Dispute.payment_id, f.payment_id),
        (Dispute.order_id, f.order_id),
    )
    return await paginate(ctx.read, statement, SortKey(Dispute.created_at, Dispute.id, True), page)
