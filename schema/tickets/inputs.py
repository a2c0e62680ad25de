"""Support ticket inputs and payloads."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from models.tickets import TicketPriority, TicketStatus
from schema.errors import UserError, user_errors_field
from schema.tickets.types import Ticket, TicketComment


@strawberry.input(description="A new support ticket of yours.")
class CreateTicketInput:
    subject: str = strawberry.field(description="What it is about (1 to 200 characters).")
    description: str = strawberry.field(description="The request in full (1 to 20000 characters).")
    priority: TicketPriority = strawberry.field(
        default=TicketPriority.NORMAL, description="How urgent it is."
    )
    category: str | None = strawberry.field(
        default=None, description="A free category (at most 64 characters)."
    )
    order_id: relay.GlobalID | None = strawberry.field(
        default=None, description="An order of yours it is about (NOT_FOUND if you cannot see it)."
    )
    provisioning_request_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="A provisioning request of yours it is about (NOT_FOUND if you cannot see it).",
    )


@strawberry.input(description="What to change in a ticket; omitted fields stay as they are.")
class UpdateTicketInput:
    id: relay.GlobalID = strawberry.field(description="The ticket's global id.")
    subject: str | None = strawberry.field(default=None, description="A new subject (1 to 200 characters).")
    description: str | None = strawberry.field(default=None, description="A new description.")
    category: str | None = strawberry.field(
        default=None, description="A new category; an empty string removes it."
    )
    priority: TicketPriority | None = strawberry.field(
        default=None, description="A new priority (support staff only: NOT_ALLOWED for the requester)."
    )


@strawberry.input(description="Who works on a ticket.")
class AssignTicketInput:
    id: relay.GlobalID = strawberry.field(description="The ticket's global id.")
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A support agent (or staff member) of the tenant; null unassigns."
    )


@strawberry.input(description="A ticket to move.")
class TicketInput:
    id: relay.GlobalID = strawberry.field(description="The ticket's global id.")


@strawberry.input(description="A ticket and the status to move it to.")
class SetTicketStatusInput:
    id: relay.GlobalID = strawberry.field(description="The ticket's global id.")
    status: TicketStatus = strawberry.field(
        description="The status to move it to (the state machine decides)."
    )


@strawberry.input(description="A comment on a ticket.")
class AddTicketCommentInput:
    ticket_id: relay.GlobalID = strawberry.field(description="The ticket's global id.")
    body: str = strawberry.field(description="What to say (1 to 20000 characters).")
    internal: bool = strawberry.field(
        default=False, description="A staff-only internal note, never shown to the requester (staff only)."
    )


@strawberry.input(description="Which tickets to list; the conditions given all apply.")
class TicketFilterInput:
    status: TicketStatus | None = strawberry.field(default=None, description="Only in this status.")
    priority: TicketPriority | None = strawberry.field(default=None, description="Only with this priority.")
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only assigned to this user."
    )
    requester_id: relay.GlobalID | None = strawberry.field(default=None, description="Staff: one user's.")
    category: str | None = strawberry.field(default=None, description="Only in this category.")
    created_after: datetime | None = strawberry.field(
        default=None, description="Opened at or after this time (with a timezone offset)."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Opened before this time (with a timezone offset)."
    )


@strawberry.type(description="The result of a ticket change: the ticket as it is now, or userErrors.")
class TicketPayload:
    ticket: Ticket | None = strawberry.field(default=None, description="The ticket after it.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of addTicketComment: the comment and its ticket, or userErrors.")
class AddTicketCommentPayload:
    ticket: Ticket | None = strawberry.field(default=None, description="The ticket after it.")
    comment: TicketComment | None = strawberry.field(default=None, description="The new comment.")
    user_errors: list[UserError] = user_errors_field()
