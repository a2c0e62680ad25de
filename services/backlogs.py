"""What is waiting to go out: outbox events not yet published and mail not yet sent. Read by the
health probes and /metrics; each is one indexed read, counted up to a cap so a long outage costs no more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.billing import MailMessage, MailStatus
from models.events import OutboxEvent

# Counting stops here: the probe says "at least this many" instead of walking a huge backlog.
COUNT_CAP = 10_000


@dataclass(frozen=True, slots=True)
class Backlog:
    count: int  # at most COUNT_CAP
    oldest_age_seconds: float  # 0 when nothing waits

    @property
    def capped(self) -> bool:
        return self.count >= COUNT_CAP


async def _backlog(session: AsyncSession, waiting: Select[datetime]) -> Backlog:
    capped = waiting.limit(COUNT_CAP).subquery()
    # One read: the count and the oldest of the first COUNT_CAP rows, which hold the oldest one.
    count, oldest = (await session.execute(select(func.count(), func.min(capped.c.created_at)))).one()
    if oldest is None:
        return Backlog(0, 0.0)
    return Backlog(count, max(0.0, (utcnow() - oldest).total_seconds()))


async def outbox_backlog(session: AsyncSession) -> Backlog:
    """Events recorded but not yet published, in recording order (the dispatcher's index)."""
    waiting = (
        select(OutboxEvent.created_at).where(OutboxEvent.published_at.is_(None)).order_by(OutboxEvent.seq)
    )
    return await _backlog(session, waiting)


async def mail_backlog(session: AsyncSession) -> Backlog:
    """Mail queued and not yet sent, oldest first (a session of every tenant's scope)."""
    waiting = (
        select(MailMessage.created_at)
        .where(MailMessage.status == MailStatus.QUEUED)
        .order_by(MailMessage.created_at)
    )
    return await _backlog(session, waiting)
