"""The order life cycle as an explicit state machine. Every move is checked here, recorded with its
actor, and announced as a domain event in the same transaction.

Reverting a payment (AWAITING_PAYMENT or PAID -> PENDING, seed 000 /orders/:id/revert-payment) is
refused while money is held or may still arrive: a payment of the order that SUCCEEDED and is not
wholly refunded, or an invoice of the order with an amount paid, is PAYMENT_CAPTURED (refund it:
that is the way back for captured money); a payment still REQUIRES_PAYMENT or PROCESSING is
PAYMENT_IN_PROGRESS; an item whose delivery e-mail went out is ALREADY_DELIVERED. What passes is an
order marked paid without money held (e.g. a bank transfer confirmed by hand that bounced), or
one whose payments all failed or were cancelled."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, invalid
from models.base import utcnow
from models.billing import Invoice, Payment, PaymentStatus
from models.delivery import OrderItemDelivery
from models.orders import Order, OrderStatus, OrderStatusChange
from services.events import record_event
from services.orders.errors import OrderErrorCode

ORDER_STATUS_CHANGED = "order.status_changed"

S = OrderStatus
ALLOWED: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.AWAITING_PAYMENT, S.CANCELLED}),
    S.AWAITING_PAYMENT: frozenset({S.PAID, S.CANCELLED, S.PENDING}),
    S.PAID: frozenset({S.PROVISIONING, S.PARTIALLY_REFUNDED, S.REFUNDED, S.PENDING}),
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
    elif target == S.PENDING:
        order.paid_at = None
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


async def check_revertible(session: AsyncSession, order: Order) -> None:
    """Refuses reverting the payment of the locked ``order`` while money is held or may still
    arrive (see the module's docstring); the state machine checks the status itself."""
    open_payment = (Payment.order_id == order.id) & Payment.status.in_(
        (PaymentStatus.REQUIRES_PAYMENT, PaymentStatus.PROCESSING)
    )
    captured = (
        (Payment.order_id == order.id)
        & (Payment.status == PaymentStatus.SUCCEEDED)
        & (Payment.amount_refunded < Payment.amount)
    )
    row = (
        await session.execute(
            select(
                exists().where(captured),
                exists().where((Invoice.order_id == order.id) & (Invoice.amount_paid > 0)),
                exists().where(open_payment),
                exists().where((OrderItemDelivery.order_id == order.id) & (OrderItemDelivery.send_count > 0)),
            )
        )
    ).one()
    if row[0] or row[1]:
        raise invalid(
            None,
            OrderErrorCode.PAYMENT_CAPTURED,
            "Money was taken for this order and not refunded: refund it instead.",
        )
    if row[2]:
        raise invalid(
            None,
            OrderErrorCode.PAYMENT_IN_PROGRESS,
            "A payment of this order is open or processing: cancel or settle it first.",
        )
    if row[3]:
        raise invalid(None, OrderErrorCode.ALREADY_DELIVERED, "An item of this order was delivered already.")
