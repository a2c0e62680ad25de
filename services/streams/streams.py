"""Live streams: the caller's stream key (a DRAFT stream made on first ask), key regeneration,
creation and owner-only updates, the public list, and the change events of the subscription.

Who reads a stream: every signed-in user of its tenant (the seeds' "public" list); a banned stream
only its owner and the tenant's moderators (for anyone else it does not exist). Anonymous callers
read none: a stream belongs to a tenant, and an anonymous request names none. The stream key is
its owner's alone (the ``streamKey`` field is null for anyone else)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, NotFound, invalid
from core.lengths import bounded_text
from core.permissions import SERVICE_ONLY, STREAM_MODERATORS
from core.principal import Principal
from loaders.pagination import Page, PageArgs, SortKey, paginate, where_given
from models.base import utcnow
from models.identity.accounts import User
from models.streams import Stream, StreamStatus
from services.context import ServiceContext
from services.events import record_event
from services.streams.errors import StreamErrorCode
from services.streams.keys import key_hash, new_key, seal, unseal

STREAM_CHANGED = "stream.changed"
MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_CATEGORY = 100
MAX_TAG = 50
MAX_TAGS = 20
DEFAULT_TITLE = "Untitled stream"
NEWEST_FIRST = SortKey(Stream.created_at, Stream.id, descending=True)
NEWEST_FIRST_ORDER = (Stream.created_at.desc(), Stream.id.desc())


def is_moderator(principal: Principal) -> bool:
    return principal.has_any_role(*STREAM_MODERATORS)


def can_read_stream(principal: Principal | None, stream: Stream) -> bool:
    return principal is not None and (
        not stream.banned or stream.user_id == principal.user_id or is_moderator(principal)
    )


def is_owner(principal: Principal | None, stream: Stream) -> bool:
    return principal is not None and not principal.is_service and stream.user_id == principal.user_id


def record_change(session: AsyncSession, stream: Stream, previous: StreamStatus | None) -> None:
    """The stream changed (status or viewers): +1 version and its event, in the transaction."""
    stream.version += 1
    stream.updated_at = utcnow()
    record_event(
        session,
        topic=STREAM_CHANGED,
        tenant_id=stream.tenant_id,
        payload={
            "streamId": str(stream.id),
            "from": previous.value if previous else None,
            "to": stream.status.value,
            "viewerCount": stream.viewer_count,
            "version": stream.version,
        },
    )


def end_stream(session: AsyncSession, stream: Stream) -> None:
    """LIVE -> ENDED (nothing for a stream that is not live)."""
    if stream.status is not StreamStatus.LIVE:
        return
    stream.status = StreamStatus.ENDED
    stream.ended_at = utcnow()
    stream.viewer_count = 0
    record_change(session, stream, StreamStatus.LIVE)


@dataclass(frozen=True, slots=True)
class StreamFields:
    """What a stream says about itself; None leaves a field as it is (on update)."""

    title: str | None = None
    description: str | None = None
    category: str | None = None
    tags: list[str] | None = None


def _apply(stream: Stream, fields: StreamFields) -> None:
    if fields.title is not None:
        stream.title = bounded_text("title", fields.title, MAX_TITLE)
        if not stream.title:
            raise invalid("title", StreamErrorCode.TITLE_REQUIRED, "A stream needs a title.")
    if fields.description is not None:
        stream.description = bounded_text("description", fields.description, MAX_DESCRIPTION)
    if fields.category is not None:
        stream.category = bounded_text("category", fields.category, MAX_CATEGORY) or None
    if fields.tags is not None:
        if len(fields.tags) > MAX_TAGS:
            raise invalid("tags", StreamErrorCode.TOO_MANY_TAGS, f"At most {MAX_TAGS} tags.")
        tags = [bounded_text("tags", tag, MAX_TAG) for tag in fields.tags]
        stream.tags = list(dict.fromkeys(tag for tag in tags if tag))


def _new_stream(ctx: ServiceContext, principal: Principal, fields: StreamFields) -> Stream:
    stream_id = uuid.uuid4()
    key = new_key()
    now = utcnow()
    stream = Stream(
        id=stream_id,
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        title=DEFAULT_TITLE,
        description="",
        tags=[],
        status=StreamStatus.DRAFT,
        viewer_count=0,
        key_hash=key_hash(key),
        key_ciphertext=seal(ctx.settings.mfa_encryption_key, stream_id, key),
        banned=False,
        version=1,
        created_at=now,
        updated_at=now,
    )
    _apply(stream, fields)
    return stream


def _person(ctx: ServiceContext) -> Principal:
    principal = ctx.require_principal()
    if principal.is_service:
        raise Forbidden("A stream is a user's: sign in as one.")
    return principal


async def create_stream(ctx: ServiceContext, fields: StreamFields) -> Stream:
    """A DRAFT stream of the caller with a key of its own."""
    principal = _person(ctx)
    stream = _new_stream(ctx, principal, fields)
    async with ctx.transaction() as session:
        session.add(stream)
    return stream


async def _newest_of(session: AsyncSession, user_id: uuid.UUID) -> Stream | None:
    return await session.scalar(
        select(Stream).where(Stream.user_id == user_id).order_by(*NEWEST_FIRST_ORDER).limit(1)
    )


@dataclass(frozen=True, slots=True)
class StreamKey:
    stream: Stream
    key: str


def key_of(ctx: ServiceContext, stream: Stream) -> str:
    return unseal(ctx.settings.mfa_encryption_key, stream.id, stream.key_ciphertext)


def key_for_viewer(ctx: ServiceContext, stream_id: uuid.UUID, owner_id: uuid.UUID, sealed: str) -> str | None:
    """The stream's key when the caller owns the stream; None for anyone else."""
    principal = ctx.principal
    if principal is None or principal.is_service or principal.user_id != owner_id:
        return None
    return unseal(ctx.settings.mfa_encryption_key, stream_id, sealed)


