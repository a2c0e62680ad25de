"""The operations center's types (seed 003): one list of a tenant's provisioning runs and DNS
verifications (services/provisioning/operations.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

import strawberry
from strawberry import relay

from models.provisioning import ProvisioningRequest as ProvisioningRequestRow
from schema.dns.types import DnsZone
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from schema.provisioning.types import ProvisioningRequest
from services.provisioning import operations
from services.provisioning.operations import OperationKind, OperationStatus

documented_enum(
    OperationKind,
    "What an operation of the operations center does.",
    {
        OperationKind.PROVISIONING: "Sets up (or takes down) a service: a provisioning request.",
        OperationKind.DNS_VERIFICATION: "Checks that a DNS zone is delegated to its assigned nameservers.",
    },
)
documented_enum(
    OperationStatus,
    "Where an operation is, the same for every kind.",
    {
        OperationStatus.QUEUED: "Not started: a PENDING request, a zone never checked.",
        OperationStatus.RUNNING: "Under way: a RUNNING or DEPROVISIONING request.",
        OperationStatus.SUCCEEDED: "Done: a request that got to ACTIVE (or was taken down); a verified zone.",
        OperationStatus.FAILED: "Failed: a FAILED request, a zone whose last check found no delegation. "
        "retryOperation runs it again.",
    },
)

OperationTarget = Annotated[
    ProvisioningRequest | DnsZone,
    strawberry.union("OperationTarget", description="What an operation works on, with all its details."),
]


@strawberry.type(
    description="A long-running operation of the tenant: a provisioning run or a DNS verification."
)
class Operation:
    id: relay.GlobalID = strawberry.field(
        description="The global id of what it works on (a ProvisioningRequest or a DnsZone)."
    )
    kind: OperationKind = strawberry.field(description="What it does.")
    status: OperationStatus = strawberry.field(description="Where it is.")
    percent: int = strawberry.field(description="Progress, 0 to 100.")
    message: str | None = strawberry.field(description="Why it failed, or what the last check found.")
    retryable: bool = strawberry.field(description="Whether retryOperation may run it again (it FAILED).")
    created_at: datetime = strawberry.field(description="When it was asked for (UTC).")
    started_at: datetime | None = strawberry.field(description="When it (last) started (UTC).")
    finished_at: datetime | None = strawberry.field(description="When it succeeded (UTC); null until then.")
    target: OperationTarget = strawberry.field(description="What it works on: steps, audit trail, checks.")

    @classmethod
    def from_result(cls, operation: operations.Operation) -> Self:
        source = operation.source
        target: ProvisioningRequest | DnsZone
        if isinstance(source, ProvisioningRequestRow):
            target = ProvisioningRequest.from_model(source)
        else:
            target = DnsZone.from_model(source)
        return cls(
            id=relay.GlobalID(type(target).__name__, str(operation.id)),
            kind=operation.kind,
            status=operation.status,
            percent=operation.percent,
            message=operation.message,
            retryable=operation.retryable,
            created_at=operation.created_at,
            started_at=operation.started_at,
            finished_at=operation.finished_at,
            target=target,
        )


@strawberry.input(description="Which operations to list; the conditions given all apply.")
class OperationFilterInput:
    kind: OperationKind | None = strawberry.field(default=None, description="Only of this kind.")
    status: OperationStatus | None = strawberry.field(default=None, description="Only in this status.")


@strawberry.input(description="The operation to run again.")
class RetryOperationInput:
    id: relay.GlobalID = strawberry.field(description="Operation.id (a ProvisioningRequest or DnsZone id).")


@strawberry.type(description="The retried operation as it is now, or userErrors.")
class RetryOperationPayload:
    operation: Operation | None = strawberry.field(default=None, description="The operation after the retry.")
    user_errors: list[UserError] = user_errors_field()
