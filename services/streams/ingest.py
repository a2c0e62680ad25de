"""The ingest server's callbacks (nginx-rtmp ``on_publish`` / ``on_publish_done``): a stream key
names its stream in any tenant (looked up by its SHA-256 under the platform scope); a valid key
of a stream that is not banned, whose owner is active, takes it LIVE; the end of the publish
takes it ENDED. Every refusal is the same ``IngestRefused`` (the answer tells nothing of why)."""

from __future__ import annotations

import hmac

from sqlalchemy import select

from core.scope import TenantScope
from models.base import utcnow
from models.identity.accounts import User, UserStatus
from models.streams import Stream, StreamStatus
from services.context import ServiceContext
from services.streams.keys import key_hash
from services.streams.streams import end_stream, record_change

MAX_KEY_CHARS = 200


class IngestRefused(Exception):
    """A wrong secret, or a key that is unknown, replaced, banned or of a suspended owner."""


def _check_secret(ctx: ServiceContext, secret: str | None) -> None:
    expected = ctx.settings.stream_ingest_secret
    if not expected or secret is None or not hmac.compare_digest(secret.encode(), expected.encode()):
        raise IngestRefused


async def publish(ctx: ServiceContext, key: str | None, secret: str | None) -> Stream:
    """on_publish: the key's stream goes LIVE (already LIVE: unchanged)."""
    _check_secret(ctx, secret)
    if not key or len(key) > MAX_KEY_CHARS:
        raise IngestRefused
    async with ctx.transaction(TenantScope.all_tenants()) as session:
        found = (
            await session.execute(
                select(Stream, User.status)
                .join(User, User.id == Stream.user_id)
                .where(Stream.key_hash == key_hash(key))
                .with_for_update(of=Stream)
            )
        ).first()
        if found is None:
            raise IngestRefused
        stream, owner_status = found
        if stream.banned or owner_status is not UserStatus.ACTIVE:
            raise IngestRefused
        if stream.status is not StreamStatus.LIVE:
            previous = stream.status
            stream.status = StreamStatus.LIVE
            stream.started_at = utcnow()
            stream.ended_at = None
            stream.viewer_count = 0
            record_change(session, stream, previous)
    return stream


async def publish_done(ctx: ServiceContext, key: str | None, secret: str | None) -> Stream:
    """on_publish_done: the key's stream goes ENDED (not LIVE: unchanged)."""
    _check_secret(ctx, secret)
    if not key or len(key) > MAX_KEY_CHARS:
        raise IngestRefused
    async with ctx.transaction(TenantScope.all_tenants()) as session:
        stream = await session.scalar(
            select(Stream).where(Stream.key_hash == key_hash(key)).with_for_update()
        )
        if stream is None:
            raise IngestRefused
        end_stream(session, stream)
    return stream
