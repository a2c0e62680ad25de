"""The ticket life cycle as an explicit state machine, the history of every change and the
``ticket.changed`` outbox event, each written in the caller's transaction.

    OPEN <-> PENDING <-> ON_HOLD      (any of the three <-> any other of them)
      |         |           |
      +---------+-----------+--> SOLVED --> CLOSED
                                   |          |
      OPEN <-------- reopen -------+----------+

Every unsolved status may also go to CLOSED at once; a status never "moves" to itself."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, invalid
from models.base import utcnow
from models.tickets import Ticket, TicketChange, TicketStatus
from services.events import record_event
from services.tickets.errors import TicketErrorCode

TICKET_CHANGED = "ticket.changed"


class ChangeKind(enum.StrEnum):
    """The ``change`` of a ``ticket.changed`` event."""

    CREATED = "created"
    UPDATED = "updated"
    STATUS = "status"
    ASSIGNED = "assigned"
    COMMENT = "comment"


S = TicketStatus
ALLOWED: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.OPEN: frozenset({S.PENDING, S.ON_HOLD, S.SOLVED, S.CLOSED}),
    S.PENDING: frozenset({S.OPEN, S.ON_HOLD, S.SOLVED, S.CLOSED}),
    S.ON_HOLD: frozenset({S.OPEN, S.PENDING, S.SOLVED, S.CLOSED}),
    S.SOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset({S.OPEN}),
}
# Where a ticket is done with (reopening brings it back to OPEN).
RESOLVED: frozenset[TicketStatus] = frozenset({S.SOLVED, S.CLOSED})


def can_move(current: TicketStatus, target: TicketStatus) -> bool:
    return target in ALLOWED[current]


def refuse(ticket: Ticket, target: TicketStatus) -> Exception:
    return invalid(
        None,
        TicketErrorCode.INVALID_TRANSITION,
        f"A {ticket.status.value} ticket cannot go to {target.value}.",
    )


async def lock_ticket(session: AsyncSession, ticket_id: uuid.UUID) -> Ticket:
    """The ticket, its row locked until the transaction ends; NOT_FOUND when it does not exist in
    the session's tenant scope."""
    ticket = await session.get(Ticket, ticket_id, with_for_update=True, populate_existing=True)
    if ticket is None:
        raise NotFound("Ticket")
    return ticket


def _now_after(ticket: Ticket) -> datetime:
    now = utcnow()
    if ticket.updated_at is not None and now <= ticket.updated_at:
        now = ticket.updated_at + timedelta(microseconds=1)
    return now


def touch(ticket: Ticket) -> datetime:
    """A change of the ticket: a new version and ``updated_at`` (strictly later); returns it."""
    now = _now_after(ticket)
    ticket.updated_at = now
    ticket.version += 1
    return now


def record_change(
    session: AsyncSession,
    ticket: Ticket,
    field: str,
    old: str | None,
    new: str | None,
    *,
    actor_id: uuid.UUID | None,
    at: datetime,
) -> None:
    session.add(
        TicketChange(
            tenant_id=ticket.tenant_id,
            ticket_id=ticket.id,
            actor_user_id=actor_id,
            field=field,
            old_value=old,
            new_value=new,
            created_at=at,
        )
    )


def announce(
    session: AsyncSession,
    ticket: Ticket,
    change: ChangeKind,
    *,
    actor_id: uuid.UUID | None,
    comment_id: uuid.UUID | None = None,
    internal: bool = False,
) -> None:
    """The ``ticket.changed`` event of a change (created, updated, status, assigned, comment)."""
    record_event(
        session,
        topic=TICKET_CHANGED,
        tenant_id=ticket.tenant_id,
        payload={
            "ticket_id": str(ticket.id),
            "number": ticket.number,
            "subject": ticket.subject,
            "change": change.value,
            "status": ticket.status.value,
            "requester_id": str(ticket.requester_id),
            "assignee_id": str(ticket.assignee_id) if ticket.assignee_id else None,
            "actor_id": str(actor_id) if actor_id else None,
            "comment_id": str(comment_id) if comment_id else None,
            "internal": internal,
        },
    )


def move(session: AsyncSession, ticket: Ticket, target: TicketStatus, *, actor_id: uuid.UUID | None) -> None:
    """Move the locked ``ticket`` to ``target`` inside the caller's transaction: history, times and
    the event; an illegal move raises INVALID_TRANSITION and changes nothing."""
    if not can_move(ticket.status, target):
        raise refuse(ticket, target)
    previous = ticket.status
    now = touch(ticket)
    ticket.status = target
    if target == S.SOLVED:
        ticket.solved_at = now
    elif target == S.CLOSED:
        ticket.closed_at = now
    elif previous in RESOLVED:  # reopened: it is worked on again, and solved again later
        ticket.solved_at = None
        ticket.closed_at = None
    record_change(session, ticket, "status", previous.value, target.value, actor_id=actor_id, at=now)
    announce(session, ticket, ChangeKind.STATUS, actor_id=actor_id)
