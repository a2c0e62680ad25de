"""Demo support tickets: each demo tenant's user has two tickets, one answered by the manager in
public with an internal note beside it, the other still waiting; seeding again adds nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.identity.accounts import Tenant, User
from models.tickets import Ticket, TicketComment, TicketPriority, TicketStatus
from services.tickets.states import record_change
from services.tickets.tickets import NewTicket, add_ticket

DEMO_TICKETS = (
    (
        "The database is slow since Monday",
        "Queries take seconds that took milliseconds.",
        TicketPriority.HIGH,
    ),
    ("Can I get my invoice as PDF?", "I need it for my accountant.", TicketPriority.LOW),
)


async def _user(session: AsyncSession, tenant: Tenant, local: str) -> User | None:
    user: User | None = await session.scalar(
        select(User).where(User.tenant_id == tenant.id, User.email == f"{local}@{tenant.slug}.example")
    )
    return user


async def seed_demo_tickets(session: AsyncSession, tenant: Tenant) -> None:
    """Idempotent: the tickets once per demo user."""
    user, manager = await _user(session, tenant, "user"), await _user(session, tenant, "manager")
    if user is None or manager is None:
        return
    if await session.scalar(select(Ticket.id).where(Ticket.requester_id == user.id).limit(1)):
        return
    start = utcnow() - timedelta(hours=3)
    for index, (subject, description, priority) in enumerate(DEMO_TICKETS):
        answered = index == 0
        opened = start + timedelta(hours=index)
        ticket = await add_ticket(
            session,
            NewTicket(subject, description, priority, "database" if answered else "billing"),
            tenant_id=tenant.id,
            requester_id=user.id,
            at=opened,
        )
        if not answered:
            continue
        ticket.status, ticket.assignee_id = TicketStatus.PENDING, manager.id
        ticket.updated_at = ticket.first_response_at = opened + timedelta(minutes=20)
        for minutes, body, internal in (
            (15, "Their plan is the smallest size: suggest the next one.", True),
            (20, "We see heavy load on your instance; would a larger size suit you?", False),
        ):
            session.add(
                TicketComment(
                    id=uuid.uuid4(),
                    tenant_id=tenant.id,
                    ticket_id=ticket.id,
                    author_id=manager.id,
                    body=body,
                    internal=internal,
                    created_at=opened + timedelta(minutes=minutes),
                )
            )
        at = opened + timedelta(minutes=20)
        record_change(session, ticket, "assignee", None, str(manager.id), actor_id=manager.id, at=at)
        record_change(session, ticket, "status", "OPEN", "PENDING", actor_id=manager.id, at=at)
    await session.flush()
