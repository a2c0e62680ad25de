"""Inbound payment-provider events (the REST shims in server/webhooks.py verify their signatures).

Each provider's JSON is parsed into an ``InboundEvent``; ``receive_event`` then, in ONE
transaction: claims the provider's event id with the unique WebhookEvent row (a replay, or the
same event delivered twice at the same moment, finds the row taken and changes nothing), does the
work, and records the outcome on that row: PROCESSED, IGNORED (an event type we do not handle,
logged) or FLAGGED (the payment, refund or dispute it names is unknown here). The work being in the same
transaction as the claim, an event is acted on once or not at all.

Webhooks are tenant-agnostic: the payment is looked up across tenants, then the session narrows
to that payment's tenant, so everything after runs under the tenancy guard like any request."""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.scope import TenantScope
from models.billing import Payment, Refund, RefundStatus, WebhookEvent, WebhookOutcome
from models.db import Database
from models.tenancy import SCOPE_KEY
from services.billing.disputes import DisputeOutcome, close_recorded, record_dispute
from services.billing.payments import mark_failed, mark_succeeded
from services.billing.provider import FAILED, PENDING, SUCCEEDED
from services.billing.refunds import apply_refund_status, new_refund

log = logging.getLogger(__name__)


class Kind(enum.Enum):
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    REFUNDS = "refunds"
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_CLOSED = "dispute_closed"
    UNHANDLED = "unhandled"


@dataclass(frozen=True, slots=True)
class RefundReport:
    id: str
    status: str  # succeeded | pending | failed | canceled
    amount: int | None = None
    failure_reason: str | None = None


@dataclass(frozen=True, slots=True)
class InboundEvent:
    provider: str
    event_id: str
    event_type: str
    kind: Kind
    payload: dict[str, Any]
    payment_ref: str | None = None
    failure_reason: str | None = None
    card_last4: str | None = None
    refunds: tuple[RefundReport, ...] = ()
    dispute_id: str | None = None
    dispute_amount: int | None = None
    dispute_reason: str | None = None
    dispute_due_by: datetime | None = None
    dispute_outcome: DisputeOutcome | None = None  # DISPUTE_CLOSED: None for a status we do not know


class MalformedEvent(ValueError):
    """Valid JSON, but not an event of this provider."""


def _text(value: Any, name: str, required: bool = True) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:255]
    if required:
        raise MalformedEvent(f"the event has no {name}")
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _timestamp(value: Any) -> datetime | None:
    seconds = _int(value)
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _envelope(
    payload: Any, provider: str, title: str, id_key: str, type_key: str, body_key: str
) -> tuple[dict[str, Any], Mapping[str, Any]]:
    """What every event of ``provider`` carries (as InboundEvent keywords), and the object it is
    about: ``payload[body_key]["object"]``."""
    if not isinstance(payload, Mapping):
        raise MalformedEvent(f"a {title} event is a JSON object")
    event_id = _text(payload.get(id_key), id_key)
    event_type = _text(payload.get(type_key), type_key)
    base = {"provider": provider, "event_id": event_id, "event_type": event_type, "payload": dict(payload)}
    return base, _mapping(_mapping(payload.get(body_key)).get("object"))


# ---- Stripe -------------------------------------------------------------------------------------


def _stripe_refund(obj: Mapping[str, Any]) -> RefundReport | None:
    refund_id = _text(obj.get("id"), "refund id", required=False)
    if refund_id is None:
        return None
    return RefundReport(
        id=refund_id,
        status=str(obj.get("status") or PENDING),
        amount=_int(obj.get("amount")),
        failure_reason=_text(obj.get("failure_reason"), "reason", required=False),
    )


_STRIPE_DISPUTE_OUTCOMES = {
    "won": DisputeOutcome.WON,
    "warning_closed": DisputeOutcome.WON,
    "lost": DisputeOutcome.LOST,
}