async def my_stream_key(ctx: ServiceContext) -> StreamKey:
    """The key of the caller's newest stream; a DRAFT stream is made when they have none (the
    user's row is locked meanwhile, so two first calls make one stream)."""
    principal = _person(ctx)
    async with ctx.transaction() as session:
        await session.execute(select(User.id).where(User.id == principal.user_id).with_for_update())
        stream = await _newest_of(session, principal.user_id)
        if stream is None:
            stream = _new_stream(ctx, principal, StreamFields())
            session.add(stream)
    return StreamKey(stream, key_of(ctx, stream))


async def _owned(session: AsyncSession, principal: Principal, stream_id: uuid.UUID) -> Stream:
    stream = await session.get(Stream, stream_id, with_for_update=True, populate_existing=True)
    if stream is None or not can_read_stream(principal, stream):
        raise NotFound("Stream")
    if not is_owner(principal, stream):
        raise Forbidden("Only the stream's owner may change it.")
    return stream


async def regenerate_stream_key(ctx: ServiceContext, stream_id: uuid.UUID | None) -> StreamKey:
    """A new key for the stream (the caller's newest when none is named): the old one is refused
    by ingest from the commit on."""
    principal = _person(ctx)
    async with ctx.transaction() as session:
        if stream_id is None:
            newest = await _newest_of(session, principal.user_id)
            if newest is None:
                raise NotFound("Stream")
            stream_id = newest.id
        stream = await _owned(session, principal, stream_id)
        key = new_key()
        stream.key_hash = key_hash(key)
        stream.key_ciphertext = seal(ctx.settings.mfa_encryption_key, stream.id, key)
        stream.updated_at = utcnow()
    return StreamKey(stream, key)


async def update_stream(ctx: ServiceContext, stream_id: uuid.UUID, fields: StreamFields) -> Stream:
    """The owner changes the title, description, category or tags."""
    principal = _person(ctx)
    async with ctx.transaction() as session:
        stream = await _owned(session, principal, stream_id)
        _apply(stream, fields)
        stream.updated_at = utcnow()
    return stream


async def set_viewer_count(ctx: ServiceContext, stream_id: uuid.UUID, viewers: int) -> Stream:
    """The ingest side (a service) reports how many watch a LIVE stream."""
    if not ctx.require_principal().is_service_or(*SERVICE_ONLY):
        raise Forbidden("Viewer counts come from the ingest side (service-only).")
    if viewers < 0:
        raise invalid("viewerCount", StreamErrorCode.INVALID_VIEWER_COUNT, "Viewers are 0 or more.")
    async with ctx.transaction() as session:
        stream = await session.get(Stream, stream_id, with_for_update=True, populate_existing=True)
        if stream is None:
            raise NotFound("Stream")
        if stream.status is not StreamStatus.LIVE:
            raise invalid("id", StreamErrorCode.INVALID_TRANSITION, "Only a LIVE stream has viewers.")
        if stream.viewer_count != viewers:
            stream.viewer_count = viewers
            record_change(session, stream, None)
    return stream


@dataclass(frozen=True, slots=True)
class StreamFilter:
    is_live: bool | None = None
    category: str | None = None
    owner_id: uuid.UUID | None = None


def _listed(principal: Principal, stream_filter: StreamFilter) -> Select[Stream]:
    statement = where_given(
        select(Stream), (Stream.category, stream_filter.category), (Stream.user_id, stream_filter.owner_id)
    )
    if stream_filter.is_live is not None:
        live = Stream.status == StreamStatus.LIVE
        statement = statement.where(live if stream_filter.is_live else ~live)
    if not is_moderator(principal):
        statement = statement.where((Stream.banned.is_(False)) | (Stream.user_id == principal.user_id))
    return statement


async def list_streams(ctx: ServiceContext, stream_filter: StreamFilter, page: PageArgs) -> Page[Stream]:
    """The tenant's streams, newest first."""
    principal = ctx.require_principal()
    return await paginate(ctx.read, _listed(principal, stream_filter), NEWEST_FIRST, page)
