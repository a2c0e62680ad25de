"""The ``code`` of every userError of the ticket mutations."""

from __future__ import annotations

import enum


class TicketErrorCode(enum.StrEnum):
    INVALID_TRANSITION = "INVALID_TRANSITION"  # the state machine forbids the move
    REQUIRED = "REQUIRED"  # an empty subject, description or comment
    TOO_LONG = "TOO_LONG"  # over a field's maximum length
    NOT_FOUND = "NOT_FOUND"  # a related order or provisioning request the caller cannot see
    NOT_ALLOWED = "NOT_ALLOWED"  # a field or kind of comment the caller may not set
    ASSIGNEE_NOT_AGENT = "ASSIGNEE_NOT_AGENT"  # not a support agent (or staff) of the tenant
    REOPEN_WINDOW_EXPIRED = "REOPEN_WINDOW_EXPIRED"  # the requester's reopening window has passed
    TICKET_CLOSED = "TICKET_CLOSED"  # a CLOSED ticket takes no comments (reopen it first)
