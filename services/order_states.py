"""The order life cycle as an explicit state machine. Every move is checked here, recorded with its
actor, and announced as a domain event in the same transaction."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.orders import Order, OrderStatus, OrderStatusChange
from services.errors import invalid
from services.events import record_event

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
            None, "INVALID_TRANSITION", f"An order cannot go from {order.status.value} to {target.value}."
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
    session.add(change)
    previous, order.status = order.status, target
    now = utcnow()
    if target == S.PAID:
        order.paid_at = now
    elif target == S.CANCELLED:
        order.cancelled_at = now
    record_event(
        session,
        topic=ORDER_STATUS_CHANGED,
        tenant_id=order.tenant_id,
        payload={
            "orderId": str(order.id),
            "userId": str(order.user_id),
            "from": previous.value,
            "to": target.value,
            "actor": actor,
        },
    )
    return change
