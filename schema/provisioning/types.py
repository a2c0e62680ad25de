"""Provisioning types: requests (federation entity and Relay node) with their steps and audit
trail, live updates, statistics, service metrics, worker status and provider health."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from models import provisioning as models
from models.provisioning import ProvisioningStatus, StepName, StepStatus
from schema.catalog.types import Product
from schema.enums import documented_enum
from schema.identity.accounts import User, readable_user, user_of
from schema.live import SharedPayload
from schema.nodes import Entity, load_nodes, node_or_none, node_type
from schema.orders.types import Order
from services.provisioning import reads
from services.provisioning.provider import ProviderHealth as ProviderHealthResult
from services.provisioning.provider import ServiceMetrics as ServiceMetricsResult
from services.provisioning.requests import can_read_request

S = ProvisioningStatus
documented_enum(
    ProvisioningStatus,
    "PENDING -> RUNNING -> ACTIVE <-> SUSPENDED -> DEPROVISIONING -> DEPROVISIONED; RUNNING -> "
    "FAILED -> (retry) RUNNING; ACTIVE, FAILED and DEPROVISIONED end a progress subscription.",
    {
        S.PENDING: "Asked for; not started yet (a service starts it).",
        S.RUNNING: "Its steps are running (a worker, or a service advancing them).",
        S.ACTIVE: "The service is set up and runs.",
        S.FAILED: "A step failed: the owner or staff may retry it.",
        S.SUSPENDED: "Set up, but suspended by the owner or staff (reactivate to resume).",
        S.DEPROVISIONING: "Being taken down at the provider.",
        S.DEPROVISIONED: "Taken down (final).",
    },
)
documented_enum(
    StepName,
    "The steps of every provisioning request, in the order they run.",
    {
        StepName.VALIDATE: "The parameters are checked.",
        StepName.ALLOCATE: "The provider allocates the service (its instance id).",
        StepName.CONFIGURE: "The service is configured.",
        StepName.DEPLOY: "The service is deployed.",
        StepName.VERIFY: "The running service is checked.",
    },
    name="ProvisioningStepName",
)
documented_enum(
    StepStatus,
    "Where one step of a provisioning request is.",
    {
        StepStatus.PENDING: "Not started.",
        StepStatus.RUNNING: "Running at the provider.",
        StepStatus.COMPLETED: "Done.",
        StepStatus.FAILED: "Failed (its message says why).",
    },
    name="ProvisioningStepStatus",
)


@strawberry.type(description="One step of a provisioning request.")
class ProvisioningStep:
    position: int = strawberry.field(description="1 to 5, the order the steps run in.")
    name: StepName = strawberry.field(description="Which step.")
    status: StepStatus = strawberry.field(description="Where the step is.")
    started_at: datetime | None = strawberry.field(description="When it last started (UTC).")
    finished_at: datetime | None = strawberry.field(description="When it finished or failed (UTC).")
    message: str | None = strawberry.field(description="What the provider (or a service) said about it.")

    @classmethod
    def from_model(cls, step: models.ProvisioningStep) -> Self:
        return cls(
            position=step.position,
            name=step.name,
            status=step.status,
            started_at=step.started_at,
            finished_at=step.finished_at,
            message=step.message,
        )


@strawberry.type(description="One status change of a provisioning request (its audit trail).")
class ProvisioningTransition:
    from_status: ProvisioningStatus | None = strawberry.field(
        name="from", description="Null for the request's creation."
    )
    to_status: ProvisioningStatus = strawberry.field(name="to", description="The status it moved to.")
    actor: str = strawberry.field(description='Who moved it: "user", "staff", "service", "worker", ...')
    reason: str | None = strawberry.field(description="Why, when one was given.")
    at: datetime = strawberry.field(description="When (UTC).")
    actor_uuid: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, change: models.ProvisioningTransition) -> Self:
        return cls(
            from_status=change.from_status,
            to_status=change.to_status,
            actor=change.actor,
            reason=change.reason,
            at=change.created_at,
            actor_uuid=change.actor_user_id,
        )

    @strawberry.field(description="The user who acted, when there was one and you may see them.")
    async def actor_user(self, info: Info) -> User | None:
        return await readable_user(info, self.actor_uuid)


@strawberry.type(description="Live metrics of a provisioned service, as its provider reports them now.")
class ServiceMetrics:
    cpu_percent: float = strawberry.field(description="CPU use, 0 to 100.")
    memory_percent: float = strawberry.field(description="Memory use, 0 to 100.")
    requests_per_second: float = strawberry.field(description="Requests served per second.")
    uptime_seconds: int = strawberry.field(description="Seconds the service has been up.")

    @classmethod
    def from_result(cls, metrics: ServiceMetricsResult) -> Self:
        return cls(
            cpu_percent=metrics.cpu_percent,
            memory_percent=metrics.memory_percent,
            requests_per_second=metrics.requests_per_second,
            uptime_seconds=metrics.uptime_seconds,
        )


@node_type
@strawberry.federation.type(
    keys=["id"], name="ProvisioningRequest", description="A request to set up a service for its owner."
)
class ProvisioningRequest(Entity):
    request_id: relay.NodeID[str]
    status: ProvisioningStatus = strawberry.field(description="Where the request is in its life cycle.")
    percent: int = strawberry.field(description="Overall progress, 0 to 100 (completed steps).")
    attempt: int = strawberry.field(description="1 for the first run, +1 per retry.")
    manual: bool = strawberry.field(description="Set up by people (completeManualProvisioning), not workers.")
    parameters: JSON = strawberry.field(description="What to set up (a JSON object).")
    failure_reason: str | None = strawberry.field(description="Why it last failed; null when it has not.")
    instance_id: str | None = strawberry.field(description="The provider's id of the service once allocated.")
    created_at: datetime = strawberry.field(description="When it was asked for (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    started_at: datetime | None = strawberry.field(description="When it first started running (UTC).")
    activated_at: datetime | None = strawberry.field(description="When it first became ACTIVE (UTC).")
    user_uuid: strawberry.Private[uuid.UUID]
    order_uuid: strawberry.Private[uuid.UUID | None]
    product_uuid: strawberry.Private[uuid.UUID | None]
    version: strawberry.Private[int]

    @classmethod
    def from_model(cls, request: models.ProvisioningRequest) -> Self:
        return cls(
            request_id=str(request.id),
            status=request.status,
            percent=request.percent,
            attempt=request.attempt,
            manual=request.manual,
            parameters=JSON(request.parameters),
            failure_reason=request.failure_reason,
            instance_id=request.instance_id,
            created_at=request.created_at,
            updated_at=request.updated_at,
            started_at=request.started_at,
            activated_at=request.activated_at,
            user_uuid=request.user_id,
            order_uuid=request.order_id,
            product_uuid=request.product_id,
            version=request.version,
        )

    @strawberry.field(description="The steps in the order they run.")
    async def steps(self, info: Info) -> list[ProvisioningStep]:
        steps = await info.context.loaders.provisioning.steps_of_request.load(uuid.UUID(self.request_id))
        return [ProvisioningStep.from_model(step) for step in steps]

    @strawberry.field(description="Every status change, oldest first, starting with the creation.")
    async def audit_trail(self, info: Info) -> list[ProvisioningTransition]:
        trail = await info.context.loaders.provisioning.trail_of_request.load(uuid.UUID(self.request_id))
        return [ProvisioningTransition.from_model(change) for change in trail]

    @strawberry.field(description="Who the service is for.")
    async def owner(self, info: Info) -> User:
        return await user_of(info, self.user_uuid)

    @strawberry.field(
        description="The order it was opened for; null when asked for directly or out of reach."
    )
    async def order(self, info: Info) -> Order | None:
        return await node_or_none(Order, info, self.order_uuid)

    @strawberry.field(description="The product set up; null when none or out of your reach.")
    async def product(self, info: Info) -> Product | None:
        return await node_or_none(Product, info, self.product_uuid)

    @strawberry.field(description="The service's live metrics from the provider; null until it is allocated.")
    async def metrics(self, info: Info) -> ServiceMetrics | None:
        found = await reads.service_metrics(
            info.context.services, info.context.cloud_provider, uuid.UUID(self.request_id)
        )
        return ServiceMetrics.from_result(found) if found else None

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        """Requests out of the caller's reach look exactly like requests that do not exist."""
        principal = info.context.principal
        return await load_nodes(
            node_ids,
            "ProvisioningRequest",
            info.context.loaders.provisioning.request,
            cls.from_model,
            lambda request: can_read_request(principal, request),
        )


