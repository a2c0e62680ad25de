"""Support ticket types: tickets (federation entity and Relay node) with their comments and
history, live updates, statistics and analytics."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from loaders.pagination import ChildPageKey
from models import tickets as models
from models.tickets import TicketPriority, TicketStatus
from schema.enums import documented_enum
from schema.identity.accounts import User, readable_user, user_of
from schema.live import SharedPayload
from schema.nodes import Entity, load_nodes, node_or_none, node_type
from schema.orders.types import Order
from schema.pagination import After, Before, Connection, First, Last, connection, page_args
from schema.provisioning.types import ProvisioningRequest
from services.tickets import reads
from services.tickets.reads import first_response_seconds, resolution_seconds
from services.tickets.states import ChangeKind
from services.tickets.tickets import can_read_ticket, is_staff

S = TicketStatus
P = TicketPriority
documented_enum(
    TicketStatus,
    "OPEN, PENDING and ON_HOLD move among each other and to SOLVED or CLOSED; SOLVED -> CLOSED; "
    "SOLVED and CLOSED are reopened to OPEN.",
    {
        S.OPEN: "Waiting for the support team.",
        S.PENDING: "Waiting for the requester's answer.",
        S.ON_HOLD: "Waiting for someone else (a third party, a release).",
        S.SOLVED: "Answered: the requester may reopen it within the reopening window.",
        S.CLOSED: "Done with; takes no comments (reopen it first).",
    },
)
documented_enum(
    TicketPriority,
    "How urgent a ticket is (staff set it after creation).",
    {P.LOW: "Whenever there is time.", P.NORMAL: "The default.", P.HIGH: "Soon.", P.URGENT: "Now."},
)
documented_enum(
    ChangeKind,
    "What changed in a ticket.",
    {
        ChangeKind.CREATED: "The ticket was opened.",
        ChangeKind.UPDATED: "Its subject, description, category or priority changed.",
        ChangeKind.STATUS: "Its status changed.",
        ChangeKind.ASSIGNED: "It was assigned to someone else (or unassigned).",
        ChangeKind.COMMENT: "A comment was added (internal notes reach staff only).",
    },
    name="TicketChangeKind",
)


@strawberry.type(description="A reply on a ticket, or a staff-only internal note.")
class TicketComment:
    id: strawberry.ID = strawberry.field(description="The comment's id.")
    body: str = strawberry.field(description="What was written.")
    internal: bool = strawberry.field(description="A staff-only note (never shown to the requester).")
    created_at: datetime = strawberry.field(description="When it was written (UTC).")
    author_uuid: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, comment: models.TicketComment) -> Self:
        return cls(
            id=strawberry.ID(str(comment.id)),
            body=comment.body,
            internal=comment.internal,
            created_at=comment.created_at,
            author_uuid=comment.author_id,
        )

    @strawberry.field(description="Who wrote it; null once the user is gone.")
    async def author(self, info: Info) -> User | None:
        return None if self.author_uuid is None else await user_of(info, self.author_uuid)


@strawberry.type(description="One change of a ticket's field (its history).")
class TicketHistoryEntry:
    field: str = strawberry.field(
        description="status, subject, description, category, priority or assignee (a user id)."
    )
    old_value: str | None = strawberry.field(name="from", description="The value before; null for none.")
    new_value: str | None = strawberry.field(name="to", description="The value after; null for none.")
    at: datetime = strawberry.field(description="When (UTC).")
    actor_uuid: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, change: models.TicketChange) -> Self:
        return cls(
            field=change.field,
            old_value=change.old_value,
            new_value=change.new_value,
            at=change.created_at,
            actor_uuid=change.actor_user_id,
        )

    @strawberry.field(description="Who changed it, when you may see them.")
    async def actor(self, info: Info) -> User | None:
        return await readable_user(info, self.actor_uuid)


@node_type
@strawberry.federation.type(keys=["id"], name="Ticket", description="A support ticket of a user in a tenant.")
class Ticket(Entity):
    ticket_id: relay.NodeID[str]
    number: int = strawberry.field(description="1, 2, 3, ... per tenant.")
    subject: str = strawberry.field(description="What it is about (at most 200 characters).")
    description: str = strawberry.field(description="The request in full (at most 20000 characters).")
    status: TicketStatus = strawberry.field(description="Where the ticket is in its life cycle.")
    priority: TicketPriority = strawberry.field(description="How urgent it is.")
    category: str | None = strawberry.field(
        description="A free category, e.g. billing (at most 64 characters)."
    )
    created_at: datetime = strawberry.field(description="When it was opened (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    first_response_at: datetime | None = strawberry.field(
        description="The support team's first public reply (UTC); null until then."
    )
    solved_at: datetime | None = strawberry.field(description="When it was SOLVED (UTC); null if it is not.")
    closed_at: datetime | None = strawberry.field(description="When it was CLOSED (UTC); null if it is not.")
    first_response_seconds: float | None = strawberry.field(
        description="Seconds from opening to the first public reply of the support team."
    )
    resolution_seconds: float | None = strawberry.field(
        description="Seconds from opening to SOLVED (or CLOSED, if never solved); null while open."
    )
    requester_uuid: strawberry.Private[uuid.UUID]
    assignee_uuid: strawberry.Private[uuid.UUID | None]
    order_uuid: strawberry.Private[uuid.UUID | None]
    provisioning_uuid: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, ticket: models.Ticket) -> Self:
        return cls(
            ticket_id=str(ticket.id),
            number=ticket.number,
            subject=ticket.subject,
            description=ticket.description,
            status=ticket.status,
            priority=ticket.priority,
            category=ticket.category,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            first_response_at=ticket.first_response_at,
            solved_at=ticket.solved_at,
            closed_at=ticket.closed_at,
            first_response_seconds=first_response_seconds(ticket),
            resolution_seconds=resolution_seconds(ticket),
            requester_uuid=ticket.requester_id,
            assignee_uuid=ticket.assignee_id,
            order_uuid=ticket.order_id,
            provisioning_uuid=ticket.provisioning_request_id,
        )

    @strawberry.field(description="Who opened it.")
    async def requester(self, info: Info) -> User:
        return await user_of(info, self.requester_uuid)

    @strawberry.field(description="The support agent (or staff member) working on it; null when unassigned.")
    async def assignee(self, info: Info) -> User | None:
        return None if self.assignee_uuid is None else await user_of(info, self.assignee_uuid)

    @strawberry.field(description="The order it is about; null when none or out of your reach.")
    async def order(self, info: Info) -> Order | None:
        return await node_or_none(Order, info, self.order_uuid)

    @strawberry.field(
        description="The provisioning request it is about; null when none or out of your reach."
    )
    async def provisioning_request(self, info: Info) -> ProvisioningRequest | None:
        return await node_or_none(ProvisioningRequest, info, self.provisioning_uuid)

    @strawberry.field(
        description="Its comments, oldest first: public replies, and internal notes for staff only."
    )
    async def comments(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[TicketComment]:
        loaders = info.context.loaders.tickets
        key = ChildPageKey(uuid.UUID(self.ticket_id), page_args(first, after, last, before))
        pages = loaders.all_comments if _is_staff(info) else loaders.public_comments
        return connection(await pages.load(key), TicketComment.from_model)

    @strawberry.field(description="How many comments you see (internal notes count for staff only).")
    async def comment_count(self, info: Info) -> int:
        loaders = info.context.loaders.tickets
        key = ChildPageKey(uuid.UUID(self.ticket_id), page_args(None, None, None, None))
        counts = loaders.all_comment_count if _is_staff(info) else loaders.public_comment_count
        total: int = await counts.load(key)
        return total

    @strawberry.field(description="Every change of its fields, oldest first, starting with its opening.")
    async def history(self, info: Info) -> list[TicketHistoryEntry]:
        changes = await info.context.loaders.tickets.history_of_ticket.load(uuid.UUID(self.ticket_id))
        return [TicketHistoryEntry.from_model(change) for change in changes]

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        """Tickets out of the caller's reach look exactly like tickets that do not exist."""
        principal = info.context.principal
        return await load_nodes(
            node_ids,
            "Ticket",
            info.context.loaders.tickets.ticket,
            cls.from_model,
            lambda ticket: can_read_ticket(principal, ticket),
        )


