"""Stream types: the stream (federation entity and Relay node) with its owner-only key, the
caller's key with the RTMP URL, the live event, and moderation reports."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import streams as models
from models.streams import ReportAction, ReportStatus, ReportTarget, StreamStatus
from schema.enums import documented_enum
from schema.identity.accounts import User, readable_user, user_of
from schema.live import SharedPayload
from schema.nodes import Entity, load_nodes, node_type
from services.streams.streams import can_read_stream, is_moderator, key_for_viewer

documented_enum(
    StreamStatus,
    "DRAFT -> LIVE (the ingest server's on_publish) -> ENDED (on_publish_done, or a ban); an "
    "ENDED stream goes LIVE again when its key publishes again.",
    {
        StreamStatus.DRAFT: "Made, never published yet.",
        StreamStatus.LIVE: "Being published now.",
        StreamStatus.ENDED: "Was live; the publish ended.",
    },
)
documented_enum(
    ReportTarget,
    "What a moderation report is about.",
    {
        ReportTarget.USER: "A user of the tenant.",
        ReportTarget.STREAM: "A stream of the tenant.",
        ReportTarget.COMMENT: "A comment (kept as reported; no comment domain checks it yet).",
    },
    name="ModerationReportTarget",
)
documented_enum(
    ReportStatus,
    "Where a moderation report is.",
    {
        ReportStatus.PENDING: "Waiting for a moderator.",
        ReportStatus.RESOLVED: "Closed with RESOLVE, WARN or BAN.",
        ReportStatus.DISMISSED: "Closed with DISMISS: nothing to act on.",
    },
    name="ModerationReportStatus",
)
documented_enum(
    ReportAction,
    "How a moderator closes a report.",
    {
        ReportAction.RESOLVE: "Handled (RESOLVED).",
        ReportAction.DISMISS: "Nothing to act on (DISMISSED).",
        ReportAction.BAN: "RESOLVED, and the stream (or every stream of the user) is banned: "
        "ingest refuses its key and a live one ends.",
        ReportAction.WARN: "RESOLVED; the warning is the report's record.",
    },
    name="ModerationAction",
)


@node_type
@strawberry.federation.type(keys=["id"], name="Stream", description="A user's live stream.")
class Stream(Entity):
    stream_id: relay.NodeID[str]
    title: str = strawberry.field(description="Its title.")
    description: str = strawberry.field(description="What it is about (may be empty).")
    category: str | None = strawberry.field(description="Its category, when one is set.")
    tags: list[str] = strawberry.field(description="Its tags (at most 20).")
    status: StreamStatus = strawberry.field(description="DRAFT, LIVE or ENDED.")
    viewer_count: int = strawberry.field(
        description="Viewers now, as the ingest side reports (0 unless LIVE)."
    )
    banned: bool = strawberry.field(description="Banned by a moderator: ingest refuses its key.")
    started_at: datetime | None = strawberry.field(description="When it last went LIVE (UTC).")
    ended_at: datetime | None = strawberry.field(description="When it last ENDED (UTC).")
    created_at: datetime = strawberry.field(description="When it was made (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    owner_uuid: strawberry.Private[uuid.UUID]
    sealed_key: strawberry.Private[str]

    @classmethod
    def from_model(cls, stream: models.Stream) -> Self:
        return cls(
            stream_id=str(stream.id),
            title=stream.title,
            description=stream.description,
            category=stream.category,
            tags=list(stream.tags or []),
            status=stream.status,
            viewer_count=stream.viewer_count,
            banned=stream.banned,
            started_at=stream.started_at,
            ended_at=stream.ended_at,
            created_at=stream.created_at,
            updated_at=stream.updated_at,
            owner_uuid=stream.user_id,
            sealed_key=stream.key_ciphertext,
        )

    @strawberry.field(description="True while it is LIVE.")
    def is_live(self) -> bool:
        return self.status is StreamStatus.LIVE

    @strawberry.field(description="Who streams it.")
    async def owner(self, info: Info) -> User:
        return await user_of(info, self.owner_uuid)

    @strawberry.field(
        description="The key the streamer's encoder publishes with: its owner's alone, null for "
        "anyone else (moderators and admins included)."
    )
    def stream_key(self, info: Info) -> str | None:
        return key_for_viewer(
            info.context.services, uuid.UUID(self.stream_id), self.owner_uuid, self.sealed_key
        )

    @strawberry.field(description="Where the encoder publishes to (the platform's RTMP ingest URL).")
    def rtmp_ingest_url(self, info: Info) -> str:
        return str(info.context.services.settings.stream_rtmp_ingest_url)

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        """A banned stream is out of reach (NOT_FOUND) but for its owner and moderators."""
        principal = info.context.principal
        return await load_nodes(
            node_ids,
            "Stream",
            info.context.loaders.streams.stream,
            cls.from_model,
            lambda stream: can_read_stream(principal, stream),
        )


@strawberry.type(description="Your stream key, the stream it publishes and where to publish it.")
class StreamKey:
    stream: Stream = strawberry.field(
        description="The stream the key publishes (a DRAFT one made if you had none)."
    )
    stream_key: str = strawberry.field(
        description="The key (keep it secret; regenerateStreamKey replaces it)."
    )
    rtmp_ingest_url: str = strawberry.field(
        description="The RTMP URL to publish to, with the key as stream name."
    )


@strawberry.type(description="A stream went LIVE or ENDED, or its viewer count changed.")
class StreamStatusChangedEvent(SharedPayload):
    stream: Stream = strawberry.field(description="The stream as it is now.")
    status: StreamStatus = strawberry.field(description="Its status now.")
    is_live: bool = strawberry.field(description="True while it is LIVE.")
    viewer_count: int = strawberry.field(description="Its viewers now.")
    from_status: StreamStatus | None = strawberry.field(
        name="from", description="The status it left; null when only the viewer count changed."
    )


@node_type
@strawberry.federation.type(
    keys=["id"], name="ModerationReport", description="A report of a user, stream or comment, for moderators."
)
class ModerationReport(Entity):
    report_id: relay.NodeID[str]
    target_type: ReportTarget = strawberry.field(description="What is reported.")
    target_id: strawberry.ID = strawberry.field(
        description="The reported user's, stream's or comment's id (a UUID)."
    )
    reason: str = strawberry.field(description="Why, in a few words.")
    details: str = strawberry.field(description="More about it (may be empty).")
    status: ReportStatus = strawberry.field(description="PENDING, RESOLVED or DISMISSED.")
    action: ReportAction | None = strawberry.field(description="How it was closed; null while PENDING.")
    resolution_note: str | None = strawberry.field(description="The moderator's note, when one was given.")
    created_at: datetime = strawberry.field(description="When it was reported (UTC).")
    resolved_at: datetime | None = strawberry.field(description="When it was closed (UTC).")
    reporter_uuid: strawberry.Private[uuid.UUID]
    resolver_uuid: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, report: models.ModerationReport) -> Self:
        return cls(
            report_id=str(report.id),
            target_type=report.target_type,
            target_id=strawberry.ID(str(report.target_id)),
            reason=report.reason,
            details=report.details,
            status=report.status,
            action=report.action,
            resolution_note=report.resolution_note,
            created_at=report.created_at,
            resolved_at=report.resolved_at,
            reporter_uuid=report.reporter_id,
            resolver_uuid=report.resolved_by_id,
        )

    @strawberry.field(description="Who reported it.")
    async def reporter(self, info: Info) -> User:
        return await user_of(info, self.reporter_uuid)

    @strawberry.field(description="The moderator who closed it, when you may see them.")
    async def resolved_by(self, info: Info) -> User | None:
        return await readable_user(info, self.resolver_uuid)

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        """Moderators only; for anyone else a report does not exist."""
        principal = info.context.principal
        return await load_nodes(
            node_ids,
            "ModerationReport",
            info.context.loaders.streams.report,
            cls.from_model,
            lambda _report: principal is not None and is_moderator(principal),
        )