@strawberry.type(description="A provisioning request changed (status, step or progress).")
class ProvisioningUpdate(SharedPayload):
    request: ProvisioningRequest = strawberry.field(description="The request as it is now.")
    status: ProvisioningStatus = strawberry.field(description="Its status now.")
    percent: int = strawberry.field(description="Its progress now, 0 to 100.")
    from_status: ProvisioningStatus | None = strawberry.field(
        name="from", description="The status it left; null when the status did not change (a step moved)."
    )
    step: StepName | None = strawberry.field(description="The step that started or finished, if one did.")
    actor: str = strawberry.field(
        description='Who changed it: "worker", "service", "user", ...; empty for the first state.'
    )


@strawberry.type(description="How many provisioning requests are in one status.")
class ProvisioningStatusCount:
    status: ProvisioningStatus = strawberry.field(description="The status counted.")
    count: int = strawberry.field(description="Requests in it.")


@strawberry.type(description="Provisioning figures: the tenant's requests for staff, your own otherwise.")
class ProvisioningStatistics:
    counts_by_status: list[ProvisioningStatusCount] = strawberry.field(description="Requests per status.")
    total: int = strawberry.field(description="All requests.")
    mean_seconds_to_active: float | None = strawberry.field(
        description="Mean seconds from creation to ACTIVE; null when none got there."
    )
    failure_rate: float = strawberry.field(description="Share of requests that failed at least once, 0 to 1.")

    @classmethod
    def from_result(cls, result: reads.ProvisioningStatistics) -> Self:
        return cls(
            counts_by_status=[ProvisioningStatusCount(status=c.status, count=c.count) for c in result.counts],
            total=result.total,
            mean_seconds_to_active=result.mean_seconds_to_active,
            failure_rate=result.failure_rate,
        )


