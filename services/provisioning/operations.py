"""The operations center (seed 003): a tenant's long-running operations — provisioning runs and
DNS delegation verifications — as one list, newest first, in one status vocabulary, with the
details of each and a retry of a failed one.

Nothing is stored twice: an operation is a view of its source row (a provisioning request, a DNS
zone's verification), and a page is the merge of one keyset page per source. Both sources sort by
(created_at, id) descending and ids are UUIDs, so one cursor reads the same in either, and the
merged order is total."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, false, select

from core.errors import NotFound, invalid
from core.permissions import DNS_READERS
from core.principal import Principal
from loaders.pagination import DEFAULT_PAGE_SIZE, Page, PageArgs, SortKey, paginate
from models.dns import DnsZone
from models.provisioning import ProvisioningRequest, ProvisioningStatus
from services.context import ServiceContext
from services.dns.delegation import verify_delegation
from services.provisioning.errors import ProvisioningErrorCode
from services.provisioning.reads import NEWEST_FIRST
from services.provisioning.requests import Action, act, is_staff, read_request


class OperationKind(enum.StrEnum):
    PROVISIONING = "PROVISIONING"
    DNS_VERIFICATION = "DNS_VERIFICATION"


class OperationStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


P = ProvisioningStatus
Op = OperationStatus
_PROVISIONING_STATUS: dict[ProvisioningStatus, OperationStatus] = {
    P.PENDING: Op.QUEUED,
    P.RUNNING: Op.RUNNING,
    P.DEPROVISIONING: Op.RUNNING,
    P.ACTIVE: Op.SUCCEEDED,
    P.SUSPENDED: Op.SUCCEEDED,
    P.DEPROVISIONED: Op.SUCCEEDED,
    P.FAILED: Op.FAILED,
}
_ZONES_NEWEST_FIRST = SortKey(DnsZone.created_at, DnsZone.id, descending=True)


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation: its kind and the row it is a view of."""

    kind: OperationKind
    source: ProvisioningRequest | DnsZone

    @property
    def id(self) -> uuid.UUID:
        return self.source.id

    @property
    def created_at(self) -> datetime:
        return self.source.created_at

    @property
    def status(self) -> OperationStatus:
        if isinstance(self.source, ProvisioningRequest):
            return _PROVISIONING_STATUS[self.source.status]
        if self.source.verified_at is not None:
            return Op.SUCCEEDED
        return Op.QUEUED if self.source.checked_at is None else Op.FAILED

    @property
    def percent(self) -> int:
        if isinstance(self.source, ProvisioningRequest):
            return self.source.percent
        return 100 if self.status == Op.SUCCEEDED else 0

    @property
    def message(self) -> str | None:
        if isinstance(self.source, ProvisioningRequest):
            return self.source.failure_reason
        return self.source.check_message

    @property
    def started_at(self) -> datetime | None:
        if isinstance(self.source, ProvisioningRequest):
            return self.source.started_at
        return self.source.checked_at

    @property
    def finished_at(self) -> datetime | None:
        if isinstance(self.source, ProvisioningRequest):
            return self.source.activated_at or self.source.finished_at
        return self.source.verified_at

    @property
    def retryable(self) -> bool:
        return self.status == Op.FAILED


@dataclass(frozen=True, slots=True)
class OperationFilter:
    kind: OperationKind | None = None
    status: OperationStatus | None = None


def _sees_dns(principal: Principal) -> bool:
    return principal.has_any_role(*DNS_READERS) and principal.scope.tenant_id is not None


def _provisioning_runs(principal: Principal, status: OperationStatus | None) -> Select[Any]:
    statement = select(ProvisioningRequest)
    if not is_staff(principal):
        statement = statement.where(ProvisioningRequest.user_id == principal.user_id)
    if status is not None:
        statement = statement.where(
            ProvisioningRequest.status.in_([p for p, o in _PROVISIONING_STATUS.items() if o == status])
        )
    return statement


