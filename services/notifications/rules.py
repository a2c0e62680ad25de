"""Which events notify whom: one rule per topic, from the event's payload alone (no reads), so a
transaction that records an event with no recipient pays nothing.

Each rule returns ``Draft``s; delivery.py checks the recipients (users of the event's tenant) and
their preferences. The actor of a change is never told about it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from models.notifications import NotificationType as T
from services.billing.payments import PAYMENT_FAILED
from services.identity.data_export import DATA_EXPORT_READY
from services.identity.invites import INVITE_ACCEPTED
from services.orders.states import ORDER_STATUS_CHANGED
from services.provisioning.states import PROVISIONING_CHANGED

log = logging.getLogger(__name__)

# Recorded by the tickets domain (built in parallel) with the payload ``ticket_changed`` reads:
# ticket_id, number, subject, change (created|updated|status|assigned|comment), status,
# requester_id, assignee_id, actor_id, comment_id, internal.
TICKET_CHANGED = "ticket.changed"


@dataclass(frozen=True, slots=True)
class Draft:
    """A notification to create for one user, if their preferences allow it."""

    user_id: uuid.UUID
    type: T
    title: str
    body: str
    link: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


Rule = Callable[[dict[str, Any]], list[Draft]]


def _user(raw: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


def order_paid(payload: dict[str, Any]) -> list[Draft]:
    user = _user(payload.get("userId"))
    if payload.get("to") != "PAID" or user is None:
        return []
    order = payload.get("orderId")
    return [
        Draft(
            user,
            T.ORDER_PAID,
            "Your order is paid",
            "We received your payment; your order is on its way.",
            f"/orders/{order}",
            {"orderId": order},
        )
    ]


def payment_failed(payload: dict[str, Any]) -> list[Draft]:
    user = _user(payload.get("userId"))
    if user is None:
        return []
    reason = payload.get("failureReason") or "the payment provider declined it"
    body = f"Your payment of {payload.get('amount')} {payload.get('currency')} failed: {reason}."
    return [
        Draft(
            user,
            T.PAYMENT_FAILED,
            "A payment failed",
            body[:2000],
            f"/payments/{payload.get('paymentId')}",
            {"paymentId": payload.get("paymentId"), "orderId": payload.get("orderId")},
        )
    ]


def provisioning_finished(payload: dict[str, Any]) -> list[Draft]:
    user = _user(payload.get("userId"))
    target = payload.get("to")
    if user is None or target not in ("ACTIVE", "FAILED") or payload.get("from") == target:
        return []
    request = payload.get("requestId")
    link, data = f"/provisioning/{request}", {"requestId": request}
    if target == "ACTIVE":
        return [
            Draft(
                user,
                T.PROVISIONING_ACTIVE,
                "Your service is ready",
                "Your service is set up and runs.",
                link,
                data,
            )
        ]
    return [
        Draft(
            user,
            T.PROVISIONING_FAILED,
            "Setting up your service failed",
            "A step of setting up your service failed; you may retry it.",
            link,
            data,
        )
    ]


def invite_accepted(payload: dict[str, Any]) -> list[Draft]:
    inviter, member = _user(payload.get("invitedBy")), _user(payload.get("userId"))
    if inviter is None or inviter == member:
        return []
    email = payload.get("email") or "Someone"
    return [
        Draft(
            inviter,
            T.INVITE_ACCEPTED,
            "Your invite was accepted",
            f"{email} accepted your invite.",
            f"/users/{member}",
            {"inviteId": payload.get("inviteId"), "userId": str(member)},
        )
    ]


def data_export_ready(payload: dict[str, Any]) -> list[Draft]:
    user = _user(payload.get("userId"))
    if user is None:
        return []
    return [
        Draft(
            user,
            T.DATA_EXPORT_READY,
            "Your data export is ready",
            "The export of your personal data is ready; the download link is in your mail.",
            "/privacy/exports",
            {"exportId": payload.get("exportId")},
        )
    ]


def _ticket_targets(payload: dict[str, Any]) -> Iterable[tuple[uuid.UUID | None, T]]:
    change = payload.get("change")
    requester, assignee, actor = (_user(payload.get(k)) for k in ("requester_id", "assignee_id", "actor_id"))
    internal = payload.get("internal") is not False  # anything but an explicit false is internal
    if change == "comment":
        if actor is not None and actor == requester:
            yield assignee, T.TICKET_COMMENT
        elif not internal:
            yield requester, T.TICKET_REPLY
    elif change == "status" and actor != requester:
        yield requester, T.TICKET_STATUS_CHANGED
    elif change == "assigned":
        yield assignee, T.TICKET_ASSIGNED


_TICKET_TITLES = {
    T.TICKET_REPLY: "New reply on ticket #{number}",
    T.TICKET_COMMENT: "The requester commented on ticket #{number}",
    T.TICKET_STATUS_CHANGED: "Ticket #{number} is now {status}",
    T.TICKET_ASSIGNED: "Ticket #{number} was assigned to you",
}


def ticket_changed(payload: dict[str, Any]) -> list[Draft]:
    """A reply (a public comment by someone else) tells the requester, a requester's comment the
    assignee, a status change by someone else the requester, an assignment the assignee. Internal
    changes (``internal`` true) never reach the requester, whatever else the payload says."""
    requester, actor = _user(payload.get("requester_id")), _user(payload.get("actor_id"))
    internal = payload.get("internal") is not False
    ticket = payload.get("ticket_id")
    number, status = payload.get("number"), payload.get("status")
    drafts = []
    for user, kind in _ticket_targets(payload):
        if user is None or user == actor or (internal and user == requester):
            continue
        title = _TICKET_TITLES[kind].format(number=number, status=status)
        subject = str(payload.get("subject") or "")[:500]
        data = {"ticketId": ticket, "number": number, "commentId": payload.get("comment_id")}
        drafts.append(Draft(user, kind, title[:200], subject, f"/tickets/{ticket}", data))
    return drafts


RULES: dict[str, Rule] = {
    ORDER_STATUS_CHANGED: order_paid,
    PAYMENT_FAILED: payment_failed,
    PROVISIONING_CHANGED: provisioning_finished,
    INVITE_ACCEPTED: invite_accepted,
    DATA_EXPORT_READY: data_export_ready,
    TICKET_CHANGED: ticket_changed,
}


def drafts_for(topic: str, payload: dict[str, Any]) -> list[Draft]:
    """The notifications an event of ``topic`` asks for; none for a topic without a rule or a
    payload the rule cannot read (logged: the event itself still commits)."""
    rule = RULES.get(topic)
    if rule is None:
        return []
    try:
        return rule(payload)
    except (KeyError, TypeError, ValueError, AttributeError):
        log.warning("notification rule for %s could not read the payload %r", topic, payload)
        return []
