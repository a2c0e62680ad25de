"""The provisioning workers: each claims a runnable request with ``SELECT ... FOR UPDATE SKIP
LOCKED`` and a lease (``lease_owner``, ``lease_expires_at``), runs its steps one by one through the
cloud provider adapter, and renews the lease while a step runs. Any number run, in any process.

A worker that dies mid-step stops renewing: once the lease has expired another worker claims the
request and runs that step again with the same idempotency key (request, step, attempt), so the
provider applies its effect once. A worker whose lease was taken over throws its result away
(the state is written only under a lease it still holds). A worker writes its heartbeat row
(``provisioning_workers``, read by the worker status) every BEAT_SECONDS while idle and after each
request it ran; ``stop`` deletes it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.scope import TenantScope
from core.workers import PollingWorker, Round
from models.base import utcnow
from models.db import Database
from models.provisioning import (
    ProvisioningRequest,
    ProvisioningStatus,
    ProvisioningWorkerBeat,
    StepStatus,
)
from services.events import EVENTS_RECORDED
from services.provisioning.provider import CloudProvider, ProviderError, StepCall
from services.provisioning.requests import complete_order_if_done
from services.provisioning.states import move, percent_of, steps_of, touch

log = logging.getLogger(__name__)
S = ProvisioningStatus
ACTOR = "worker"
# How often an idle worker writes its heartbeat (well within provisioning_worker_stale_seconds).
BEAT_SECONDS = 5.0


def new_worker_id() -> str:
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True)
class Claim:
    request_id: uuid.UUID
    tenant_id: uuid.UUID


class ProvisioningWorker(PollingWorker):
    """Runs provisioning requests every ``poll_seconds`` (at once when woken, and round after
    round while there is work); an interval of 0 runs none."""

    name = "provisioning-worker"

    def __init__(
        self,
        db: Database,
        provider: CloudProvider,
        *,
        poll_seconds: float,
        lease_seconds: float,
        worker_id: str | None = None,
        on_events: Callable[[], None] | None = None,
        auto_start: bool = False,
    ) -> None:
        super().__init__(poll_seconds, max_retry_seconds=max(poll_seconds, 5.0))
        self.db = db
        self.provider = provider
        self.lease_seconds = lease_seconds
        # Whether PENDING requests are runnable too (started here, as the orchestrating service would).
        self.auto_start = auto_start
        self.worker_id = worker_id or new_worker_id()
        self.on_events = on_events
        self.started_at = utcnow()
        self.steps_completed = 0
        self.current: uuid.UUID | None = None
        self._beaten_at: float | None = None
        self._worked = False

    def start(self) -> None:
        if self.poll_seconds > 0:
            super().start()

    async def stop(self) -> None:
        await super().stop()
        if self._beaten_at is None:
            return  # never beat: no heartbeat row to take back
        # The database may be gone already, or hang: a process that stops waits 5 s at most.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5), self.db.transaction(TenantScope.all_tenants()) as session:
                await session.execute(
                    delete(ProvisioningWorkerBeat).where(ProvisioningWorkerBeat.id == self.worker_id)
                )

    async def run_round(self) -> Round:
        # An idle worker beats every BEAT_SECONDS; one that just ran a request at once (its count).
        if self._beaten_at is None or self._worked or time.monotonic() - self._beaten_at >= BEAT_SECONDS:
            await self.beat()
            self._worked = False
        claim = await self.claim()
        if claim is None:
            return Round.DONE
        try:
            self.current = claim.request_id
            await self.run_request(claim)
        finally:
            self.current = None
            self._worked = True
        return Round.MORE

    # ---- heartbeat and claims ---------------------------------------------------------------

    async def beat(self) -> None:
        async with self.db.transaction(TenantScope.all_tenants()) as session:
            row = await session.get(ProvisioningWorkerBeat, self.worker_id)
            if row is None:
                hostname, _, pid = self.worker_id.rpartition(":")[0].rpartition(":")
                row = ProvisioningWorkerBeat(
                    id=self.worker_id,
                    hostname=hostname or "?",
                    pid=int(pid) if pid.isdigit() else 0,
                    started_at=self.started_at,
                )
                session.add(row)
            row.last_seen_at = utcnow()
            row.steps_completed = self.steps_completed
            row.current_request_id = self.current
        self._beaten_at = time.monotonic()

    async def claim(self, now: datetime | None = None) -> Claim | None:
        """One runnable request (RUNNING and not manual, or DEPROVISIONING; with auto_start PENDING
        and not manual too) whose lease is free or expired, leased to this worker; rows other
        workers hold locked are skipped."""
        now = now or utcnow()
        runnable = [S.RUNNING, S.PENDING] if self.auto_start else [S.RUNNING]
        async with self.db.transaction(TenantScope.all_tenants()) as session:
            request = await session.scalar(
                select(ProvisioningRequest)
                .where(
                    or_(
                        ProvisioningRequest.status.in_(runnable) & ProvisioningRequest.manual.is_(False),
                        ProvisioningRequest.status == S.DEPROVISIONING,
                    ),
                    or_(
                        ProvisioningRequest.lease_expires_at.is_(None),
                        ProvisioningRequest.lease_expires_at < now,
                    ),
                )
                .order_by(ProvisioningRequest.updated_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if request is None:
                return None
            if request.lease_owner is not None:
                log.info("taking over provisioning request %s from %s", request.id, request.lease_owner)
            request.lease_owner = self.worker_id
            request.lease_expires_at = now + timedelta(seconds=self.lease_seconds)
            return Claim(request.id, request.tenant_id)

    @contextlib.asynccontextmanager
    async def _step(self, claim: Claim) -> AsyncIterator[AsyncSession]:
        """A transaction of the claimed request's tenant; wakes the dispatcher after commit."""
        async with self.db.transaction(TenantScope.of(claim.tenant_id)) as session:
            yield session
            recorded = bool(session.info.get(EVENTS_RECORDED))
        if recorded and self.on_events is not None:
            self.on_events()

    async def _renew(self, claim: Claim) -> None:
        """Keeps the lease while a step runs at the provider (every third of the lease); returns
        once the request is no longer this worker's or no longer RUNNING (taken over, failed by a
        service, retried), so that the step's call is abandoned. A failed renewal is tried again."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                async with self.db.transaction(TenantScope.of(claim.tenant_id)) as session:
                    renewed = await session.execute(
                        update(ProvisioningRequest)
                        .where(
                            ProvisioningRequest.id == claim.request_id,
                            ProvisioningRequest.lease_owner == self.worker_id,
                            ProvisioningRequest.status == S.RUNNING,
                        )
                        .values(lease_expires_at=utcnow() + timedelta(seconds=self.lease_seconds))
                        .execution_options(synchronize_session=False)
                    )
            except Exception as error:  # the database may be away for a moment
                log.warning("renewing the lease of %s failed: %s", claim.request_id, error)
                continue
            if renewed.rowcount == 0:  # type: ignore[attr-defined]
                return

    def _holds(self, request: ProvisioningRequest) -> bool:
        return request.lease_owner == self.worker_id

    # ---- running a request ------------------------------------------------------------------

    async def run_request(self, claim: Claim) -> None:
        """Runs the claimed request's steps until it is ACTIVE, FAILED or no longer ours."""
        while True:
            call = await self._begin_step(claim)
            if call is None:
                return
            step = asyncio.ensure_future(self.provider.run_step(call))
            renewing = asyncio.create_task(self._renew(claim))
            try:
                await asyncio.wait({step, renewing}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (step, renewing):
                    if not task.done():
                        task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            if step.cancelled():
                return  # the lease was lost or the request left RUNNING meanwhile: not ours now
            error = step.exception()
            if error is not None and not isinstance(error, ProviderError):
                raise error
            outcome: Any = error if error is not None else step.result()
            if not await self._finish_step(claim, call, outcome):
                return

    async def _begin_step(self, claim: Claim) -> StepCall | None:
        async with self._step(claim) as session:
            request = await session.get(
                ProvisioningRequest, claim.request_id, with_for_update=True, populate_existing=True
            )
            if request is None or not self._holds(request):
                return None
            if request.status == S.DEPROVISIONING:
                await self._release(session, request)
                return None
            if request.status == S.PENDING and self.auto_start and not request.manual:
                move(session, request, S.RUNNING, actor=ACTOR, reason="started by a worker (auto-start)")
                request.lease_owner = self.worker_id  # the move let every lease go; this one stays
            if request.status != S.RUNNING or request.manual:
                request.lease_owner = request.lease_expires_at = None
                return None
            steps = await steps_of(session, request.id)
            step = next((s for s in steps if s.status != StepStatus.COMPLETED), None)
            if step is None:
                await self._activate(session, request)
                return None
            now = utcnow()
            step.status, step.started_at, step.finished_at = StepStatus.RUNNING, now, None
            step.message = None
            step.runs += 1
            request.lease_expires_at = now + timedelta(seconds=self.lease_seconds)
            touch(session, request, actor=ACTOR, step=step.name.value)
            return StepCall(
                request_id=str(request.id),
                step=step.name,
                attempt=request.attempt,
                parameters=dict(request.parameters or {}),
                instance_id=request.instance_id,
            )

    async def _finish_step(self, claim: Claim, call: StepCall, outcome: Any) -> bool:
        """Writes the step's outcome under the lease; False when the request is done or gone."""
        async with self._step(claim) as session:
            request = await session.get(
                ProvisioningRequest, claim.request_id, with_for_update=True, populate_existing=True
            )
            if (
                request is None
                or not self._holds(request)
                or request.status != S.RUNNING
                or request.attempt != call.attempt
            ):
                return False  # taken over, failed or moved by someone else meanwhile
            steps = await steps_of(session, request.id)
            step = next(s for s in steps if s.name == call.step)
            step.finished_at = utcnow()
            if isinstance(outcome, ProviderError):
                step.status, step.message = StepStatus.FAILED, str(outcome)[:500]
                move(session, request, S.FAILED, actor=ACTOR, reason=f"{call.step.value}: {outcome}")
                return False
            step.status, step.message = StepStatus.COMPLETED, outcome.message[:500]
            if outcome.instance_id:
                request.instance_id = outcome.instance_id
            request.percent = percent_of(steps)
            self.steps_completed += 1
            if all(s.status == StepStatus.COMPLETED for s in steps):
                await self._activate(session, request)
                return False
            touch(session, request, actor=ACTOR, step=call.step.value)
            return True

    async def _activate(self, session: AsyncSession, request: ProvisioningRequest) -> None:
        move(session, request, S.ACTIVE, actor=ACTOR, reason="all steps done")
        await complete_order_if_done(session, request, actor=ACTOR)

    async def _release(self, session: AsyncSession, request: ProvisioningRequest) -> None:
        key = f"{request.id}:RELEASE:{request.attempt}"
        try:
            message = await self.provider.release(str(request.id), request.instance_id, key)
        except ProviderError as error:  # tried again after the lease
            log.warning("releasing provisioning request %s failed: %s", request.id, error)
            return
        move(session, request, S.DEPROVISIONED, actor=ACTOR, reason=message[:500])
        await complete_order_if_done(session, request, actor=ACTOR)


async def run_steps_once(worker: ProvisioningWorker) -> bool:
    """Claims and runs one request (tests, the CLI's --once); False when nothing was runnable."""
    claim = await worker.claim()
    if claim is None:
        return False
    await worker.run_request(claim)
    return True
