"""Stream resolvers: the public list, one stream, your key; creating, updating, key
regeneration, viewer counts; moderation reports; the ``streamStatusChanged`` subscription."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial
from operator import attrgetter
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.permissions import STREAM_MODERATORS
from core.scopes import ApiScope
from schema.directives import AUTHENTICATED, SERVICE_ONLY, HasRole, HasScope, access
from schema.errors import mutation_payload
from schema.live import EventMessenger, shared_payload
from schema.nodes import node_or_not_found, optional_reference, parse_uuid, reference_uuid
from schema.pagination import FILTER, After, Before, Connection, First, Last, connection, page_args
from schema.streams.inputs import (
    CreateStreamInput,
    ModerationReportFilterInput,
    ModerationReportPayload,
    RegenerateStreamKeyInput,
    ReportContentInput,
    ResolveReportInput,
    SetStreamViewerCountInput,
    StreamFilterInput,
    StreamKeyPayload,
    StreamPayload,
    UpdateStreamInput,
)
from schema.streams.types import ModerationReport, Stream, StreamKey, StreamStatusChangedEvent
from services.streams import live, moderation, streams
from services.streams.moderation import NewReport
from services.streams.streams import StreamFields, StreamFilter

MODERATORS = HasRole(*STREAM_MODERATORS)
INGEST = HasScope(ApiScope.STREAMS_INGEST)


def _stream_payload(stream: streams.Stream) -> StreamPayload:
    return StreamPayload(stream=Stream.from_model(stream))


def _key(info: Info, found: streams.StreamKey) -> StreamKey:
    return StreamKey(
        stream=Stream.from_model(found.stream),
        stream_key=found.key,
        rtmp_ingest_url=info.context.services.settings.stream_rtmp_ingest_url,
    )


def _report_payload(report: moderation.ModerationReport) -> ModerationReportPayload:
    return ModerationReportPayload(report=ModerationReport.from_model(report))


def _event(change: live.StreamChange) -> StreamStatusChangedEvent:
    stream = change.stream
    return StreamStatusChangedEvent(
        stream=Stream.from_model(stream),
        status=stream.status,
        is_live=stream.status is streams.StreamStatus.LIVE,
        viewer_count=stream.viewer_count,
        from_status=change.from_status,
    )


@strawberry.type
class StreamQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="The tenant's streams, newest first (banned ones only for their owner and "
        "moderators). Any signed-in user of the tenant; anonymous callers read none.",
    )
    async def streams(
        self,
        info: Info,
        filter: Annotated[StreamFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Stream]:
        f = filter or StreamFilterInput()
        stream_filter = StreamFilter(
            is_live=f.is_live, category=f.category, owner_id=optional_reference(f.owner_id, "User")
        )
        page = await streams.list_streams(
            info.context.services, stream_filter, page_args(first, after, last, before)
        )
        return connection(page, Stream.from_model)

    @strawberry.field(
        extensions=access(AUTHENTICATED), description="One stream of the tenant. Any signed-in user."
    )
    async def stream(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The stream's global id.")],
    ) -> Stream:
        return await node_or_not_found(Stream, info, id)

    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="Your stream key and the RTMP URL, for your newest stream; a DRAFT stream is "
        "made when you have none. Signed-in users.",
    )
    async def my_stream_key(self, info: Info) -> StreamKey:
        return _key(info, await streams.my_stream_key(info.context.services))

    @strawberry.field(
        extensions=access(MODERATORS),
        description="Moderation reports of the tenant, newest first (platform admins: of every "
        "tenant, unless X-Tenant-Id names one). MANAGER and TENANT_ADMIN.",
    )
    async def moderation_reports(
        self,
        info: Info,
        filter: Annotated[ModerationReportFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ModerationReport]:
        status = filter.status if filter else None
        page = await moderation.list_reports(
            info.context.services, status, page_args(first, after, last, before)
        )
        return connection(page, ModerationReport.from_model)


@strawberry.type
class StreamMutation:
    @strawberry.mutation(
        extensions=access(AUTHENTICATED), description="A new DRAFT stream of yours. Signed-in users."
    )
    async def create_stream(
        self, info: Info, input: Annotated[CreateStreamInput, strawberry.argument(description="The stream.")]
    ) -> StreamPayload:
        fields = StreamFields(input.title, input.description, input.category, input.tags)
        call = streams.create_stream(info.context.services, fields)
        return await mutation_payload(StreamPayload, call, _stream_payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Change your stream's title, description, category or tags (FORBIDDEN for "
        "anyone but its owner). The owner.",
    )
    async def update_stream(
        self,
        info: Info,
        input: Annotated[UpdateStreamInput, strawberry.argument(description="What changes.")],
    ) -> StreamPayload:
        fields = StreamFields(input.title, input.description, input.category, input.tags)
        call = streams.update_stream(info.context.services, parse_uuid(input.id, "Stream"), fields)
        return await mutation_payload(StreamPayload, call, _stream_payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="A new key for your stream: ingest refuses the old one from now on. The owner.",
    )
    async def regenerate_stream_key(
        self,
        info: Info,
        input: Annotated[
            RegenerateStreamKeyInput | None, strawberry.argument(description="Which stream (your newest).")
        ] = None,
    ) -> StreamKeyPayload:
        stream_id = optional_reference(input.id, "Stream") if input else None
        call = streams.regenerate_stream_key(info.context.services, stream_id)
        return await mutation_payload(
            StreamKeyPayload, call, lambda found: StreamKeyPayload(stream_key=_key(info, found))
        )

    @strawberry.mutation(
        extensions=access(SERVICE_ONLY, INGEST),
        description="A LIVE stream's viewer count, as the ingest side sees it (service-only).",
    )
    async def set_stream_viewer_count(
        self,
        info: Info,
        input: Annotated[SetStreamViewerCountInput, strawberry.argument(description="The count.")],
    ) -> StreamPayload:
        call = streams.set_viewer_count(
            info.context.services, parse_uuid(input.id, "Stream"), input.viewer_count
        )
        return await mutation_payload(StreamPayload, call, _stream_payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Report a user, stream or comment to the tenant's moderators. Signed-in users.",
    )
    async def report_content(
        self, info: Info, input: Annotated[ReportContentInput, strawberry.argument(description="The report.")]
    ) -> ModerationReportPayload:
        type_name = {"USER": "User", "STREAM": "Stream", "COMMENT": "Comment"}[input.target_type.value]
        new = NewReport(
            target_type=input.target_type,
            target_id=reference_uuid(input.target_id, type_name),
            reason=input.reason,
            details=input.details or "",
        )
        call = moderation.report(info.context.services, new)
        return await mutation_payload(ModerationReportPayload, call, _report_payload)

    @strawberry.mutation(
        extensions=access(MODERATORS),
        description="Close a PENDING report: RESOLVE, DISMISS, WARN, or BAN (the stream, or every "
        "stream of the user: ingest refuses their keys, live ones end). MANAGER and TENANT_ADMIN.",
    )
    async def resolve_moderation_report(
        self,
        info: Info,
        input: Annotated[ResolveReportInput, strawberry.argument(description="The decision.")],
    ) -> ModerationReportPayload:
        call = moderation.resolve_report(
            info.context.services, parse_uuid(input.id, "ModerationReport"), input.action, input.note
        )
        return await mutation_payload(ModerationReportPayload, call, _report_payload)


@strawberry.type
class StreamSubscription:
    @strawberry.subscription(
        extensions=access(AUTHENTICATED),
        description="A stream went LIVE or ENDED, or its viewer count changed: one stream's "
        "(streamId), or every stream of your tenant you may read. Signed-in users.",
    )
    async def stream_status_changed(
        self,
        info: Info,
        stream_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="Only this stream (all when omitted).")
        ] = None,
    ) -> AsyncGenerator[StreamStatusChangedEvent, None]:
        context = info.context
        only = optional_reference(stream_id, "Stream")
        messenger = EventMessenger.of_current(attrgetter("memo"))
        changes = live.stream_changes(context.services, context.fanout, context.access, only, messenger)
        async for change in changes:
            context.resolve_event_with(change.loaders)
            yield shared_payload(change.memo, partial(_event, change))
