"""Provisioning requests: asked for directly or opened by a paid order, read under their
visibility rule, and moved through their life cycle by services (start, advance, fail) and by
owners and staff (retry, suspend, reactivate, complete a manual one, deprovision).

Who sees a request: its owner, the tenant's staff (core/permissions.py PROVISIONING_STAFF),
service principals and platform admins; for anyone else it does not exist (NOT_FOUND)."""

from __future__ import annotations

import enum
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, NotFound, invalid
from core.permissions import PROVISIONING_RUNNERS, PROVISIONING_STAFF
from core.principal import Principal
from models.base import utcnow
from models.billing import Plan
from models.catalog import Product
from models.orders import Order, OrderItem, OrderStatus
from models.provisioning import ProvisioningRequest, ProvisioningStatus, StepStatus
from services.context import ServiceContext
from services.events import recorded_events
from services.orders import states as order_states
from services.provisioning.errors import ProvisioningErrorCode
from services.provisioning.states import (
    add_steps,
    can_move,
    lock_request,
    move,
    percent_of,
    record_created,
    refuse,
    steps_of,
    touch,
)

S = ProvisioningStatus
MAX_PARAMETER_BYTES = 8192
MAX_PARAMETER_DEPTH = 5
MAX_REASON_CHARS = 500


def can_read_request(principal: Principal | None, request: ProvisioningRequest) -> bool:
    return principal is not None and (
        request.user_id == principal.user_id
        or principal.is_service
        or principal.has_any_role(*PROVISIONING_STAFF)
    )


def is_staff(principal: Principal) -> bool:
    return principal.is_service or principal.has_any_role(*PROVISIONING_STAFF)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def check_parameters(parameters: Any) -> dict[str, Any]:
    """A JSON object of at most 8 KiB and 5 levels of nesting, else INVALID_PARAMETERS."""
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise invalid("parameters", ProvisioningErrorCode.INVALID_PARAMETERS, "Parameters are a JSON object.")
    if len(json.dumps(parameters, separators=(",", ":")).encode()) > MAX_PARAMETER_BYTES:
        raise invalid(
            "parameters",
            ProvisioningErrorCode.INVALID_PARAMETERS,
            f"Parameters take at most {MAX_PARAMETER_BYTES} bytes of JSON.",
        )
    if _depth(parameters) > MAX_PARAMETER_DEPTH:
        raise invalid(
            "parameters",
            ProvisioningErrorCode.INVALID_PARAMETERS,
            f"Parameters nest at most {MAX_PARAMETER_DEPTH} levels deep.",
        )
    return parameters


def _reason(reason: str | None) -> str | None:
    reason = reason.strip() if reason and reason.strip() else None
    if reason is not None and len(reason) > MAX_REASON_CHARS:
        raise invalid(
            "reason", ProvisioningErrorCode.TOO_LONG, f"A reason has at most {MAX_REASON_CHARS} characters."
        )
    return reason


def _actor(principal: Principal, request: ProvisioningRequest) -> str:
    if principal.is_service:
        return "service"
    if request.user_id == principal.user_id:
        return "user"
    return "admin" if principal.is_platform_admin else "staff"


