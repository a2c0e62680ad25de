"""The ``ticketUpdated`` stream: the changes of one ticket (status, assignment, edits and public
comments; internal notes to staff only), each event read once per process as the ticket is *now*
(``load_change``), and judged per subscriber with its access as it stands at that event."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from core.errors import NotFound
from core.principal import Principal
from core.scope import TenantScope
from loaders import Loaders
from models.db import Database
from models.tickets import Ticket, TicketComment
from realtime.fanout import Fanout
from services.context import ServiceContext
from services.identity.access import AccessStore
from services.identity.live import live_events, only_id
from services.tickets.states import TICKET_CHANGED, ChangeKind
from services.tickets.tickets import can_read_ticket, is_staff


@dataclass(frozen=True, slots=True)
class TicketEvent:
    """One change as every subscriber of this process gets it: the ticket (and comment) read once
    for the event, the loaders their relations load through, and what the event said."""

    ticket: Ticket
    change: ChangeKind
    actor_id: uuid.UUID | None
    comment: TicketComment | None
    internal: bool
    loaders: Loaders
    memo: dict[str, Any] = field(default_factory=dict, compare=False)


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


async def load_change(db: Database, message: dict[str, Any]) -> TicketEvent | None:
    """The event's ticket as it is now, in the event's tenant; None when it is gone."""
    payload = message["payload"]
    loaders = Loaders(db, TenantScope.of(uuid.UUID(message["tenantId"])))
    ticket = await loaders.tickets.ticket.load(uuid.UUID(payload["ticket_id"]))
    if ticket is None:
        return None
    comment_id = _uuid(payload.get("comment_id"))
    comment = await loaders.tickets.comment.load(comment_id) if comment_id else None
    return TicketEvent(
        ticket=ticket,
        change=ChangeKind(payload["change"]),
        actor_id=_uuid(payload.get("actor_id")),
        comment=comment,
        internal=bool(payload.get("internal")),
        loaders=loaders,
    )


def _visible(ticket_id: uuid.UUID, principal: Principal, event: TicketEvent) -> bool:
    return (
        only_id(ticket_id, event.ticket.id)
        and can_read_ticket(principal, event.ticket)
        and (not event.internal or is_staff(principal))
    )


async def ticket_updates(
    services: ServiceContext, fanout: Fanout, access: AccessStore, ticket_id: uuid.UUID
) -> AsyncIterator[TicketEvent]:
    """The changes of one ticket the caller may see (NOT_FOUND otherwise), from now on."""
    principal = await access.current(services.require_principal())
    async with services.db.session(principal.scope) as session:
        ticket = await session.get(Ticket, ticket_id)
    if ticket is None or not can_read_ticket(principal, ticket):
        raise NotFound("Ticket")
    prepare = partial(load_change, services.db)
    visible = partial(_visible, ticket_id)
    async for event in live_events(services, fanout, access, TICKET_CHANGED, prepare, visible):
        yield event