@strawberry.type(description="A provisioning worker seen lately (its heartbeat).")
class ProvisioningWorker:
    id: str = strawberry.field(description="host:pid:random, unique per worker.")
    hostname: str = strawberry.field(description="The host it runs on.")
    pid: int = strawberry.field(description="Its process id.")
    started_at: datetime = strawberry.field(description="When it started (UTC).")
    last_seen_at: datetime = strawberry.field(description="Its last heartbeat (UTC).")
    steps_completed: int = strawberry.field(description="Steps it completed since it started.")


@strawberry.type(description="The provisioning workers and the tenant's queue.")
class ProvisioningWorkerStatus:
    workers: list[ProvisioningWorker] = strawberry.field(description="Live workers (at most 100).")
    queue_depth: int = strawberry.field(description="Runnable requests no worker holds now.")
    oldest_waiting_since: datetime | None = strawberry.field(
        description="When the longest-waiting of them last changed; null for an empty queue."
    )
    in_progress: int = strawberry.field(description="Requests a worker holds now.")

    @classmethod
    def from_result(cls, status: reads.WorkerStatus) -> Self:
        return cls(
            workers=[
                ProvisioningWorker(
                    id=w.id,
                    hostname=w.hostname,
                    pid=w.pid,
                    started_at=w.started_at,
                    last_seen_at=w.last_seen_at,
                    steps_completed=w.steps_completed,
                )
                for w in status.workers
            ],
            queue_depth=status.queue_depth,
            oldest_waiting_since=status.oldest_waiting_since,
            in_progress=status.in_progress,
        )


@strawberry.type(description="Whether the cloud provider answers.")
class ProviderHealth:
    name: str = strawberry.field(description="The provider adapter, e.g. simulated.")
    healthy: bool = strawberry.field(description="True when it answers as it should.")
    latency_ms: float = strawberry.field(description="How long the check took, in milliseconds.")
    message: str = strawberry.field(description="What the check found.")

    @classmethod
    def from_result(cls, health: ProviderHealthResult) -> Self:
        return cls(
            name=health.name, healthy=health.healthy, latency_ms=health.latency_ms, message=health.message
        )
