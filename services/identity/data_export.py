"""GDPR Art. 20: a user's personal data as one JSON document, collected by a background job.

``request_export`` queues a job (one at a time per user: EXPORT_IN_PROGRESS while one is queued or
running). Every server process runs a ``DataExportWorker``: it claims the oldest queued job with
SELECT ... FOR UPDATE SKIP LOCKED and marks it RUNNING (committed, so ``myDataExports`` shows it),
collects the document in the job's tenant, stores it and mails the owner a download link whose
token is single use and expires after ``data_export_link_seconds`` (only its SHA-256 is stored).
A job that raises becomes FAILED with the error. A job left RUNNING by a process that died is taken
up again once ``data_export_stale_seconds`` have passed since it started (``attempts`` counts the
takes; past ``data_export_max_attempts`` it is FAILED); a worker that finds its job taken up by
another since drops its own result."""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import invalid
from core.scope import TenantScope
from core.settings import Settings
from core.workers import PollingWorker, Round
from models.base import utcnow
from models.db import Database
from models.identity.accounts import User
from models.identity.privacy import DataExport, ExportStatus
from services.context import ServiceContext
from services.events import record_event
from services.identity.errors import IdentityErrorCode
from services.identity.export_document import personal_data
from services.identity.privacy import own_account
from services.mail_queue import queue_mail

log = logging.getLogger(__name__)

OPEN = (ExportStatus.QUEUED, ExportStatus.RUNNING)
DOWNLOAD_PATH = "/privacy/exports/{export_id}"
# An export is READY (services/notifications tells its owner); payload: exportId, userId.
DATA_EXPORT_READY = "data_export.ready"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def request_export(ctx: ServiceContext) -> DataExport:
    """Queues an export of the caller's data (woken workers pick it up at their next round)."""
    principal = own_account(ctx)
    async with ctx.transaction(TenantScope.of(principal.home_tenant_id)) as session:
        # The user row serialises two requests at once: one job, one EXPORT_IN_PROGRESS.
        await session.get_one(User, principal.user_id, with_for_update=True)
        running = await session.scalar(
            select(DataExport.id).where(DataExport.user_id == principal.user_id, DataExport.status.in_(OPEN))
        )
        if running is not None:
            raise invalid(
                None,
                IdentityErrorCode.EXPORT_IN_PROGRESS,
                "An export of your data is being prepared already.",
            )
        job = DataExport(tenant_id=principal.home_tenant_id, user_id=principal.user_id)
        session.add(job)
        await session.flush()
        return job


async def my_exports(ctx: ServiceContext) -> list[DataExport]:
    """The caller's export jobs, newest first."""
    principal = own_account(ctx)
    async with ctx.read(TenantScope.of(principal.home_tenant_id)) as session:
        return list(
            await session.scalars(
                select(DataExport)
                .where(DataExport.user_id == principal.user_id)
                .order_by(DataExport.created_at.desc(), DataExport.id.desc())
            )
        )


def download_url(settings: Settings, export_id: uuid.UUID, token: str) -> str:
    base = (settings.public_url or settings.frontend_url).rstrip("/")
    return f"{base}{DOWNLOAD_PATH.format(export_id=export_id)}?token={token}"


