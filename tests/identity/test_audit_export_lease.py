"""Data export jobs left RUNNING by a dead process, against real PostgreSQL: taken up again once
data_export_stale_seconds have passed (not before), FAILED after data_export_max_attempts takes,
and the dead worker's late result is dropped when it comes back."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from core.scope import TenantScope
from models.base import utcnow
from models.billing import MailMessage
from models.identity.privacy import DataExport, ExportStatus
from server.runtime import Runtime
from services.identity.data_export import _complete, run_export
from tests.support.identity import Account, quick_account

ALL = TenantScope.all_tenants()


async def left_running(runtime: Runtime, account: Account, started_ago: float, attempts: int) -> DataExport:
    """A job a worker marked RUNNING ``started_ago`` seconds ago and never finished."""
    job = DataExport(
        id=uuid.uuid4(),
        tenant_id=account.tenant_id,
        user_id=account.user_id,
        status=ExportStatus.RUNNING,
        started_at=utcnow() - timedelta(seconds=started_ago),
        attempts=attempts,
    )
    async with runtime.db.transaction(TenantScope.of(account.tenant_id)) as session:
        session.add(job)
    return job


async def job_row(runtime: Runtime, job_id: uuid.UUID) -> DataExport:
    async with runtime.db.session(ALL) as session:
        return await session.get_one(DataExport, job_id)


async def settled(runtime: Runtime, job_id: uuid.UUID) -> DataExport:
    """Runs export rounds (the runtime's own worker may take the job first) until it is done."""
    for _ in range(100):
        await run_export(runtime.db, runtime.settings)
        row = await job_row(runtime, job_id)
        if row.status in (ExportStatus.READY, ExportStatus.FAILED):
            return row
        await asyncio.sleep(0.05)
    raise AssertionError("the export did not finish")


async def mails_to(runtime: Runtime, account: Account) -> int:
    async with runtime.db.session(ALL) as session:
        counted = await session.scalar(
            select(func.count()).select_from(MailMessage).where(MailMessage.to_address == account.email)
        )
    return int(counted or 0)


async def test_a_job_left_running_is_taken_up_again_and_finished(runtime: Runtime) -> None:
    account = await quick_account(runtime, "lease-shop")
    stale = await left_running(runtime, account, runtime.settings.data_export_stale_seconds + 60, attempts=1)

    row = await settled(runtime, stale.id)
    assert (row.status, row.attempts, row.error) == (ExportStatus.READY, 2, None)
    assert row.document is not None and row.token_hash is not None
    assert row.started_at is not None and row.started_at > utcnow() - timedelta(seconds=60)
    assert await mails_to(runtime, account) == 1

    # The dead worker comes back with its copy of the job: its result is dropped.
    await _complete(runtime.db, runtime.settings, stale)
    again = await job_row(runtime, stale.id)
    assert (again.token_hash, again.finished_at) == (row.token_hash, row.finished_at)
    assert await mails_to(runtime, account) == 1


async def test_a_running_job_within_its_time_is_left_alone(runtime: Runtime) -> None:
    account = await quick_account(runtime, "lease-busy")
    busy = await left_running(runtime, account, 10, attempts=1)
    assert await run_export(runtime.db, runtime.settings) is False
    row = await job_row(runtime, busy.id)
    assert (row.status, row.attempts, row.finished_at) == (ExportStatus.RUNNING, 1, None)


async def test_a_job_taken_up_too_often_fails(runtime: Runtime) -> None:
    account = await quick_account(runtime, "lease-poison")
    limit = runtime.settings.data_export_max_attempts
    poison = await left_running(
        runtime, account, runtime.settings.data_export_stale_seconds + 1, attempts=limit
    )
    row = await settled(runtime, poison.id)
    assert (row.status, row.attempts, row.document) == (ExportStatus.FAILED, limit, None)
    assert row.error is not None and row.error.startswith("Abandoned")
    assert await mails_to(runtime, account) == 0
