"""The provisioning life cycle as an explicit state machine. Every move is checked here, recorded
in the request's audit trail with its actor, and announced as a domain event (the outbox) in the
same transaction.

    PENDING -> RUNNING -> ACTIVE <-> SUSPENDED
       |          |         |          |
       |          v         v          v
       |        FAILED -> DEPROVISIONING -> DEPROVISIONED
       |          | (retry: back to RUNNING)
       +-> ACTIVE (manual requests) / FAILED / DEPROVISIONED (never started)
    RUNNING -> DEPROVISIONING as well (its order refunded, or its owner gave up mid-run)
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, invalid
from models.base import utcnow
from models.provisioning import (
    STEPS,
    ProvisioningRequest,
    ProvisioningStatus,
    ProvisioningStep,
    ProvisioningTransition,
    StepStatus,
)
from services.events import record_event
from services.provisioning.errors import ProvisioningErrorCode

PROVISIONING_CHANGED = "provisioning.changed"

S = ProvisioningStatus
ALLOWED: dict[ProvisioningStatus, frozenset[ProvisioningStatus]] = {
    S.PENDING: frozenset({S.RUNNING, S.ACTIVE, S.FAILED, S.DEPROVISIONED}),
    S.RUNNING: frozenset({S.ACTIVE, S.FAILED, S.DEPROVISIONING}),
    S.ACTIVE: frozenset({S.SUSPENDED, S.DEPROVISIONING}),
    S.FAILED: frozenset({S.RUNNING, S.DEPROVISIONING}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.DEPROVISIONING}),
    S.DEPROVISIONING: frozenset({S.DEPROVISIONED}),
    S.DEPROVISIONED: frozenset(),
}
# Where a progress subscription ends.
TERMINAL: frozenset[ProvisioningStatus] = frozenset({S.ACTIVE, S.FAILED, S.DEPROVISIONED})


def can_move(current: ProvisioningStatus, target: ProvisioningStatus) -> bool:
    return target in ALLOWED[current]


def refuse(request: ProvisioningRequest, target: ProvisioningStatus | str) -> Exception:
    name = target.value if isinstance(target, ProvisioningStatus) else target
    return invalid(
        None,
        ProvisioningErrorCode.INVALID_TRANSITION,
        f"A {request.status.value} provisioning request cannot go to {name}.",
    )


async def lock_request(session: AsyncSession, request_id: uuid.UUID) -> ProvisioningRequest:
    """The request, its row locked until the transaction ends; NOT_FOUND when it does not exist in
    the session's tenant scope."""
    request = await session.get(ProvisioningRequest, request_id, with_for_update=True, populate_existing=True)
    if request is None:
        raise NotFound("ProvisioningRequest")
    return request


async def steps_of(session: AsyncSession, request_id: uuid.UUID) -> list[ProvisioningStep]:
    return list(
        await session.scalars(
            select(ProvisioningStep)
            .where(ProvisioningStep.request_id == request_id)
            .order_by(ProvisioningStep.position)
        )
    )


def add_steps(session: AsyncSession, request: ProvisioningRequest) -> None:
    for position, name in enumerate(STEPS, start=1):
        session.add(
            ProvisioningStep(tenant_id=request.tenant_id, request_id=request.id, position=position, name=name)
        )


def percent_of(steps: list[ProvisioningStep]) -> int:
    done = sum(1 for step in steps if step.status == StepStatus.COMPLETED)
    return done * 100 // len(STEPS)


def touch(
    session: AsyncSession, request: ProvisioningRequest, *, actor: str, step: str | None = None
) -> None:
    """A change of the request that is not a status change (a step started or finished): a new
    version, announced."""
    now = utcnow()
    if request.updated_at is not None and now <= request.updated_at:
        now = request.updated_at + timedelta(microseconds=1)
    request.updated_at = now
    request.version += 1
    _announce(session, request, None, actor, step)


def _announce(
    session: AsyncSession,
    request: ProvisioningRequest,
    previous: ProvisioningStatus | None,
    actor: str,
    step: str | None = None,
) -> None:
    record_event(
        session,
        topic=PROVISIONING_CHANGED,
        tenant_id=request.tenant_id,
        payload={
            "requestId": str(request.id),
            "userId": str(request.user_id),
            "version": request.version,
            "from": previous.value if previous else None,
            "to": request.status.value,
            "percent": request.percent,
            "step": step,
            "actor": actor,
        },
    )


def record_created(
    session: AsyncSession, request: ProvisioningRequest, *, actor: str, actor_user_id: uuid.UUID | None
) -> None:
    """The first audit entry of a new request (from nothing to PENDING), announced."""
    session.add(
        ProvisioningTransition(
            tenant_id=request.tenant_id,
            request_id=request.id,
            from_status=None,
            to_status=request.status,
            actor=actor,
            actor_user_id=actor_user_id,
            created_at=request.created_at,
        )
    )
    _announce(session, request, None, actor)


def move(
    session: AsyncSession,
    request: ProvisioningRequest,
    target: ProvisioningStatus,
    *,
    actor: str,
    actor_user_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> None:
    """Move the locked ``request`` to ``target`` inside the caller's transaction; an illegal move
    raises INVALID_TRANSITION and changes nothing."""
    if not can_move(request.status, target):
        raise refuse(request, target)
    now = utcnow()
    if request.updated_at is not None and now <= request.updated_at:
        now = request.updated_at + timedelta(microseconds=1)
    session.add(
        ProvisioningTransition(
            tenant_id=request.tenant_id,
            request_id=request.id,
            from_status=request.status,
            to_status=target,
            actor=actor,
            actor_user_id=actor_user_id,
            reason=reason,
            created_at=now,
        )
    )
    previous, request.status = request.status, target
    request.updated_at = now
    request.version += 1
    if target == S.RUNNING and request.started_at is None:
        request.started_at = now
    elif target == S.ACTIVE:
        request.activated_at = request.activated_at or now
        request.percent = 100
    elif target == S.FAILED:
        request.failure_count += 1
        request.failure_reason = (reason or "failed")[:500]
    elif target == S.DEPROVISIONED:
        request.finished_at = now
    # A new status is a fresh start: whichever worker held the request lets it go.
    request.lease_owner = None
    request.lease_expires_at = None
    _announce(session, request, previous, actor)
