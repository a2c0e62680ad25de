"""Moderation: any signed-in user reports a user, a stream or a comment; the tenant's moderators
(MANAGER, TENANT_ADMIN; platform admins in every tenant) list the reports and resolve them.

RESOLVE and WARN close a report as RESOLVED (a warning is the record itself), DISMISS as
DISMISSED; BAN closes it RESOLVED and bans the target: a stream (its key is refused by ingest, a
live one ends), or a user (every stream of theirs, likewise). A comment has no domain here yet:
its reports are kept and closed, a BAN of one changes nothing else."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, NotFound, invalid
from core.lengths import bounded_text
from core.principal import Principal
from core.scope import TenantScope
from loaders.pagination import Page, PageArgs, SortKey, paginate, where_given
from models.base import utcnow
from models.identity.accounts import User
from models.streams import ModerationReport, ReportAction, ReportStatus, ReportTarget, Stream
from services.context import ServiceContext
from services.streams.errors import StreamErrorCode
from services.streams.streams import end_stream, is_moderator

MAX_REASON = 100
MAX_DETAILS = 2000
MAX_NOTE = 500
NEWEST_FIRST = SortKey(ModerationReport.created_at, ModerationReport.id, descending=True)
CLOSING: dict[ReportAction, ReportStatus] = {
    ReportAction.RESOLVE: ReportStatus.RESOLVED,
    ReportAction.WARN: ReportStatus.RESOLVED,
    ReportAction.BAN: ReportStatus.RESOLVED,
    ReportAction.DISMISS: ReportStatus.DISMISSED,
}


@dataclass(frozen=True, slots=True)
class NewReport:
    target_type: ReportTarget
    target_id: uuid.UUID
    reason: str
    details: str = ""


async def _target_exists(session: AsyncSession, target: ReportTarget, target_id: uuid.UUID) -> bool:
    if target is ReportTarget.USER:
        return await session.get(User, target_id) is not None
    if target is ReportTarget.STREAM:
        return await session.get(Stream, target_id) is not None
    return True  # comments: no domain to check against yet


async def report(ctx: ServiceContext, new: NewReport) -> ModerationReport:
    """A PENDING report of the caller; the user or stream must exist in the caller's tenant."""
    principal = ctx.require_principal()
    if principal.is_service:
        raise Forbidden("Reports are made by users.")
    reason = bounded_text("reason", new.reason, MAX_REASON)
    if not reason:
        raise invalid("reason", StreamErrorCode.TOO_LONG, "Give a reason (1 to 100 characters).")
    details = bounded_text("details", new.details, MAX_DETAILS)
    async with ctx.transaction(TenantScope.of(principal.tenant_id)) as session:
        if not await _target_exists(session, new.target_type, new.target_id):
            raise invalid("targetId", StreamErrorCode.NOT_FOUND, "No such user or stream in your tenant.")
        found = ModerationReport(
            id=uuid.uuid4(),
            tenant_id=principal.tenant_id,
            reporter_id=principal.user_id,
            target_type=new.target_type,
            target_id=new.target_id,
            reason=reason,
            details=details,
            status=ReportStatus.PENDING,
            created_at=utcnow(),
        )
        session.add(found)
    return found


def _moderator(ctx: ServiceContext) -> Principal:
    principal = ctx.require_principal()
    if not is_moderator(principal):
        raise Forbidden("Only moderators (MANAGER, TENANT_ADMIN) handle reports.")
    return principal


async def list_reports(
    ctx: ServiceContext, status: ReportStatus | None, page: PageArgs
) -> Page[ModerationReport]:
    """Reports newest first, of one status or all; platform admins see every tenant's."""
    _moderator(ctx)
    statement = where_given(select(ModerationReport), (ModerationReport.status, status))
    return await paginate(ctx.read, statement, NEWEST_FIRST, page)


async def _ban(session: AsyncSession, report: ModerationReport) -> None:
    if report.target_type is ReportTarget.STREAM:
        condition = Stream.id == report.target_id
    elif report.target_type is ReportTarget.USER:
        condition = Stream.user_id == report.target_id
    else:
        return
    streams = await session.scalars(
        select(Stream).where(condition, Stream.tenant_id == report.tenant_id).with_for_update()
    )
    for stream in streams:
        stream.banned = True
        end_stream(session, stream)


async def resolve_report(
    ctx: ServiceContext, report_id: uuid.UUID, action: ReportAction, note: str | None
) -> ModerationReport:
    """Closes a PENDING report with ``action`` (see the module's docstring)."""
    principal = _moderator(ctx)
    note = bounded_text("note", note, MAX_NOTE) or None
    async with ctx.transaction() as session:
        found = await session.get(ModerationReport, report_id, with_for_update=True, populate_existing=True)
        if found is None:
            raise NotFound("ModerationReport")
        if found.status is not ReportStatus.PENDING:
            raise invalid("id", StreamErrorCode.ALREADY_RESOLVED, "The report is closed already.")
        found.status = CLOSING[action]
        found.action = action
        found.resolution_note = note
        found.resolved_by_id = principal.person_id
        found.resolved_at = utcnow()
        if action is ReportAction.BAN:
            await _ban(session, found)
    return found
