"""Provisioning resolvers: requests, statistics, instances, workers and provider health; the
life-cycle mutations; the ``provisioningProgress`` and ``provisioningUpdates`` subscriptions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from functools import partial
from operator import attrgetter
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.errors import NotFound
from core.scopes import ApiScope
from models.provisioning import StepName
from schema.directives import AUTHENTICATED, SERVICE_ONLY, HasScope, access
from schema.errors import mutation_payload
from schema.live import EventMessenger, shared_payload
from schema.nodes import node_or_not_found, optional_reference, parse_uuid
from schema.pagination import FILTER, After, Before, Connection, First, Last, connection, page_args
from schema.provisioning.inputs import (
    CreateProvisioningRequestInput,
    ProvisioningRequestFilterInput,
    ProvisioningRequestPayload,
    ProvisioningTransitionInput,
)
from schema.provisioning.operations import (
    Operation,
    OperationFilterInput,
    RetryOperationInput,
    RetryOperationPayload,
)
from schema.provisioning.types import (
    ProviderHealth,
    ProvisioningRequest,
    ProvisioningStatistics,
    ProvisioningUpdate,
    ProvisioningWorkerStatus,
)
from services.provisioning import live, operations, reads, requests
from services.provisioning.operations import OperationFilter, OperationKind
from services.provisioning.reads import RequestFilter
from services.provisioning.requests import Action, NewRequest

READ = HasScope(ApiScope.PROVISIONING_READ)
WRITE = HasScope(ApiScope.PROVISIONING_WRITE)
RUN = HasScope(ApiScope.PROVISIONING_RUN)
TransitionArgument = Annotated[
    ProvisioningTransitionInput, strawberry.argument(description="The request, and why it moves.")
]


def _payload(request: requests.ProvisioningRequest) -> ProvisioningRequestPayload:
    return ProvisioningRequestPayload(request=ProvisioningRequest.from_model(request))


async def _act(info: Info, action: Action, input: ProvisioningTransitionInput) -> ProvisioningRequestPayload:
    call = requests.act(
        info.context.services, action, parse_uuid(input.id, "ProvisioningRequest"), reason=input.reason
    )
    return await mutation_payload(ProvisioningRequestPayload, call, _payload)


_OPERATION_KINDS = {
    "ProvisioningRequest": OperationKind.PROVISIONING,
    "DnsZone": OperationKind.DNS_VERIFICATION,
}


def _operation_source(operation_id: relay.GlobalID) -> tuple[OperationKind, uuid.UUID]:
    """The kind and source row of an Operation.id (a ProvisioningRequest's or a DnsZone's id)."""
    kind = _OPERATION_KINDS.get(operation_id.type_name)
    if kind is None:
        raise NotFound("Operation")
    return kind, parse_uuid(operation_id, operation_id.type_name)


def _update(change: live.Change) -> ProvisioningUpdate:
    request = change.request
    return ProvisioningUpdate(
        request=ProvisioningRequest.from_model(request),
        status=request.status,
        percent=request.percent,
        from_status=change.from_status,
        step=StepName(change.step)
        if change.step is not None and change.step in StepName.__members__
        else None,
        actor=change.actor,
    )


@strawberry.type
class ProvisioningQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED, READ),
        description="A provisioning request with its steps and audit trail: yours, or any of the "
        "tenant's for MANAGER, SUPPORT_AGENT and TENANT_ADMIN.",
    )
    async def provisioning_request(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The request's global id.")],
    ) -> ProvisioningRequest:
        return await node_or_not_found(ProvisioningRequest, info, id)

    @strawberry.field(
        extensions=access(AUTHENTICATED, READ),
        description="Your provisioning requests, newest first; MANAGER, SUPPORT_AGENT and "
        "TENANT_ADMIN see all of the tenant's.",
    )
    async def provisioning_requests(
        self,
        info: Info,
        filter: Annotated[ProvisioningRequestFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ProvisioningRequest]:
        f = filter or ProvisioningRequestFilterInput()
        page = await reads.list_requests(
            info.context.services,
            RequestFilter(
                status=f.status,
                order_id=optional_reference(f.order_id, "Order"),
                user_id=optional_reference(f.owner_id, "User"),
                created_after=f.created_after,
                created_before=f.created_before,
            ),
            page_args(first, after, last, before),
        )
        return connection(page, ProvisioningRequest.from_model)

    @strawberry.field(
        extensions=access(AUTHENTICATED, READ),
        description="The provisioned services that run (ACTIVE) or are SUSPENDED, newest first: "
        "yours, or the tenant's for staff.",
    )
    async def provisioning_instances(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[ProvisioningRequest]:
        page = await reads.list_instances(info.context.services, page_args(first, after, last, before))
        return connection(page, ProvisioningRequest.from_model)

    @strawberry.field(
        extensions=access(AUTHENTICATED, READ),
        description="Counts per status, mean time to ACTIVE and failure rate of your provisioning "
        "requests (staff: the tenant's).",
    )
    async def provisioning_statistics(self, info: Info) -> ProvisioningStatistics:
        return ProvisioningStatistics.from_result(await reads.statistics(info.context.services))

    @strawberry.field(
        extensions=access(AUTHENTICATED, READ),
        description="Live provisioning workers (heartbeats), the tenant's queue depth and oldest "
        "waiting request. MANAGER, SUPPORT_AGENT, TENANT_ADMIN and services.",
    )
    async def provisioning_worker_status(self, info: Info) -> ProvisioningWorkerStatus:
        return ProvisioningWorkerStatus.from_result(await reads.worker_status(info.context.services))

    @strawberry.field(
        extensions=access(AUTHENTICATED, READ),
        description="Whether the cloud provider answers. Any signed-in user.",
    )
    async def provisioning_provider_health(self, info: Info) -> ProviderHealth:
        health = await reads.provider_health(info.context.services, info.context.cloud_provider)
        return ProviderHealth.from_result(health)

    @strawberry.field(
        extensions=access(AUTHENTICATED, READ),
        description="The operations center: the tenant's provisioning runs and DNS verifications in "
        "one list, newest first. Yours for anyone; the tenant's provisioning runs for MANAGER, "
        "SUPPORT_AGENT and TENANT_ADMIN, with the DNS verifications for those who read DNS.",
    )
    async def operations(
        self,
        info: Info,
        filter: Annotated[OperationFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Operation]:
        f = filter or OperationFilterInput()
        page = await operations.list_operations(
            info.context.services,
            OperationFilter(kind=f.kind, status=f.status),
            page_args(first, after, last, before),
        )
        return connection(page, Operation.from_result)

    @strawberry.field(
        extensions=access(AUTHENTICATED, READ),
        description="One operation with its details (its target's steps, audit trail or checks).",
    )
    async def operation(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="Operation.id.")],
    ) -> Operation:
        kind, source_id = _operation_source(id)
        return Operation.from_result(await operations.get_operation(info.context.services, kind, source_id))


@strawberry.type
class ProvisioningMutation:
    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE),
        description="Ask for a service (a product that needs provisioning, or a plan): a PENDING "
        "request of yours, which a service starts.",
    )
    async def create_provisioning_request(
        self,
        info: Info,
        input: Annotated[
            CreateProvisioningRequestInput, strawberry.argument(description="What to set up, and how.")
        ],
    ) -> ProvisioningRequestPayload:
        new = NewRequest(
            product_id=optional_reference(input.product_id, "Product"),
            plan_id=optional_reference(input.plan_id, "Plan"),
            parameters=input.parameters,
            manual=input.manual,
        )
        call = requests.create_request(info.context.services, new)
        return await mutation_payload(ProvisioningRequestPayload, call, _payload)

    @strawberry.mutation(
        extensions=access(SERVICE_ONLY, RUN),
        description="PENDING -> RUNNING: the workers run it (service-only).",
    )
    async def start_provisioning_request(
        self, info: Info, input: TransitionArgument
    ) -> ProvisioningRequestPayload:
        return await _act(info, Action.START, input)

    @strawberry.mutation(
        extensions=access(SERVICE_ONLY, RUN),
        description="Reports the next step of a RUNNING request done (`reason`: its message); after "
        "the last one it is ACTIVE (service-only).",
    )
    async def advance_provisioning_request(
        self, info: Info, input: TransitionArgument
    ) -> ProvisioningRequestPayload:
        return await _act(info, Action.ADVANCE, input)

    @strawberry.mutation(
        extensions=access(SERVICE_ONLY, RUN),
        description="PENDING or RUNNING -> FAILED, `reason` saying why (service-only).",
    )
    async def fail_provisioning_request(
        self, info: Info, input: TransitionArgument
    ) -> ProvisioningRequestPayload:
        return await _act(info, Action.FAIL, input)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE),
        description="FAILED -> RUNNING: the failed steps run again, as attempt + 1 (owner or staff).",
    )
    async def retry_provisioning_request(
        self, info: Info, input: TransitionArgument
    ) -> ProvisioningRequestPayload:
        return await _act(info, Action.RETRY, input)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE),
        description="Run a FAILED operation again: a provisioning run from its failed step (owner or "
        "staff), a DNS verification now (MANAGER, TENANT_ADMIN). Any other status is NOT_RETRYABLE.",
    )
    async def retry_operation(
        self,
        info: Info,
        input: Annotated[RetryOperationInput, strawberry.argument(description="The operation.")],
    ) -> RetryOperationPayload:
        kind, source_id = _operation_source(input.id)
        call = operations.retry_operation(info.context.services, kind, source_id)
        return await mutation_payload(
            RetryOperationPayload,
            call,
            lambda done: RetryOperationPayload(operation=Operation.from_result(done)),
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE), description="ACTIVE -> SUSPENDED (owner or staff)."
    )
    async def suspend_provisioning_request(
        self, info: Info, input: TransitionArgument
    ) -> ProvisioningRequestPayload:
        return await _act(info, Action.SUSPEND, input)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE), description="SUSPENDED -> ACTIVE (owner or staff)."
    )
    async def reactivate_provisioning_request(
        self, info: Info, input: TransitionArgument
    ) -> ProvisioningRequestPayload:
        return await _act(info, Action.REACTIVATE, input)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE),
        description="A manual request, PENDING or RUNNING -> ACTIVE: set up by hand (owner or staff).",
    )
    async def complete_manual_provisioning(
        self, info: Info, input: TransitionArgument
    ) -> ProvisioningRequestPayload:
        return await _act(info, Action.COMPLETE_MANUAL, input)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE),
        description="Take the service down: ACTIVE, SUSPENDED or FAILED -> DEPROVISIONING (a worker "
        "releases it: DEPROVISIONED); a PENDING request -> DEPROVISIONED at once (owner or staff).",
    )
    async def deprovision_provisioning_request(
        self, info: Info, input: TransitionArgument
    ) -> ProvisioningRequestPayload:
        return await _act(info, Action.DEPROVISION, input)


@strawberry.type
class ProvisioningSubscription:
    @strawberry.subscription(
        extensions=access(AUTHENTICATED),
        description="One provisioning request's progress: its current state first, then every "
        "change, until it is ACTIVE, FAILED or DEPROVISIONED; then the subscription completes. "
        "Yours, or the tenant's for staff.",
    )
    async def provisioning_progress(
        self,
        info: Info,
        request_id: Annotated[relay.GlobalID, strawberry.argument(description="The request's global id.")],
    ) -> AsyncGenerator[ProvisioningUpdate, None]:
        context = info.context
        request = parse_uuid(request_id, "ProvisioningRequest")
        changes = live.provisioning_progress(context.services, context.fanout, context.access, request)
        async for change in changes:
            context.resolve_event_with(change.loaders)
            yield shared_payload(change.memo, partial(_update, change))

    @strawberry.subscription(
        extensions=access(AUTHENTICATED),
        description="Changes of your provisioning requests (status, steps, progress); MANAGER, "
        "SUPPORT_AGENT and TENANT_ADMIN get all of the tenant's.",
    )
    async def provisioning_updates(self, info: Info) -> AsyncGenerator[ProvisioningUpdate, None]:
        context = info.context
        messenger = EventMessenger.of_current(attrgetter("memo"))
        changes = live.provisioning_updates(context.services, context.fanout, context.access, messenger)
        async for change in changes:
            context.resolve_event_with(change.loaders)
            yield shared_payload(change.memo, partial(_update, change))
