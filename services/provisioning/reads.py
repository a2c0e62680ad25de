"""Reading provisioning: lists of requests (the caller's; staff: the tenant's), statistics, active
service instances, a service's live metrics and the provider's health (from the adapter), and
the workers' status (live workers by heartbeat, queue depth, oldest waiting)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, or_, select

from core.errors import BadUserInput, Forbidden
from core.principal import Principal
from loaders.pagination import Page, PageArgs, SortKey, paginate, where_given
from models.base import utcnow
from models.provisioning import ProvisioningRequest, ProvisioningStatus, ProvisioningWorkerBeat
from services.context import ServiceContext
from services.provisioning.provider import CloudProvider, ProviderHealth, ServiceMetrics
from services.provisioning.requests import is_staff, read_request

S = ProvisioningStatus
NEWEST_FIRST = SortKey(ProvisioningRequest.created_at, ProvisioningRequest.id, descending=True)
_NEEDS_OFFSET = "Give times with a timezone offset, e.g. 2026-01-31T00:00:00Z."


@dataclass(frozen=True, slots=True)
class RequestFilter:
    status: ProvisioningStatus | None = None
    order_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def _visible(principal: Principal, request_filter: RequestFilter) -> Select[ProvisioningRequest]:
    statement = select(ProvisioningRequest)
    if not is_staff(principal):
        statement = statement.where(ProvisioningRequest.user_id == principal.user_id)
    statement = where_given(
        statement,
        (ProvisioningRequest.status, request_filter.status),
        (ProvisioningRequest.order_id, request_filter.order_id),
        (ProvisioningRequest.user_id, request_filter.user_id),
    )
    for moment in (request_filter.created_after, request_filter.created_before):
        if moment is not None and moment.tzinfo is None:
            raise BadUserInput(_NEEDS_OFFSET)
    if request_filter.created_after is not None:
        statement = statement.where(ProvisioningRequest.created_at >= request_filter.created_after)
    if request_filter.created_before is not None:
        statement = statement.where(ProvisioningRequest.created_at < request_filter.created_before)
    return statement


async def list_requests(
    ctx: ServiceContext, request_filter: RequestFilter, page: PageArgs
) -> Page[ProvisioningRequest]:
    """The caller's requests, newest first; staff see all of the tenant's."""
    principal = ctx.require_principal()
    return await paginate(ctx.read, _visible(principal, request_filter), NEWEST_FIRST, page)


async def list_instances(ctx: ServiceContext, page: PageArgs) -> Page[ProvisioningRequest]:
    """The services that run (ACTIVE) or are suspended, newest first, as ``list_requests`` sees them."""
    principal = ctx.require_principal()
    statement = _visible(principal, RequestFilter()).where(
        ProvisioningRequest.status.in_((S.ACTIVE, S.SUSPENDED))
    )
    return await paginate(ctx.read, statement, NEWEST_FIRST, page)


@dataclass(frozen=True, slots=True)
class StatusCount:
    status: ProvisioningStatus
    count: int


@dataclass(frozen=True, slots=True)
class ProvisioningStatistics:
    counts: list[StatusCount]
    total: int
    # Mean seconds from creation to ACTIVE of the requests that got there; None without any.
    mean_seconds_to_active: float | None
    # Requests that failed at least once / all requests (0 without any).
    failure_rate: float


async def statistics(ctx: ServiceContext) -> ProvisioningStatistics:
    """The tenant's requests (staff) or the caller's: counts per status, mean time to ACTIVE and
    the failure rate."""
    principal = ctx.require_principal()
    visible = _visible(principal, RequestFilter()).subquery()
    async with ctx.read() as session:
        counts = (
            await session.execute(select(visible.c.status, func.count()).group_by(visible.c.status))
        ).all()
        failed = await session.scalar(
            select(func.count()).select_from(visible).where(visible.c.failure_count > 0)
        )
        activated = (
            await session.execute(
                select(visible.c.created_at, visible.c.activated_at).where(
                    visible.c.activated_at.is_not(None)
                )
            )
        ).all()
    found = {ProvisioningStatus(status): int(n) for status, n in counts}
    total = sum(found.values())
    durations = [(active - created).total_seconds() for created, active in activated]
    return ProvisioningStatistics(
        counts=[StatusCount(status, found.get(status, 0)) for status in ProvisioningStatus],
        total=total,
        mean_seconds_to_active=sum(durations) / len(durations) if durations else None,
        failure_rate=int(failed or 0) / total if total else 0.0,
    )


@dataclass(frozen=True, slots=True)
class LiveWorker:
    id: str
    hostname: str
    pid: int
    started_at: datetime
    last_seen_at: datetime
    steps_completed: int


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    workers: list[LiveWorker]
    # Runnable requests of the tenant no worker holds (RUNNING or DEPROVISIONING, lease free or expired).
    queue_depth: int
    # When the longest-waiting of them last changed; None for an empty queue.
    oldest_waiting_since: datetime | None
    # Requests of the tenant a worker holds now.
    in_progress: int


async def worker_status(ctx: ServiceContext) -> WorkerStatus:
    """Staff (and services): the live workers of the platform, and the tenant's queue."""
    principal = ctx.require_principal()
    if not is_staff(principal):
        raise Forbidden("Only staff read the provisioning workers' status.")
    now = utcnow()
    stale = now - timedelta(seconds=ctx.settings.provisioning_worker_stale_seconds)
    runnable = or_(
        (ProvisioningRequest.status == S.RUNNING) & ProvisioningRequest.manual.is_(False),
        ProvisioningRequest.status == S.DEPROVISIONING,
    )
    free = or_(ProvisioningRequest.lease_expires_at.is_(None), ProvisioningRequest.lease_expires_at < now)
    async with ctx.read() as session:
        beats = list(
            await session.scalars(
                select(ProvisioningWorkerBeat)
                .where(ProvisioningWorkerBeat.last_seen_at >= stale)
                .order_by(ProvisioningWorkerBeat.started_at, ProvisioningWorkerBeat.id)
                .limit(100)
            )
        )
        depth, oldest = (
            await session.execute(
                select(func.count(), func.min(ProvisioningRequest.updated_at)).where(runnable, free)
            )
        ).one()
        held = await session.scalar(
            select(func.count()).where(runnable, ProvisioningRequest.lease_expires_at >= now)
        )
    return WorkerStatus(
        workers=[
            LiveWorker(b.id, b.hostname, b.pid, b.started_at, b.last_seen_at, b.steps_completed)
            for b in beats
        ],
        queue_depth=int(depth or 0),
        oldest_waiting_since=oldest,
        in_progress=int(held or 0),
    )


async def service_metrics(
    ctx: ServiceContext, provider: CloudProvider, request_id: uuid.UUID
) -> ServiceMetrics | None:
    """The live metrics of the request's service from the provider; None until it is allocated
    or once it is released."""
    request = await read_request(ctx, request_id)
    if request.instance_id is None or request.status in (S.DEPROVISIONED,):
        return None
    return await provider.metrics(request.instance_id)


async def provider_health(ctx: ServiceContext, provider: CloudProvider) -> ProviderHealth:
    """Whether the cloud provider answers (any signed-in caller)."""
    ctx.require_principal()
    return await provider.health()
