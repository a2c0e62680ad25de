"""Stream and moderation inputs and payloads."""

from __future__ import annotations

import strawberry
from strawberry import relay

from models.streams import ReportAction, ReportStatus, ReportTarget
from schema.errors import UserError, user_errors_field
from schema.streams.types import ModerationReport, Stream, StreamKey


@strawberry.input(description="A new stream of yours (DRAFT, with a key of its own).")
class CreateStreamInput:
    title: str = strawberry.field(description="1 to 200 characters.")
    description: str | None = strawberry.field(
        default=None, description="What it is about; at most 5000 characters."
    )
    category: str | None = strawberry.field(default=None, description="Its category; at most 100 characters.")
    tags: list[str] | None = strawberry.field(default=None, description="At most 20 tags of 50 characters.")


@strawberry.input(description="What changes on your stream; omitted fields stay as they are.")
class UpdateStreamInput:
    id: relay.GlobalID = strawberry.field(description="The stream's global id.")
    title: str | None = strawberry.field(default=None, description="1 to 200 characters.")
    description: str | None = strawberry.field(
        default=None, description="What it is about; at most 5000 characters."
    )
    category: str | None = strawberry.field(default=None, description="Its category; empty clears it.")
    tags: list[str] | None = strawberry.field(default=None, description="The new tags (replacing the old).")


@strawberry.input(description="Which stream's key to replace.")
class RegenerateStreamKeyInput:
    id: relay.GlobalID | None = strawberry.field(
        default=None, description="The stream's global id; your newest stream when omitted."
    )


@strawberry.input(description="A LIVE stream's viewers now (the ingest side reports them).")
class SetStreamViewerCountInput:
    id: relay.GlobalID = strawberry.field(description="The stream's global id.")
    viewer_count: int = strawberry.field(description="Viewers now, 0 or more.")


@strawberry.input(description="Which streams to list; the conditions given all apply.")
class StreamFilterInput:
    is_live: bool | None = strawberry.field(
        default=None, description="Only LIVE ones (true) or only others (false)."
    )
    category: str | None = strawberry.field(default=None, description="Only of this category.")
    owner_id: relay.GlobalID | None = strawberry.field(default=None, description="Only this user's.")


@strawberry.input(description="A report of a user, stream or comment for the tenant's moderators.")
class ReportContentInput:
    target_type: ReportTarget = strawberry.field(description="What you report.")
    target_id: relay.GlobalID = strawberry.field(
        description="The user's or stream's global id (a comment's id as a global id of type Comment)."
    )
    reason: str = strawberry.field(description="Why, 1 to 100 characters.")
    details: str | None = strawberry.field(
        default=None, description="More about it, at most 2000 characters."
    )


@strawberry.input(description="How a moderator closes a report.")
class ResolveReportInput:
    id: relay.GlobalID = strawberry.field(description="The report's global id.")
    action: ReportAction = strawberry.field(description="RESOLVE, DISMISS, BAN or WARN.")
    note: str | None = strawberry.field(
        default=None, description="The moderator's note, at most 500 characters."
    )


@strawberry.input(description="Which reports to list.")
class ModerationReportFilterInput:
    status: ReportStatus | None = strawberry.field(
        default=None, description="Only in this status; all when omitted."
    )


@strawberry.type(description="The result of a stream change: the stream as it is now, or userErrors.")
class StreamPayload:
    stream: Stream | None = strawberry.field(default=None, description="The stream after it.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="Your (new) stream key, or userErrors.")
class StreamKeyPayload:
    stream_key: StreamKey | None = strawberry.field(default=None, description="The key and its stream.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of a report or its resolution.")
class ModerationReportPayload:
    report: ModerationReport | None = strawberry.field(default=None, description="The report after it.")
    user_errors: list[UserError] = user_errors_field()