def _is_staff(info: Info) -> bool:
    principal = info.context.principal
    return principal is not None and is_staff(principal)


@strawberry.type(description="A ticket changed: its status, assignment, fields, or a new comment.")
class TicketUpdate(SharedPayload):
    ticket: Ticket = strawberry.field(description="The ticket as it is now.")
    change: ChangeKind = strawberry.field(description="What changed.")
    status: TicketStatus = strawberry.field(description="Its status now.")
    comment: TicketComment | None = strawberry.field(description="The new comment, for a COMMENT change.")
    actor_uuid: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="Who changed it, when you may see them.")
    async def actor(self, info: Info) -> User | None:
        return await readable_user(info, self.actor_uuid)


@strawberry.type(description="How many tickets are in one status.")
class TicketStatusCount:
    status: TicketStatus = strawberry.field(description="The status counted.")
    count: int = strawberry.field(description="Tickets in it.")


@strawberry.type(description="How many unresolved tickets have one priority.")
class TicketPriorityCount:
    priority: TicketPriority = strawberry.field(description="The priority counted.")
    count: int = strawberry.field(description="Tickets not SOLVED or CLOSED with it.")


@strawberry.type(description="One agent's tickets: assigned to them now, and how they went.")
class TicketAgentStatistics:
    assigned: int = strawberry.field(description="Tickets assigned to the agent, in any status.")
    solved: int = strawberry.field(description="Of these, SOLVED or CLOSED.")
    mean_resolution_seconds: float | None = strawberry.field(
        description="Their mean resolution time in seconds; null without any."
    )
    agent_uuid: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The support agent (or staff member) these figures are of.")
    async def agent(self, info: Info) -> User:
        return await user_of(info, self.agent_uuid)


