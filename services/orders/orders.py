"""Orders moved through their life cycle (placing one is services/orders/checkout.py).

- Tracked stock (Product.stock_quantity not null) is taken when the order is placed and given back
  when it is cancelled; the product rows are locked in id order, so concurrent orders take turns.
- Every status change goes through services.orders.states (history, outbox event).
- submit, confirmPayment, cancel and revertPayment run through services.idempotency.run_once.
"""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, NotFound, invalid
from core.permissions import ORDER_STAFF, ORDERS_READ, PAYMENT_REVERTERS, SERVICE_ONLY, RoleSet
from core.principal import Principal
from models.catalog import Product
from models.orders import Order, OrderItem, OrderStatus
from services.context import ServiceContext
from services.idempotency import run_once
from services.orders.errors import OrderErrorCode
from services.orders.states import can_move, check_revertible, lock_order, move

S = OrderStatus
MAX_REASON_CHARS = 500


def can_read_order(principal: Principal | None, order: Order) -> bool:
    """The owner, the tenant's staff or a service principal; for everyone else the order does not
    exist."""
    return principal is not None and (
        order.user_id == principal.user_id
        or principal.is_service
        or principal.allows(ORDERS_READ, *ORDER_STAFF)
    )


# ---- reading and locking -------------------------------------------------------------------


async def lock_products(
    session: AsyncSession, tenant_id: uuid.UUID, product_ids: set[uuid.UUID]
) -> dict[uuid.UUID, Product]:
    """Locked in id order, so concurrent orders of the same products never deadlock."""
    rows = await session.scalars(
        select(Product)
        .where(Product.id.in_(product_ids), Product.tenant_id == tenant_id)
        .order_by(Product.id)
        .with_for_update()
    )
    return {product.id: product for product in rows}


@dataclass(frozen=True, slots=True)
class OrderResult:
    order: Order
    # True when an Idempotency-Key repeat returned the first request's order.
    replayed: bool = False


async def read_order(ctx: ServiceContext, order_id: uuid.UUID) -> Order:
    """The order as the caller may see it: NOT_FOUND when missing or out of reach."""
    principal = ctx.require_principal()
    async with ctx.read() as session:
        order = await session.get(Order, order_id)
    if order is None or not can_read_order(principal, order):
        raise NotFound("Order")
    return order


# ---- the life cycle -------------------------------------------------------------------------


class Transition(enum.Enum):
    """A mutation moving an order: (target, operation name, the roles that besides service
    principals may call it; None: the owner and staff)."""

    _value_: tuple[OrderStatus, str, RoleSet | None]

    SUBMIT = (S.AWAITING_PAYMENT, "order.submit", None)
    CONFIRM_PAYMENT = (S.PAID, "order.confirm_payment", SERVICE_ONLY)
    CANCEL = (S.CANCELLED, "order.cancel", None)
    START_PROVISIONING = (S.PROVISIONING, "order.start_provisioning", SERVICE_ONLY)
    COMPLETE = (S.COMPLETED, "order.complete", SERVICE_ONLY)
    # AWAITING_PAYMENT or PAID -> PENDING, refused while money is held (states.check_revertible).
    REVERT_PAYMENT = (S.PENDING, "order.revert_payment", PAYMENT_REVERTERS)

    @property
    def target(self) -> OrderStatus:
        return self._value_[0]

    @property
    def operation(self) -> str:
        return self._value_[1]

    @property
    def for_owner_and_staff(self) -> bool:
        return self._value_[2] is None

    @property
    def operators(self) -> RoleSet:
        return self._value_[2] or ()


async def restore_stock(session: AsyncSession, order: Order) -> None:
    """Gives the tracked stock of a cancelled order back to its products."""
    items = list(await session.scalars(select(OrderItem).where(OrderItem.order_id == order.id)))
    quantities: dict[uuid.UUID, int] = defaultdict(int)
    for item in items:
        if item.product_id is not None:
            quantities[item.product_id] += item.quantity
    if not quantities:
        return
    products = await lock_products(session, order.tenant_id, set(quantities))
    for product_id, quantity in quantities.items():
        product = products.get(product_id)
        if product is not None and product.stock_quantity is not None:
            product.stock_quantity += quantity


async def transition_order(
    ctx: ServiceContext,
    transition: Transition,
    order_id: uuid.UUID,
    *,
    reason: str | None = None,
    idempotency_key: str | None = None,
) -> OrderResult:
    """One life-cycle mutation. Owner and staff may submit and cancel; payment confirmation is
    service-only (service principals, platform admins), provisioning for order operators. An
    order the caller may not read is NOT_FOUND; a move the state machine forbids is
    INVALID_TRANSITION, and nothing changes."""
    principal = ctx.require_principal()
    if not transition.for_owner_and_staff and not principal.is_service_or(*transition.operators):
        raise Forbidden("You are not allowed to do this.")
    reason = reason.strip() if reason and reason.strip() else None
    if reason is not None and len(reason) > MAX_REASON_CHARS:
        raise invalid(
            "reason", OrderErrorCode.TOO_LONG, f"A reason has at most {MAX_REASON_CHARS} characters."
        )

    async def perform(session: AsyncSession) -> uuid.UUID:
        order = await lock_order(session, order_id)
        if not can_read_order(principal, order):
            raise NotFound("Order")
        if transition.for_owner_and_staff:
            actor = "user" if order.user_id == principal.user_id else "staff"
        else:
            actor = "service" if principal.is_service else "admin"
        if transition is Transition.REVERT_PAYMENT and can_move(order.status, transition.target):
            await check_revertible(session, order)
        move(session, order, transition.target, actor=actor, actor_user_id=principal.person_id, reason=reason)
        if transition is Transition.CANCEL:
            await restore_stock(session, order)
        return order.id

    request = {"orderId": str(order_id), "reason": reason}
    outcome = await run_once(ctx, transition.operation, idempotency_key, request, perform)
    return OrderResult(await read_order(ctx, outcome.entity_id), outcome.replayed)