def _verifications(status: OperationStatus | None) -> Select[Any]:
    statement = select(DnsZone)
    match status:
        case Op.SUCCEEDED:
            statement = statement.where(DnsZone.verified_at.is_not(None))
        case Op.QUEUED:
            statement = statement.where(DnsZone.verified_at.is_(None), DnsZone.checked_at.is_(None))
        case Op.FAILED:
            statement = statement.where(DnsZone.verified_at.is_(None), DnsZone.checked_at.is_not(None))
        case Op.RUNNING:  # a verification runs within its request, never in the background
            statement = statement.where(false())
    return statement


def _wanted(operation_filter: OperationFilter, kind: OperationKind) -> bool:
    return operation_filter.kind in (None, kind)


async def list_operations(
    ctx: ServiceContext, operation_filter: OperationFilter, args: PageArgs
) -> Page[Operation]:
    """The caller's operations, newest first: staff see the tenant's provisioning runs, and DNS
    verifications if they may read DNS; others their own provisioning runs."""
    principal = ctx.require_principal()
    args = args.validated()
    pages: list[tuple[OperationKind, Page[Any]]] = []
    if _wanted(operation_filter, OperationKind.PROVISIONING):
        statement = _provisioning_runs(principal, operation_filter.status)
        pages.append((OperationKind.PROVISIONING, await paginate(ctx.read, statement, NEWEST_FIRST, args)))
    if _wanted(operation_filter, OperationKind.DNS_VERIFICATION) and _sees_dns(principal):
        statement = _verifications(operation_filter.status)
        pages.append(
            (OperationKind.DNS_VERIFICATION, await paginate(ctx.read, statement, _ZONES_NEWEST_FIRST, args))
        )
    return _merged(pages, args)


def _merged(pages: list[tuple[OperationKind, Page[Any]]], args: PageArgs) -> Page[Operation]:
    """One page out of one page per source: each holds the source's rows next to the cursor, so
    the merged rows next to it are among them."""
    forward = args.last is None
    size = args.first if forward else args.last
    size = DEFAULT_PAGE_SIZE if size is None else size
    entries = sorted(
        (
            (row.created_at, row.id, cursor, Operation(kind, row))
            for kind, page in pages
            for row, cursor in zip(page.rows, page.cursors, strict=True)
        ),
        key=lambda entry: (entry[0], entry[1]),
        reverse=True,
    )
    more = len(entries) > size or any(
        page.has_next_page if forward else page.has_previous_page for _, page in pages
    )
    kept = entries[:size] if forward else entries[len(entries) - size :] if size else []

    async def total() -> int:
        return sum([await page.count() for _, page in pages])

    return Page(
        rows=[entry[3] for entry in kept],
        cursors=[entry[2] for entry in kept],
        has_next_page=more if forward else bool(args.before),
        has_previous_page=bool(args.after) if forward else more,
        count=total,
    )


async def get_operation(ctx: ServiceContext, kind: OperationKind, source_id: uuid.UUID) -> Operation:
    """One operation the caller may see; NOT_FOUND otherwise."""
    if kind == OperationKind.PROVISIONING:
        return Operation(kind, await read_request(ctx, source_id))
    if not _sees_dns(ctx.require_principal()):
        raise NotFound("Operation")
    async with ctx.read() as session:
        zone = await session.get(DnsZone, source_id)
    if zone is None:
        raise NotFound("Operation")
    return Operation(kind, zone)


async def retry_operation(ctx: ServiceContext, kind: OperationKind, source_id: uuid.UUID) -> Operation:
    """Runs a FAILED operation again: a provisioning run from its failed step (as
    retryProvisioningRequest), a DNS verification by checking the delegation now (as
    verifyDnsZoneDelegation). Any other status is NOT_RETRYABLE and changes nothing."""
    operation = await get_operation(ctx, kind, source_id)
    if not operation.retryable:
        raise invalid(
            "id",
            ProvisioningErrorCode.NOT_RETRYABLE,
            f"Only a FAILED operation is retried; this one is {operation.status.value}.",
        )
    if kind == OperationKind.PROVISIONING:
        return Operation(
            kind, await act(ctx, Action.RETRY, source_id, reason="retried from the operations center")
        )
    zone, _check = await verify_delegation(ctx, source_id)
    return Operation(kind, zone)