def parse_stripe_event(payload: Any) -> InboundEvent:
    base, obj = _envelope(payload, "stripe", "Stripe", "id", "type", "data")
    event_type = base["event_type"]
    if event_type in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        error = _mapping(obj.get("last_payment_error"))
        card = _mapping(_mapping(error.get("payment_method")).get("card"))
        charges = _mapping(obj.get("charges")).get("data") or []
        if charges and isinstance(charges[-1], Mapping):
            card = _mapping(_mapping(charges[-1].get("payment_method_details")).get("card")) or card
        succeeded = event_type == "payment_intent.succeeded"
        return InboundEvent(
            **base,
            kind=Kind.PAYMENT_SUCCEEDED if succeeded else Kind.PAYMENT_FAILED,
            payment_ref=_text(obj.get("id"), "payment intent id", required=False),
            failure_reason=None
            if succeeded
            else (_text(error.get("message"), "reason", required=False) or error.get("code") or "declined"),
            card_last4=_text(card.get("last4"), "last4", required=False),
        )
    if event_type == "charge.refunded":
        refunds = [_stripe_refund(_mapping(r)) for r in (_mapping(obj.get("refunds")).get("data") or [])]
        return InboundEvent(
            **base,
            kind=Kind.REFUNDS,
            payment_ref=_text(obj.get("payment_intent"), "payment intent", required=False),
            refunds=tuple(r for r in refunds if r),
        )
    if event_type in ("refund.updated", "refund.created", "refund.failed", "charge.refund.updated"):
        refund = _stripe_refund(obj)
        return InboundEvent(
            **base,
            kind=Kind.REFUNDS,
            payment_ref=_text(obj.get("payment_intent"), "payment intent", required=False),
            refunds=(refund,) if refund else (),
        )
    if event_type == "charge.dispute.created":
        return InboundEvent(
            **base,
            kind=Kind.DISPUTE_OPENED,
            payment_ref=_text(obj.get("payment_intent"), "payment intent", required=False),
            dispute_id=_text(obj.get("id"), "dispute id", required=False),
            dispute_amount=_int(obj.get("amount")),
            dispute_reason=_text(obj.get("reason"), "reason", required=False),
            dispute_due_by=_timestamp(_mapping(obj.get("evidence_details")).get("due_by")),
        )
    if event_type == "charge.dispute.closed":
        return InboundEvent(
            **base,
            kind=Kind.DISPUTE_CLOSED,
            payment_ref=_text(obj.get("payment_intent"), "payment intent", required=False),
            dispute_id=_text(obj.get("id"), "dispute id", required=False),
            # warning_closed: an inquiry that ended without a chargeback, the money stays.
            dispute_outcome=_STRIPE_DISPUTE_OUTCOMES.get(str(obj.get("status"))),
        )
    return InboundEvent(**base, kind=Kind.UNHANDLED)


# ---- Hyperswitch --------------------------------------------------------------------------------

_HYPERSWITCH_REFUND_STATUS = {
    "refund_succeeded": SUCCEEDED,
    "refund_failed": FAILED,
}