async def _claim(db: Database, settings: Settings) -> DataExport | None:
    """The oldest queued job, or one left RUNNING longer than ``data_export_stale_seconds`` (its
    worker died), marked RUNNING as this worker's; None when there is none. A job taken up
    ``data_export_max_attempts`` times already is FAILED instead."""
    stale = utcnow() - timedelta(seconds=settings.data_export_stale_seconds)
    takeable = or_(
        DataExport.status == ExportStatus.QUEUED,
        and_(DataExport.status == ExportStatus.RUNNING, DataExport.started_at < stale),
    )
    async with db.transaction(TenantScope.all_tenants()) as session:
        job = await session.scalar(
            select(DataExport)
            .where(takeable)
            .order_by(DataExport.created_at, DataExport.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if job is None:
            return None
        if job.attempts >= settings.data_export_max_attempts:
            job.status, job.finished_at = ExportStatus.FAILED, utcnow()
            job.error = f"Abandoned: its worker stopped {job.attempts} times before it was done."
            return job
        job.status, job.started_at = ExportStatus.RUNNING, utcnow()
        job.attempts += 1
        return job


async def _owned(session: AsyncSession, job: DataExport) -> DataExport | None:
    """The job's row, locked, while it is still this worker's (no other took it up since)."""
    row = await session.get_one(DataExport, job.id, with_for_update=True)
    return row if row.status == ExportStatus.RUNNING and row.attempts == job.attempts else None


async def _complete(db: Database, settings: Settings, job: DataExport) -> None:
    async with db.transaction(TenantScope.of(job.tenant_id)) as session:
        row = await _owned(session, job)
        if row is None:
            log.warning("data export %s was taken up by another worker: this one's result is dropped", job.id)
            return
        user = await session.get_one(User, row.user_id)
        token = secrets.token_urlsafe(32)
        row.document = await personal_data(session, user)
        row.status, row.finished_at = ExportStatus.READY, utcnow()
        row.token_hash = token_hash(token)
        row.token_expires_at = utcnow() + timedelta(seconds=settings.data_export_link_seconds)
        record_event(
            session,
            topic=DATA_EXPORT_READY,
            tenant_id=row.tenant_id,
            payload={"exportId": str(row.id), "userId": str(row.user_id)},
        )
        if user.email is not None:
            queue_mail(
                session,
                tenant_id=user.tenant_id,
                to=user.email,
                subject="Your data export is ready",
                body=(
                    f"Hello {user.full_name},\n\nthe export of your personal data you asked for is ready. "
                    f"Download it here (the link works once, for "
                    f"{settings.data_export_link_seconds // 3600 or 1} hours):\n\n"
                    f"{download_url(settings, row.id, token)}\n\n"
                    "If you did not ask for it, change your password and contact your administrator.\n"
                ),
            )


async def _fail(db: Database, job: DataExport, error: Exception) -> None:
    async with db.transaction(TenantScope.of(job.tenant_id)) as session:
        row = await _owned(session, job)
        if row is not None:
            row.status, row.finished_at = ExportStatus.FAILED, utcnow()
            row.error = f"{type(error).__name__}: {error}"[:1000]


async def run_export(db: Database, settings: Settings) -> bool:
    """Processes one queued (or abandoned) job; whether there was one."""
    job = await _claim(db, settings)
    if job is None:
        return False
    if job.status == ExportStatus.FAILED:
        return True  # given up on: taken up too often
    try:
        await _complete(db, settings, job)
    except Exception as error:  # the job fails, not the worker: recorded on the job
        log.exception("data export %s failed", job.id)
        await _fail(db, job, error)
    return True


class DataExportWorker(PollingWorker):
    name = "data-exports"

    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(settings.data_export_poll_seconds)
        self.db = db
        self.settings = settings

    async def run_round(self) -> Round:
        return Round.MORE if await run_export(self.db, self.settings) else Round.DONE


@dataclass(frozen=True, slots=True)
class Download:
    filename: str
    document: dict[str, object]


class DownloadRefused(Exception):
    """Why a download link does not work: ``status`` 404 (unknown, or not this export's token),
    410 (used or expired)."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


async def download(db: Database, export_id: uuid.UUID, token: str) -> Download:
    """The document of a READY export whose link token this is; the token is used up."""
    async with db.transaction(TenantScope.all_tenants()) as session:
        job = await session.scalar(
            select(DataExport).where(DataExport.token_hash == token_hash(token)).with_for_update()
        )
        if job is None or job.id != export_id or job.document is None:
            raise DownloadRefused(404, "NOT_FOUND", "No such export, or not this link's.")
        if job.downloaded_at is not None:
            raise DownloadRefused(
                410, "EXPORT_LINK_USED", "This link was used already: request a new export."
            )
        if job.token_expires_at is None or job.token_expires_at <= utcnow():
            raise DownloadRefused(410, "EXPORT_LINK_EXPIRED", "This link has expired: request a new export.")
        job.downloaded_at = utcnow()
        return Download(f"personal-data-{job.created_at:%Y%m%d}-{job.id.hex[:8]}.json", job.document)
