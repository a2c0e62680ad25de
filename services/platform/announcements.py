"""Announcements: banners of the platform operator to every tenant's users. The active ones
(inside their window: from ``starts_at``, when given, until ``ends_at``, when given) are public;
platform admins create, list and delete them. Platform-wide, not per tenant: seed 001's
announcements are its one deployment's, here the platform's (a tenant's own news has no seed)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select

from core.errors import Forbidden, NotFound, invalid
from core.principal import Principal
from core.scope import TenantScope
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.base import utcnow
from models.db import Database
from models.platform import Announcement, AnnouncementKind
from services.context import ServiceContext
from services.platform.errors import PlatformErrorCode
from services.platform.texts import bounded

NEWEST_FIRST = SortKey(Announcement.created_at, Announcement.id, descending=True)
MAX_ACTIVE = 50
MAX_TITLE = 200
MAX_CONTENT = 5000


def _admin(ctx: ServiceContext) -> Principal:
    principal = ctx.require_principal()
    if not principal.is_platform_admin:
        raise Forbidden("Only platform administrators manage announcements.")
    return principal


@dataclass(frozen=True, slots=True)
class NewAnnouncement:
    title: str
    content: str
    kind: AnnouncementKind = AnnouncementKind.INFO
    starts_at: datetime | None = None
    ends_at: datetime | None = None


async def create_announcement(ctx: ServiceContext, new: NewAnnouncement) -> Announcement:
    principal = _admin(ctx)
    title = bounded("title", new.title, MAX_TITLE, required=True)
    content = bounded("content", new.content, MAX_CONTENT, required=True)
    for field, moment in (("startsAt", new.starts_at), ("endsAt", new.ends_at)):
        if moment is not None and moment.tzinfo is None:
            raise invalid(field, PlatformErrorCode.INVALID_WINDOW, "Give times with a timezone offset.")
    if new.starts_at and new.ends_at and new.ends_at <= new.starts_at:
        raise invalid("endsAt", PlatformErrorCode.INVALID_WINDOW, "An announcement ends after it starts.")
    announcement = Announcement(
        id=uuid.uuid4(),
        title=title,
        content=content,
        kind=new.kind,
        starts_at=new.starts_at,
        ends_at=new.ends_at,
        created_at=utcnow(),
        created_by_id=principal.person_id,
    )
    async with ctx.transaction(TenantScope.all_tenants()) as session:
        session.add(announcement)
    return announcement


async def delete_announcement(ctx: ServiceContext, announcement_id: uuid.UUID) -> None:
    _admin(ctx)
    async with ctx.transaction(TenantScope.all_tenants()) as session:
        deleted = await session.execute(delete(Announcement).where(Announcement.id == announcement_id))
        if not deleted.rowcount:  # type: ignore[attr-defined]
            raise NotFound("Announcement")


async def list_announcements(ctx: ServiceContext, page: PageArgs) -> Page[Announcement]:
    """Platform admins: every announcement, newest first."""
    _admin(ctx)
    return await paginate(
        lambda: ctx.db.session(TenantScope.all_tenants()), select(Announcement), NEWEST_FIRST, page
    )


async def active_announcements(db: Database, now: datetime | None = None) -> list[Announcement]:
    """The announcements inside their window now, newest first (at most 50): anyone, signed in
    or not."""
    now = now or utcnow()
    async with db.session(TenantScope.all_tenants()) as session:
        found = await session.scalars(
            select(Announcement)
            .where(
                or_(Announcement.starts_at.is_(None), Announcement.starts_at <= now),
                or_(Announcement.ends_at.is_(None), Announcement.ends_at > now),
            )
            .order_by(Announcement.created_at.desc(), Announcement.id.desc())
            .limit(MAX_ACTIVE)
        )
        return list(found)