@strawberry.type(description="The tenant's ticket figures.")
class TicketStatistics:
    total: int = strawberry.field(description="All tickets.")
    counts_by_status: list[TicketStatusCount] = strawberry.field(description="Tickets per status.")
    open_by_priority: list[TicketPriorityCount] = strawberry.field(
        description="Unresolved (not SOLVED or CLOSED) tickets per priority."
    )
    mean_first_response_seconds: float | None = strawberry.field(
        description="Mean seconds to the first public reply of the support team; null without any."
    )
    mean_resolution_seconds: float | None = strawberry.field(
        description="Mean seconds from opening to resolution of the resolved tickets; null without any."
    )
    agents: list[TicketAgentStatistics] = strawberry.field(
        description="Per agent with assigned tickets, most assigned first (at most 100)."
    )

    @classmethod
    def from_result(cls, result: reads.TicketStatistics) -> Self:
        return cls(
            total=result.total,
            counts_by_status=[TicketStatusCount(status=s, count=n) for s, n in result.by_status.items()],
            open_by_priority=[
                TicketPriorityCount(priority=p, count=n) for p, n in result.open_by_priority.items()
            ],
            mean_first_response_seconds=result.mean_first_response_seconds,
            mean_resolution_seconds=result.mean_resolution_seconds,
            agents=[
                TicketAgentStatistics(
                    assigned=a.assigned,
                    solved=a.solved,
                    mean_resolution_seconds=a.mean_resolution_seconds,
                    agent_uuid=a.agent_id,
                )
                for a in result.agents
            ],
        )


@strawberry.type(description="One UTC day of ticket analytics.")
class TicketDay:
    day: date = strawberry.field(description="The day (UTC).")
    created: int = strawberry.field(description="Tickets opened that day.")
    solved: int = strawberry.field(description="Tickets SOLVED that day (and not reopened since).")
    closed: int = strawberry.field(description="Tickets CLOSED that day (and not reopened since).")

    @classmethod
    def from_result(cls, result: reads.TicketDay) -> Self:
        return cls(day=result.day, created=result.created, solved=result.solved, closed=result.closed)
