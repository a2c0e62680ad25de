"""Support ticket resolvers: tickets, statistics and analytics; creating, editing, assigning,
moving and commenting on tickets; the ``ticketUpdated`` subscription."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from datetime import date
from functools import partial
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.permissions import TICKET_STAFF
from models.tickets import Ticket as TicketModel
from schema.directives import AUTHENTICATED, HasRole, access
from schema.errors import mutation_payload
from schema.live import shared_payload
from schema.nodes import node_or_not_found, optional_reference, parse_uuid
from schema.pagination import FILTER, After, Before, Connection, First, Last, connection, page_args
from schema.tickets.inputs import (
    AddTicketCommentInput,
    AddTicketCommentPayload,
    AssignTicketInput,
    CreateTicketInput,
    SetTicketStatusInput,
    TicketFilterInput,
    TicketInput,
    TicketPayload,
    UpdateTicketInput,
)
from schema.tickets.types import Ticket, TicketComment, TicketDay, TicketStatistics, TicketUpdate
from services.tickets import live, reads, tickets
from services.tickets.reads import TicketFilter
from services.tickets.tickets import NewTicket, TicketEdit

STAFF = HasRole(*TICKET_STAFF)
TicketArgument = Annotated[TicketInput, strawberry.argument(description="The ticket.")]


def _payload(ticket: TicketModel) -> TicketPayload:
    return TicketPayload(ticket=Ticket.from_model(ticket))


def _ticket_id(raw: relay.GlobalID) -> uuid.UUID:
    return parse_uuid(raw, "Ticket")


def _update(event: live.TicketEvent) -> TicketUpdate:
    return TicketUpdate(
        ticket=Ticket.from_model(event.ticket),
        change=event.change,
        status=event.ticket.status,
        comment=TicketComment.from_model(event.comment) if event.comment else None,
        actor_uuid=event.actor_id,
    )


@strawberry.type
class TicketQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="A support ticket: yours, or any of the tenant's for SUPPORT_AGENT, MANAGER and "
        "TENANT_ADMIN (NOT_FOUND otherwise).",
    )
    async def ticket(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The ticket's global id.")],
    ) -> Ticket:
        return await node_or_not_found(Ticket, info, id)

    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="Your support tickets, newest first; SUPPORT_AGENT, MANAGER and TENANT_ADMIN see "
        "all of the tenant's.",
    )
    async def tickets(
        self,
        info: Info,
        filter: Annotated[TicketFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Ticket]:
        f = filter or TicketFilterInput()
        page = await reads.list_tickets(
            info.context.services,
            TicketFilter(
                status=f.status,
                priority=f.priority,
                assignee_id=optional_reference(f.assignee_id, "User"),
                requester_id=optional_reference(f.requester_id, "User"),
                category=f.category,
                created_after=f.created_after,
                created_before=f.created_before,
            ),
            page_args(first, after, last, before),
        )
        return connection(page, Ticket.from_model)

    @strawberry.field(
        extensions=access(STAFF),
        description="The tenant's ticket figures: per status, unresolved per priority, mean first-response "
        "and resolution times, per agent. SUPPORT_AGENT, MANAGER and TENANT_ADMIN.",
    )
    async def ticket_statistics(self, info: Info) -> TicketStatistics:
        return TicketStatistics.from_result(await reads.statistics(info.context.services))

    @strawberry.field(
        extensions=access(STAFF),
        description=f"Tickets opened, solved and closed per UTC day, `from` to `to` (both included, at "
        f"most {reads.MAX_ANALYTICS_DAYS} days). SUPPORT_AGENT, MANAGER and TENANT_ADMIN.",
    )
    async def ticket_analytics(
        self,
        info: Info,
        from_day: Annotated[date, strawberry.argument(name="from", description="The first day (UTC).")],
        to_day: Annotated[date, strawberry.argument(name="to", description="The last day (UTC).")],
    ) -> list[TicketDay]:
        days = await reads.analytics(info.context.services, from_day, to_day)
        return [TicketDay.from_result(day) for day in days]


@strawberry.type
class TicketMutation:
    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Open a support ticket (OPEN, numbered next in the tenant). Any signed-in user.",
    )
    async def create_ticket(
        self, info: Info, input: Annotated[CreateTicketInput, strawberry.argument(description="The ticket.")]
    ) -> TicketPayload:
        new = NewTicket(
            subject=input.subject,
            description=input.description,
            priority=input.priority,
            category=input.category,
            order_id=optional_reference(input.order_id, "Order"),
            provisioning_request_id=optional_reference(input.provisioning_request_id, "ProvisioningRequest"),
        )
        return await mutation_payload(
            TicketPayload, tickets.create_ticket(info.context.services, new), _payload
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Edit a ticket: its requester the subject, description and category; staff also the "
        "priority.",
    )
    async def update_ticket(
        self, info: Info, input: Annotated[UpdateTicketInput, strawberry.argument(description="The changes.")]
    ) -> TicketPayload:
        edit = TicketEdit(
            subject=input.subject,
            description=input.description,
            category=input.category or None,
            clear_category=input.category == "",
            priority=input.priority,
        )
        call = tickets.update_ticket(info.context.services, _ticket_id(input.id), edit)
        return await mutation_payload(TicketPayload, call, _payload)

    @strawberry.mutation(
        extensions=access(STAFF),
        description="Assign a ticket to a support agent (or staff member) of the tenant, or unassign it. "
        "SUPPORT_AGENT, MANAGER and TENANT_ADMIN.",
    )
    async def assign_ticket(
        self,
        info: Info,
        input: Annotated[AssignTicketInput, strawberry.argument(description="The assignment.")],
    ) -> TicketPayload:
        assignee = optional_reference(input.assignee_id, "User")
        call = tickets.assign_ticket(info.context.services, _ticket_id(input.id), assignee)
        return await mutation_payload(TicketPayload, call, _payload)

    @strawberry.mutation(
        extensions=access(STAFF),
        description="Move a ticket to a status the state machine allows (INVALID_TRANSITION otherwise). "
        "SUPPORT_AGENT, MANAGER and TENANT_ADMIN.",
    )
    async def set_ticket_status(
        self,
        info: Info,
        input: Annotated[SetTicketStatusInput, strawberry.argument(description="The ticket and status.")],
    ) -> TicketPayload:
        call = tickets.set_status(info.context.services, _ticket_id(input.id), input.status)
        return await mutation_payload(TicketPayload, call, _payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Close a ticket (any status but CLOSED). Its requester or staff.",
    )
    async def close_ticket(self, info: Info, input: TicketArgument) -> TicketPayload:
        call = tickets.close_ticket(info.context.services, _ticket_id(input.id))
        return await mutation_payload(TicketPayload, call, _payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Reopen a SOLVED or CLOSED ticket (to OPEN): its requester within the reopening "
        "window (`ticket_reopen_window_days`, 7 by default), staff always.",
    )
    async def reopen_ticket(self, info: Info, input: TicketArgument) -> TicketPayload:
        call = tickets.reopen_ticket(info.context.services, _ticket_id(input.id))
        return await mutation_payload(TicketPayload, call, _payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Comment on a ticket: its requester or staff; internal notes by staff only. The "
        "first public staff reply sets the first-response time.",
    )
    async def add_ticket_comment(
        self,
        info: Info,
        input: Annotated[AddTicketCommentInput, strawberry.argument(description="The comment.")],
    ) -> AddTicketCommentPayload:
        call = tickets.add_comment(
            info.context.services, _ticket_id(input.ticket_id), input.body, internal=input.internal
        )
        return await mutation_payload(
            AddTicketCommentPayload,
            call,
            lambda done: AddTicketCommentPayload(
                ticket=Ticket.from_model(done[0]), comment=TicketComment.from_model(done[1])
            ),
        )


@strawberry.type
class TicketSubscription:
    @strawberry.subscription(
        extensions=access(AUTHENTICATED),
        description="One ticket's changes from now on: status, assignment, edits and public comments "
        "(internal notes to staff only). Its requester, or staff (NOT_FOUND otherwise).",
    )
    async def ticket_updated(
        self,
        info: Info,
        ticket_id: Annotated[relay.GlobalID, strawberry.argument(description="The ticket's global id.")],
    ) -> AsyncGenerator[TicketUpdate, None]:
        context = info.context
        events = live.ticket_updates(context.services, context.fanout, context.access, _ticket_id(ticket_id))
        async for event in events:
            context.resolve_event_with(event.loaders)
            yield shared_payload(event.memo, partial(_update, event))
