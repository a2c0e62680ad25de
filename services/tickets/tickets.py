"""Support tickets: opened by any signed-in user, read under their visibility rule, edited,
assigned, moved through their life cycle (services/tickets/states.py) and commented on, each
change in one transaction with its history and its ``ticket.changed`` event.

Who sees a ticket: its requester, the tenant's staff (core/permissions.py TICKET_STAFF), service
principals and platform admins; for anyone else it does not exist (NOT_FOUND). Internal notes are
for staff only."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, invalid
from core.lengths import bounded_text
from core.permissions import TICKET_STAFF
from core.principal import Principal
from models.base import utcnow
from models.identity.accounts import User, UserRole, UserStatus
from models.orders import Order
from models.provisioning import ProvisioningRequest
from models.tickets import Ticket, TicketComment, TicketPriority, TicketStatus
from services.context import ServiceContext
from services.counters import next_value
from services.orders.orders import can_read_order
from services.provisioning.requests import can_read_request
from services.tickets.errors import TicketErrorCode
from services.tickets.states import (
    RESOLVED,
    ChangeKind,
    announce,
    lock_ticket,
    move,
    record_change,
    refuse,
    touch,
)

S = TicketStatus
MAX_SUBJECT_CHARS = 200
MAX_DESCRIPTION_CHARS = 20_000
MAX_CATEGORY_CHARS = 64
MAX_COMMENT_CHARS = 20_000
TICKET_COUNTER = "ticket"


def is_staff(principal: Principal) -> bool:
    return principal.is_service or principal.has_any_role(*TICKET_STAFF)


def can_read_ticket(principal: Principal | None, ticket: Ticket) -> bool:
    return principal is not None and (ticket.requester_id == principal.user_id or is_staff(principal))


def can_read_comment(principal: Principal | None, comment: TicketComment) -> bool:
    """Internal notes are for staff only (the ticket's own visibility is checked with it)."""
    return principal is not None and (not comment.internal or is_staff(principal))


def _optional_text(field: str, value: str | None, limit: int) -> str | None:
    return bounded_text(field, value, limit) or None


def _text(field: str, value: str | None, limit: int) -> str:
    text = _optional_text(field, value, limit)
    if text is None:
        raise invalid(field, TicketErrorCode.REQUIRED, f"`{field}` must not be empty.")
    return text


@dataclass(frozen=True, slots=True)
class NewTicket:
    subject: str
    description: str
    priority: TicketPriority = TicketPriority.NORMAL
    category: str | None = None
    order_id: uuid.UUID | None = None
    provisioning_request_id: uuid.UUID | None = None


async def _check_related(session: AsyncSession, principal: Principal, new: NewTicket) -> None:
    """The caller must see the order or provisioning request the ticket is about."""
    if new.order_id is not None:
        order = await session.get(Order, new.order_id)
        if order is None or not can_read_order(principal, order):
            raise invalid("orderId", TicketErrorCode.NOT_FOUND, "No order of yours with this id.")
    if new.provisioning_request_id is not None:
        request = await session.get(ProvisioningRequest, new.provisioning_request_id)
        if request is None or not can_read_request(principal, request):
            raise invalid(
                "provisioningRequestId",
                TicketErrorCode.NOT_FOUND,
                "No provisioning request of yours with this id.",
            )


async def add_ticket(
    session: AsyncSession,
    new: NewTicket,
    *,
    tenant_id: uuid.UUID,
    requester_id: uuid.UUID,
    at: datetime | None = None,
) -> Ticket:
    """An OPEN ticket numbered next in the tenant, its first history entry and its ``created``
    event, in the caller's transaction (``new`` is checked already)."""
    now = at or utcnow()
    ticket = Ticket(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        number=await next_value(session, tenant_id, TICKET_COUNTER),
        subject=new.subject,
        description=new.description,
        status=S.OPEN,
        priority=new.priority,
        category=new.category,
        requester_id=requester_id,
        order_id=new.order_id,
        provisioning_request_id=new.provisioning_request_id,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(ticket)
    record_change(session, ticket, "status", None, S.OPEN.value, actor_id=requester_id, at=now)
    announce(session, ticket, ChangeKind.CREATED, actor_id=requester_id)
    return ticket


async def create_ticket(ctx: ServiceContext, new: NewTicket) -> Ticket:
    """An OPEN ticket of the caller, numbered next in the tenant."""
    principal = ctx.require_principal()
    checked = replace(
        new,
        subject=_text("subject", new.subject, MAX_SUBJECT_CHARS),
        description=_text("description", new.description, MAX_DESCRIPTION_CHARS),
        category=_optional_text("category", new.category, MAX_CATEGORY_CHARS),
    )
    async with ctx.transaction() as session:
        await _check_related(session, principal, checked)
        return await add_ticket(
            session, checked, tenant_id=principal.tenant_id, requester_id=principal.user_id
        )


async def read_ticket(ctx: ServiceContext, ticket_id: uuid.UUID) -> Ticket:
    principal = ctx.require_principal()
    async with ctx.read() as session:
        ticket = await session.get(Ticket, ticket_id)
    if ticket is None or not can_read_ticket(principal, ticket):
        raise NotFound("Ticket")
    return ticket


Change = Callable[[AsyncSession, Principal, Ticket], Awaitable[None]]


async def _change(ctx: ServiceContext, ticket_id: uuid.UUID, change: Change) -> Ticket:
    """One change of a ticket the caller may see (else NOT_FOUND), locked, in one transaction."""
    principal = ctx.require_principal()
    async with ctx.transaction() as session:
        ticket = await lock_ticket(session, ticket_id)
        if not can_read_ticket(principal, ticket):
            raise NotFound("Ticket")
        await change(session, principal, ticket)
    return ticket


@dataclass(frozen=True, slots=True)
class TicketEdit:
    """The fields to change; None leaves one as it is (``clear_category`` empties the category)."""

    subject: str | None = None
    description: str | None = None
    category: str | None = None
    clear_category: bool = False
    priority: TicketPriority | None = None


async def update_ticket(ctx: ServiceContext, ticket_id: uuid.UUID, edit: TicketEdit) -> Ticket:
    """The requester edits subject, description and category; staff also the priority."""
    subject = _text("subject", edit.subject, MAX_SUBJECT_CHARS) if edit.subject is not None else None
    description = (
        _text("description", edit.description, MAX_DESCRIPTION_CHARS)
        if edit.description is not None
        else None
    )
    category = _optional_text("category", edit.category, MAX_CATEGORY_CHARS)

    async def apply(session: AsyncSession, principal: Principal, ticket: Ticket) -> None:
        if edit.priority is not None and not is_staff(principal):
            raise invalid("priority", TicketErrorCode.NOT_ALLOWED, "Only support staff set the priority.")
        wanted: dict[str, str | None] = {}
        if subject is not None:
            wanted["subject"] = subject
        if description is not None:
            wanted["description"] = description
        if category is not None or edit.clear_category:
            wanted["category"] = None if edit.clear_category else category
        if edit.priority is not None:
            wanted["priority"] = edit.priority.value
        changed = {k: v for k, v in wanted.items() if _value(ticket, k) != v}
        if not changed:
            return
        now = touch(ticket)
        for field, value in changed.items():
            record_change(
                session, ticket, field, _value(ticket, field), value, actor_id=principal.person_id, at=now
            )
            setattr(ticket, field, TicketPriority(value) if field == "priority" and value else value)
        announce(session, ticket, ChangeKind.UPDATED, actor_id=principal.person_id)

    return await _change(ctx, ticket_id, apply)


def _value(ticket: Ticket, field: str) -> str | None:
    value = getattr(ticket, field)
    return value.value if isinstance(value, TicketPriority) else value


async def is_agent(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """An active user of the session's tenant holding a TICKET_STAFF role."""
    user = await session.get(User, user_id)
    if user is None or user.status != UserStatus.ACTIVE:
        return False
    roles = set(await session.scalars(select(UserRole.role).where(UserRole.user_id == user_id)))
    return not roles.isdisjoint(TICKET_STAFF)


async def assign_ticket(ctx: ServiceContext, ticket_id: uuid.UUID, assignee_id: uuid.UUID | None) -> Ticket:
    """Staff: assign to a support agent (or staff member) of the tenant, or unassign (None)."""
    ctx.require_role(*TICKET_STAFF)

    async def apply(session: AsyncSession, principal: Principal, ticket: Ticket) -> None:
        if assignee_id is not None and not await is_agent(session, assignee_id):
            raise invalid(
                "assigneeId",
                TicketErrorCode.ASSIGNEE_NOT_AGENT,
                "Tickets are assigned to active support agents or staff of the tenant only.",
            )
        if ticket.assignee_id == assignee_id:
            return
        now = touch(ticket)
        old = str(ticket.assignee_id) if ticket.assignee_id else None
        new = str(assignee_id) if assignee_id else None
        record_change(session, ticket, "assignee", old, new, actor_id=principal.person_id, at=now)
        ticket.assignee_id = assignee_id
        announce(session, ticket, ChangeKind.ASSIGNED, actor_id=principal.person_id)

    return await _change(ctx, ticket_id, apply)


async def set_status(ctx: ServiceContext, ticket_id: uuid.UUID, target: TicketStatus) -> Ticket:
    """Staff: any move the state machine allows."""
    ctx.require_role(*TICKET_STAFF)

    async def apply(session: AsyncSession, principal: Principal, ticket: Ticket) -> None:
        move(session, ticket, target, actor_id=principal.person_id)

    return await _change(ctx, ticket_id, apply)


async def close_ticket(ctx: ServiceContext, ticket_id: uuid.UUID) -> Ticket:
    """The requester or staff: any ticket that is not CLOSED already goes to CLOSED."""

    async def apply(session: AsyncSession, principal: Principal, ticket: Ticket) -> None:
        move(session, ticket, S.CLOSED, actor_id=principal.person_id)

    return await _change(ctx, ticket_id, apply)


async def reopen_ticket(ctx: ServiceContext, ticket_id: uuid.UUID) -> Ticket:
    """SOLVED or CLOSED -> OPEN: staff always; the requester within ``ticket_reopen_window_days``
    of its resolution (when it was SOLVED, or CLOSED without being SOLVED)."""
    window = timedelta(days=ctx.settings.ticket_reopen_window_days)

    async def apply(session: AsyncSession, principal: Principal, ticket: Ticket) -> None:
        if ticket.status not in RESOLVED:
            raise refuse(ticket, S.OPEN)
        resolved_at = ticket.solved_at or ticket.closed_at
        if not is_staff(principal) and resolved_at is not None and utcnow() - resolved_at > window:
            raise invalid(
                None,
                TicketErrorCode.REOPEN_WINDOW_EXPIRED,
                f"A ticket is reopened by its requester within {window.days} days of its resolution: "
                "open a new one.",
            )
        move(session, ticket, S.OPEN, actor_id=principal.person_id)

    return await _change(ctx, ticket_id, apply)


async def add_comment(
    ctx: ServiceContext, ticket_id: uuid.UUID, body: str, *, internal: bool = False
) -> tuple[Ticket, TicketComment]:
    """A public reply, or an internal note (staff only). The first public reply of a staff member
    other than the requester sets the ticket's first-response time."""
    text = _text("body", body, MAX_COMMENT_CHARS)
    added: list[TicketComment] = []

    async def apply(session: AsyncSession, principal: Principal, ticket: Ticket) -> None:
        staff = is_staff(principal)
        if internal and not staff:
            raise invalid("internal", TicketErrorCode.NOT_ALLOWED, "Only support staff write internal notes.")
        if ticket.status == S.CLOSED:
            raise invalid(
                None, TicketErrorCode.TICKET_CLOSED, "A CLOSED ticket takes no comments: reopen it."
            )
        now = touch(ticket)
        comment = TicketComment(
            id=uuid.uuid4(),
            tenant_id=ticket.tenant_id,
            ticket_id=ticket.id,
            author_id=principal.person_id,
            body=text,
            internal=internal,
            created_at=now,
        )
        session.add(comment)
        if (
            staff
            and not internal
            and principal.user_id != ticket.requester_id
            and ticket.first_response_at is None
        ):
            ticket.first_response_at = now
        announce(
            session,
            ticket,
            ChangeKind.COMMENT,
            actor_id=principal.person_id,
            comment_id=comment.id,
            internal=internal,
        )
        added.append(comment)

    ticket = await _change(ctx, ticket_id, apply)
    return ticket, added[0]
