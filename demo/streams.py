"""Streams demo data: each demo tenant's user has a LIVE stream and its seller a DRAFT one; the
platform has a welcome announcement and the ``live-chat`` feature flag (on). Re-runnable: what
exists is found by owner or name. It only calls services and models."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.identity.accounts import Tenant, User
from models.platform import Announcement, AnnouncementKind, FeatureFlag
from models.streams import Stream, StreamStatus
from services.streams.keys import key_hash, new_key, seal

DEMO_STREAMS = (
    ("user", "Live coding: a GraphQL subgraph", StreamStatus.LIVE, 17),
    ("seller", "Unboxing the new gear", StreamStatus.DRAFT, 0),
)
DEMO_ANNOUNCEMENT = "Welcome to the tenantgraph demo"
DEMO_FLAG = "live-chat"


async def seed_demo_streams(session: AsyncSession, tenant: Tenant, encryption_key: str) -> None:
    for local, title, status, viewers in DEMO_STREAMS:
        owner = await session.scalar(select(User.id).where(User.email == f"{local}@{tenant.slug}.example"))
        if owner is None or await session.scalar(select(Stream.id).where(Stream.user_id == owner)):
            continue
        stream_id, key, now = uuid.uuid4(), new_key(), utcnow()
        session.add(
            Stream(
                id=stream_id,
                tenant_id=tenant.id,
                user_id=owner,
                title=title,
                description="A demo stream.",
                category="demo",
                tags=["demo"],
                status=status,
                viewer_count=viewers,
                key_hash=key_hash(key),
                key_ciphertext=seal(encryption_key, stream_id, key),
                banned=False,
                version=1,
                created_at=now,
                updated_at=now,
                started_at=now if status is StreamStatus.LIVE else None,
            )
        )


async def seed_demo_platform(session: AsyncSession) -> None:
    if await session.scalar(select(Announcement.id).where(Announcement.title == DEMO_ANNOUNCEMENT)) is None:
        session.add(
            Announcement(
                id=uuid.uuid4(),
                title=DEMO_ANNOUNCEMENT,
                content="Streams, orders, DNS and provisioning are all seeded: have a look around.",
                kind=AnnouncementKind.INFO,
                created_at=utcnow(),
            )
        )
    if await session.scalar(select(FeatureFlag.id).where(FeatureFlag.name == DEMO_FLAG)) is None:
        session.add(
            FeatureFlag(
                id=uuid.uuid4(), name=DEMO_FLAG, description="Chat beside live streams.", enabled=True
            )
        )