def parse_hyperswitch_event(payload: Any) -> InboundEvent:
    """Hyperswitch: {event_id, event_type, content: {type, object: {payment_id, ...}}}."""
    base, obj = _envelope(payload, "hyperswitch", "Hyperswitch", "event_id", "event_type", "content")
    base["payment_ref"] = _text(obj.get("payment_id"), "payment_id", required=False)
    event_type = base["event_type"]
    if event_type in ("payment_succeeded", "payment_failed"):
        succeeded = event_type == "payment_succeeded"
        card = _mapping(_mapping(obj.get("payment_method_data")).get("card"))
        return InboundEvent(
            **base,
            kind=Kind.PAYMENT_SUCCEEDED if succeeded else Kind.PAYMENT_FAILED,
            failure_reason=None
            if succeeded
            else (
                _text(obj.get("error_message"), "reason", required=False)
                or _text(obj.get("error_code"), "reason", required=False)
                or "declined"
            ),
            card_last4=_text(card.get("last4_digits") or card.get("last4"), "last4", required=False),
        )
    if event_type in _HYPERSWITCH_REFUND_STATUS:
        refund_id = _text(obj.get("refund_id"), "refund_id", required=False)
        refunds = (
            (
                RefundReport(
                    id=refund_id,
                    status=_HYPERSWITCH_REFUND_STATUS[event_type],
                    amount=_int(obj.get("amount") or obj.get("refund_amount")),
                    failure_reason=_text(obj.get("error_message"), "reason", required=False),
                ),
            )
            if refund_id
            else ()
        )
        return InboundEvent(**base, kind=Kind.REFUNDS, refunds=refunds)
    if event_type == "dispute_opened":
        return InboundEvent(
            **base,
            kind=Kind.DISPUTE_OPENED,
            dispute_id=_text(obj.get("dispute_id"), "dispute_id", required=False),
            dispute_amount=_int(obj.get("amount")),
            dispute_reason=_text(obj.get("reason") or obj.get("dispute_reason"), "reason", required=False),
        )
    if event_type in ("dispute_won", "dispute_lost"):
        return InboundEvent(
            **base,
            kind=Kind.DISPUTE_CLOSED,
            dispute_id=_text(obj.get("dispute_id"), "dispute_id", required=False),
            dispute_outcome=DisputeOutcome.WON if event_type == "dispute_won" else DisputeOutcome.LOST,
        )
    return InboundEvent(**base, kind=Kind.UNHANDLED)


# ---- processing ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Receipt:
    duplicate: bool
    outcome: WebhookOutcome | None = None
    note: str | None = None
    webhook_event_id: uuid.UUID | None = None


def _enter_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """From here on this all-tenants session works inside one tenant, under the tenancy guard."""
    session.info[SCOPE_KEY] = TenantScope.of(tenant_id)


async def _payment(session: AsyncSession, event: InboundEvent) -> Payment | None:
    if not event.payment_ref:
        return None
    # Ours first when two providers happen to use one id; payments of any provider otherwise (the
    # Stripe-compatible provider may be Hyperswitch itself).
    candidates = list(
        await session.scalars(
            select(Payment).where(Payment.provider_payment_id == event.payment_ref).with_for_update()
        )
    )
    candidates.sort(key=lambda p: p.provider != event.provider)
    return candidates[0] if candidates else None


async def _refunds(
    session: AsyncSession, event: InboundEvent, payment: Payment, actor: str
) -> tuple[WebhookOutcome, str]:
    notes: list[str] = []
    matched = 0
    for report in event.refunds:
        refund = await session.scalar(
            select(Refund).where(Refund.provider_refund_id == report.id).with_for_update()
        )
        if refund is None:
            if report.status != SUCCEEDED or not report.amount or report.amount <= 0:
                notes.append(f"{report.id}: unknown refund ({report.status})")
                continue
            # Refunded at the provider (its dashboard, or a request whose answer we lost).
            refund = new_refund(
                session,
                payment,
                report.amount,
                RefundStatus.REQUESTED,
                "Refunded at the payment provider",
                provider_refund_id=report.id,
            )
            await session.flush()
            notes.append(f"{report.id}: recorded")
        elif refund.payment_id != payment.id:
            notes.append(f"{report.id}: belongs to another payment")
            continue
        matched += 1
        changed = await apply_refund_status(
            session, refund, payment, report.status, actor=actor, failure_reason=report.failure_reason
        )
        notes.append(f"{report.id}: {refund.status.value}" + ("" if changed else " (unchanged)"))
    if not event.refunds:
        return WebhookOutcome.FLAGGED, "the event names no refund"
    # Flagged when none of the refunds it names could be matched to (or recorded on) this payment.
    return (WebhookOutcome.PROCESSED if matched else WebhookOutcome.FLAGGED), "; ".join(notes)


