"""The order life cycle as an explicit state machine. Every move is checked here, recorded with its
actor, and announced as a domain event in the same transaction."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, invalid
from models.base import utcnow
from models.orders import Order, OrderStatus, OrderStatusChange
from services.events import record_event
from services.orders.errors import OrderErrorCode

ORDER_STATUS_CHANGED = "order.status_changed"

S = OrderStatus
ALLOWED: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.AWAITING_PAYMENT, S.CANCELLED}),
    S.AWAITING_PAYMENT: frozenset({S.PAID, S.CANCELLED, S.PENDING}),
    S.PAID: frozenset({S.PROVISIONING, S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PROVISIONING: frozenset({S.COMPLETED, S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.COMPLETED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}


def can_move(current: OrderStatus, target: OrderStatus) -> bool:
    return target in ALLOWED[current]


async def lock_order(session: AsyncSession, order_id: uuid.UUID) -> Order:
    """The order, its row locked until the transaction ends (call before ``move``); NOT_FOUND
    when it does not exist in the session's tenant scope."""
    order = await session.get(Order, order_id, with_for_update=True, populate_existing=True)
    if order is None:
        raise NotFound("Order")
    return order


def _announce(session: AsyncSession, order: Order, previous: OrderStatus | None, actor: str) -> None:
    record_event(
        session,
        topic=ORDER_STATUS_CHANGED,
        tenant_id=order.tenant_id,
        payload={
            "orderId": str(order.id),
            "userId": str(order.user_id),
            "from": previous.value if previous else None,
            "to": order.status.value,
            "actor": actor,
        },
    )


def record_created(
    session: AsyncSession, order: Order, *, actor: str, actor_user_id: uuid.UUID | None = None
) -> OrderStatusChange:
    """The first history entry of a new order (from nothing to its initial status), announced
    like every other change (``from`` is null)."""
    change = OrderStatusChange(
        tenant_id=order.tenant_id,
        order_id=order.id,
        from_status=None,
        to_status=order.status,
        actor=actor,
        actor_user_id=actor_user_id,
        created_at=order.created_at,
    )
    session.add(change)
    _announce(session, order, None, actor)
    return change


def move(
    session: AsyncSession,
    order: Order,
    target: OrderStatus,
    *,
    actor: str,
    actor_user_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> OrderStatusChange:
    """Move ``order`` to ``target`` inside the caller's transaction (the caller holds the row lock).

    ``actor`` names who did it: "user", "admin", "service", "webhook:stripe", ...
    An illegal move raises INVALID_TRANSITION and changes nothing."""
    if not can_move(order.status, target):
        raise invalid(
            None,
            OrderErrorCode.INVALID_TRANSITION,
            f"An order cannot go from {order.status.value} to {target.value}.",
        )
    change = OrderStatusChange(
        tenant_id=order.tenant_id,
        order_id=order.id,
        from_status=order.status,
        to_status=target,
        actor=actor,
        actor_user_id=actor_user_id,
        reason=reason,
    )
    # Strictly after the order's last change: the history keeps its order even for moves made
    # within one transaction (or one clock tick).
    now = utcnow()
    if order.updated_at is not None and now <= order.updated_at:
        now = order.updated_at + timedelta(microseconds=1)
    change.created_at = now
    session.add(change)
    previous, order.status = order.status, target
    if target == S.PAID:
        order.paid_at = now
    elif target == S.CANCELLED:
        order.cancelled_at = now
    order.updated_at = now
    _announce(session, order, previous, actor)
    return change


def apply_refund(
    session: AsyncSession,
    order: Order,
    amount: int,
    *,
    actor: str,
    actor_user_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> OrderStatusChange:
    """Adds a refunded ``amount`` (minor units of the order's currency) to the locked order and
    moves it to PARTIALLY_REFUNDED, or REFUNDED once everything paid is refunded. More than what
    is left, or a non-positive amount, is INVALID_AMOUNT and changes nothing."""
    if not 0 < amount <= order.total - order.refunded_total:
        raise invalid(
            "amount",
            OrderErrorCode.INVALID_AMOUNT,
            f"Refunds are 1 to {order.total - order.refunded_total} {order.currency} minor units.",
        )
    target = S.REFUNDED if order.refunded_total + amount == order.total else S.PARTIALLY_REFUNDED
    change = move(session, order, target, actor=actor, actor_user_id=actor_user_id, reason=reason)
    order.refunded_total += amount
    return change