def new_request(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    actor: str,
    actor_user_id: uuid.UUID | None,
    product_id: uuid.UUID | None = None,
    plan_id: uuid.UUID | None = None,
    order_id: uuid.UUID | None = None,
    order_item_id: uuid.UUID | None = None,
    parameters: dict[str, Any] | None = None,
    manual: bool = False,
) -> ProvisioningRequest:
    now = utcnow()
    request = ProvisioningRequest(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        user_id=user_id,
        product_id=product_id,
        plan_id=plan_id,
        order_id=order_id,
        order_item_id=order_item_id,
        parameters=parameters or {},
        manual=manual,
        status=S.PENDING,
        percent=0,
        attempt=1,
        failure_count=0,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    add_steps(session, request)
    record_created(session, request, actor=actor, actor_user_id=actor_user_id)
    return request


@dataclass(frozen=True, slots=True)
class NewRequest:
    product_id: uuid.UUID | None
    plan_id: uuid.UUID | None
    parameters: Any
    manual: bool = False


async def create_request(ctx: ServiceContext, new: NewRequest) -> ProvisioningRequest:
    """A PENDING request of the caller for a product that needs provisioning (or a plan); a
    service starts it (startProvisioningRequest)."""
    principal = ctx.require_principal()
    if principal.is_service:
        raise Forbidden("A provisioning request is a user's: services start them, users ask for them.")
    parameters = check_parameters(new.parameters)
    if new.product_id is None and new.plan_id is None:
        raise invalid("productId", ProvisioningErrorCode.PRODUCT_REQUIRED, "Name a product or a plan.")
    async with ctx.transaction() as session:
        if new.product_id is not None:
            product = await session.get(Product, new.product_id)
            if product is None or not product.requires_provisioning:
                raise invalid(
                    "productId",
                    ProvisioningErrorCode.PRODUCT_NOT_PROVISIONED,
                    "No product of the tenant with this id needs provisioning.",
                )
        if new.plan_id is not None and await session.get(Plan, new.plan_id) is None:
            raise invalid("planId", ProvisioningErrorCode.PLAN_NOT_FOUND, "The tenant has no such plan.")
        request = new_request(
            session,
            tenant_id=principal.tenant_id,
            user_id=principal.user_id,
            actor="user",
            actor_user_id=principal.person_id,
            product_id=new.product_id,
            plan_id=new.plan_id,
            parameters=parameters,
            manual=new.manual,
        )
    return request


async def read_request(ctx: ServiceContext, request_id: uuid.UUID) -> ProvisioningRequest:
    principal = ctx.require_principal()
    async with ctx.read() as session:
        request = await session.get(ProvisioningRequest, request_id)
    if request is None or not can_read_request(principal, request):
        raise NotFound("ProvisioningRequest")
    return request


# ---- the order's side -----------------------------------------------------------------------


async def start_for_order(session: AsyncSession, order: Order, *, actor: str) -> int:
    """In the transaction that made ``order`` (locked) PAID: a RUNNING request per item whose
    product needs provisioning, and the order PROVISIONING when there is one; returns how many."""
    rows = (
        await session.execute(
            select(OrderItem, Product.id)
            .join(Product, Product.id == OrderItem.product_id)
            .where(OrderItem.order_id == order.id, Product.requires_provisioning.is_(True))
            .order_by(OrderItem.position)
        )
    ).all()
    if not rows or order.status != OrderStatus.PAID:
        return 0
    for item, product_id in rows:
        request = new_request(
            session,
            tenant_id=order.tenant_id,
            user_id=order.user_id,
            actor=actor,
            actor_user_id=None,
            product_id=product_id,
            order_id=order.id,
            order_item_id=item.id,
            parameters=dict(item.attributes or {}),
        )
        move(session, request, S.RUNNING, actor=actor, reason=f"order {order.number} paid")
    order_states.move(session, order, OrderStatus.PROVISIONING, actor=actor, reason="provisioning started")
    return len(rows)


async def deprovision_for_order(session: AsyncSession, order: Order, *, actor: str) -> int:
    """In the transaction that refunded all of ``order``: every request of it that runs or ran goes
    DEPROVISIONING (the workers release the service), one never started DEPROVISIONED; returns
    how many moved. A partial refund keeps the services: what it pays back is not said per item."""
    requests = await session.scalars(
        select(ProvisioningRequest)
        .where(ProvisioningRequest.order_id == order.id)
        .order_by(ProvisioningRequest.created_at, ProvisioningRequest.id)
        .with_for_update()
    )
    moved = 0
    for request in requests:
        target = S.DEPROVISIONED if request.status == S.PENDING else S.DEPROVISIONING
        if can_move(request.status, target):
            move(session, request, target, actor=actor, reason=f"order {order.number} refunded")
            moved += 1
    return moved


# How many of the session's recorded events follow_orders has seen (session.info).
_SEEN = "provisioning_order_events_seen"


async def follow_orders(session: AsyncSession) -> None:
    """Before commit (services/commit_rules.py), in the transaction that moved an order: one that
    reached PAID starts its provisioning, one REFUNDED tears it down. Orders build below
    provisioning and cannot call it; the order's ``order.status_changed`` event says enough, and
    the order is in the session already (the move locked it)."""
    events = recorded_events(session)
    seen = session.info.get(_SEEN, 0)
    while seen < len(events):
        event = events[seen]
        seen = session.info[_SEEN] = seen + 1
        target = event.payload.get("to") if event.topic == order_states.ORDER_STATUS_CHANGED else None
        if target not in (OrderStatus.PAID, OrderStatus.REFUNDED):
            continue
        order = await session.get(Order, uuid.UUID(event.payload["orderId"]))
        if order is None or order.status != target:  # moved on again in the same transaction
            continue
        actor = str(event.payload["actor"])
        if target == OrderStatus.PAID:
            await start_for_order(session, order, actor=actor)
        else:
            await deprovision_for_order(session, order, actor=actor)


# What an order waits for no more: a service that runs (or ran and was released).
SETTLED = frozenset({S.ACTIVE, S.SUSPENDED, S.DEPROVISIONED})


async def complete_order_if_done(session: AsyncSession, request: ProvisioningRequest, *, actor: str) -> None:
    """After ``request`` went ACTIVE or DEPROVISIONED: its order COMPLETED once every request of it
    is settled (a failed one waits for its retry, or for being deprovisioned). The order is locked
    before the others are looked at, so two workers finishing the last two requests at once take
    turns, and the second sees the first's commit."""
    if request.order_id is None:
        return
    order = await session.get(Order, request.order_id, with_for_update=True, populate_existing=True)
    if order is None or order.status != OrderStatus.PROVISIONING:
        return
    statuses = set(
        await session.scalars(
            select(ProvisioningRequest.status).where(
                ProvisioningRequest.order_id == request.order_id, ProvisioningRequest.id != request.id
            )
        )
    )
    if statuses <= SETTLED:
        order_states.move(session, order, OrderStatus.COMPLETED, actor=actor, reason="provisioned")


# ---- the life cycle -------------------------------------------------------------------------


class Action(enum.Enum):
    """A mutation moving a request: (operation name, service-only)."""

    _value_: tuple[str, bool]

    START = ("start", True)
    ADVANCE = ("advance", True)
    FAIL = ("fail", True)
    RETRY = ("retry", False)
    SUSPEND = ("suspend", False)
    REACTIVATE = ("reactivate", False)
    COMPLETE_MANUAL = ("complete_manual", False)
    DEPROVISION = ("deprovision", False)

    @property
    def service_only(self) -> bool:
        return self._value_[1]


async def act(
    ctx: ServiceContext, action: Action, request_id: uuid.UUID, *, reason: str | None = None
) -> ProvisioningRequest:
    """One life-cycle mutation. Start, advance and fail are for service principals and platform
    admins (FORBIDDEN for others); the rest for the owner and staff. A request the caller may not
    read is NOT_FOUND; a move the state machine forbids is INVALID_TRANSITION, nothing changes."""
    principal = ctx.require_principal()
    if action.service_only and not principal.is_service_or(*PROVISIONING_RUNNERS):
        raise Forbidden("Only services start, advance and fail provisioning requests.")
    reason = _reason(reason)
    async with ctx.transaction() as session:
        request = await lock_request(session, request_id)
        if not can_read_request(principal, request):
            raise NotFound("ProvisioningRequest")
        actor = _actor(principal, request)
        await _perform(session, action, request, actor, principal.person_id, reason)
    return request


async def _perform(
    session: AsyncSession,
    action: Action,
    request: ProvisioningRequest,
    actor: str,
    actor_user_id: uuid.UUID | None,
    reason: str | None,
) -> None:
    def to(target: ProvisioningStatus, why: str | None = reason) -> None:
        move(session, request, target, actor=actor, actor_user_id=actor_user_id, reason=why)

    match action:
        case Action.START:
            if request.status != S.PENDING:
                raise refuse(request, S.RUNNING)
            to(S.RUNNING)
        case Action.FAIL:
            if request.status not in (S.PENDING, S.RUNNING):
                raise refuse(request, S.FAILED)
            for step in await steps_of(session, request.id):
                if step.status == StepStatus.RUNNING:
                    step.status, step.finished_at = StepStatus.FAILED, utcnow()
                    step.message = (reason or "Failed by a service.")[:500]
            to(S.FAILED, reason or "failed by a service")
        case Action.ADVANCE:
            await _advance(session, request, actor, actor_user_id, reason)
        case Action.RETRY:
            if request.status != S.FAILED:
                raise refuse(request, "RUNNING (retry)")
            request.attempt += 1
            request.failure_reason = None
            for step in await steps_of(session, request.id):
                if step.status != StepStatus.COMPLETED:
                    step.status, step.started_at, step.finished_at, step.message = (
                        StepStatus.PENDING,
                        None,
                        None,
                        None,
                    )
            to(S.RUNNING, reason or "retry")
        case Action.SUSPEND:
            if request.status != S.ACTIVE:
                raise refuse(request, S.SUSPENDED)
            to(S.SUSPENDED)
        case Action.REACTIVATE:
            if request.status != S.SUSPENDED:
                raise refuse(request, "ACTIVE (reactivate)")
            to(S.ACTIVE)
        case Action.COMPLETE_MANUAL:
            if not request.manual:
                raise invalid(
                    None, ProvisioningErrorCode.NOT_MANUAL, "The workers run this request: it is not manual."
                )
            if request.status not in (S.PENDING, S.RUNNING):
                raise refuse(request, S.ACTIVE)
            now = utcnow()
            for step in await steps_of(session, request.id):
                if step.status != StepStatus.COMPLETED:
                    step.status, step.started_at, step.finished_at = (
                        StepStatus.COMPLETED,
                        step.started_at or now,
                        now,
                    )
                    step.message = "Completed by hand."
            to(S.ACTIVE, reason or "completed by hand")
            await complete_order_if_done(session, request, actor=actor)
        case Action.DEPROVISION:
            to(S.DEPROVISIONED if request.status == S.PENDING else S.DEPROVISIONING)
            if request.status == S.DEPROVISIONED:
                await complete_order_if_done(session, request, actor=actor)


async def _advance(
    session: AsyncSession,
    request: ProvisioningRequest,
    actor: str,
    actor_user_id: uuid.UUID | None,
    reason: str | None,
) -> None:
    """A service reports the next step done (RUNNING only); after the last one the request is ACTIVE."""
    if request.status != S.RUNNING:
        raise refuse(request, "its next step (advance)")
    steps = await steps_of(session, request.id)
    step = next((s for s in steps if s.status != StepStatus.COMPLETED), None)
    if step is None:
        raise invalid(None, ProvisioningErrorCode.NO_STEP_LEFT, "Every step is done already.")
    now = utcnow()
    step.status, step.started_at, step.finished_at = StepStatus.COMPLETED, step.started_at or now, now
    step.message = (reason or "Reported done by a service.")[:500]
    request.percent = percent_of(steps)
    if all(s.status == StepStatus.COMPLETED for s in steps):
        move(session, request, S.ACTIVE, actor=actor, actor_user_id=actor_user_id, reason="all steps done")
        await complete_order_if_done(session, request, actor=actor)
    else:
        touch(session, request, actor=actor, step=step.name.value)