async def _dispute_opened(
    session: AsyncSession, event: InboundEvent, payment: Payment, actor: str
) -> tuple[WebhookOutcome, str]:
    dispute, note = await record_dispute(
        session,
        payment,
        event.dispute_id or event.event_id,
        event.dispute_amount,
        event.dispute_reason,
        event.dispute_due_by,
        actor=actor,
    )
    return (WebhookOutcome.PROCESSED if dispute else WebhookOutcome.FLAGGED), note


async def _dispute_closed(
    session: AsyncSession, event: InboundEvent, payment: Payment, actor: str
) -> tuple[WebhookOutcome, str]:
    if event.dispute_id is None or event.dispute_outcome is None:
        return WebhookOutcome.FLAGGED, "the event names no dispute, or no status it closed with"
    known, note = await close_recorded(session, payment, event.dispute_id, event.dispute_outcome, actor=actor)
    return (WebhookOutcome.PROCESSED if known else WebhookOutcome.FLAGGED), note


async def _act(
    session: AsyncSession, event: InboundEvent
) -> tuple[WebhookOutcome, str | None, uuid.UUID | None]:
    if event.kind == Kind.UNHANDLED:
        log.info(
            "webhook %s %s: event type %s is not handled", event.provider, event.event_id, event.event_type
        )
        return WebhookOutcome.IGNORED, f"event type {event.event_type} is not handled", None
    payment = await _payment(session, event)
    if payment is None:
        log.warning(
            "webhook %s %s names unknown payment %r", event.provider, event.event_id, event.payment_ref
        )
        return WebhookOutcome.FLAGGED, f"unknown payment {event.payment_ref!r}", None
    _enter_tenant(session, payment.tenant_id)
    actor = f"webhook:{event.provider}"
    if event.kind == Kind.PAYMENT_SUCCEEDED:
        changed = await mark_succeeded(session, payment, actor=actor, card_last4=event.card_last4)
        return (
            WebhookOutcome.PROCESSED,
            None if changed else "payment had already succeeded",
            payment.tenant_id,
        )
    if event.kind == Kind.PAYMENT_FAILED:
        payment.card_last4 = event.card_last4 or payment.card_last4
        changed = mark_failed(session, payment, event.failure_reason or "declined", actor=actor)
        note = None if changed else f"payment is {payment.status.value}: failure not applied"
        return WebhookOutcome.PROCESSED, note, payment.tenant_id
    if event.kind == Kind.REFUNDS:
        outcome, note = await _refunds(session, event, payment, actor)
        return outcome, note, payment.tenant_id
    if event.kind == Kind.DISPUTE_OPENED:
        outcome, note = await _dispute_opened(session, event, payment, actor)
    else:
        outcome, note = await _dispute_closed(session, event, payment, actor)
    return outcome, note, payment.tenant_id


async def receive_event(
    db: Database, event: InboundEvent, on_events_committed: Callable[[], None] = lambda: None
) -> Receipt:
    async with db.transaction(TenantScope.all_tenants()) as session:
        row = WebhookEvent(
            id=uuid.uuid4(),
            provider=event.provider,
            provider_event_id=event.event_id,
            event_type=event.event_type[:100],
            payload=event.payload,
            outcome=WebhookOutcome.PROCESSED,
        )
        try:
            # Concurrent deliveries of one event wait here on the unique index until the first
            # transaction ends, then find the row taken.
            async with session.begin_nested():
                session.add(row)
        except IntegrityError:
            log.info("webhook %s %s is a replay: nothing done", event.provider, event.event_id)
            return Receipt(duplicate=True)
        outcome, note, tenant_id = await _act(session, event)
        row.outcome, row.note, row.tenant_id = outcome, note[:500] if note else None, tenant_id
        receipt = Receipt(duplicate=False, outcome=outcome, note=note, webhook_event_id=row.id)
    on_events_committed()
    return receipt
