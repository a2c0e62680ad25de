"""Order subscriptions: ``orderStatusChanged``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models.orders import Order, OrderStatus
from services.auth import live_principal
from services.order_states import ORDER_STATUS_CHANGED
from services.orders import can_read_order, is_staff
from subscriptions.stream import domain_events

if TYPE_CHECKING:
    from server.context import RequestContext


@dataclass(frozen=True, slots=True)
class StatusChanged:
    order: Order
    from_status: OrderStatus | None
    to_status: OrderStatus
    actor: str


async def order_status_changes(ctx: RequestContext, only: uuid.UUID | None) -> AsyncIterator[StatusChanged]:
    """Status changes of the caller's orders (staff: of every order of the tenant), or of the one
    order ``only``.

    Access is checked again for every event against the caller's live session and roles, and the
    order is read with fresh loaders (the websocket context lives for the whole connection)."""
    principal = ctx.services.require_principal()
    async for event in domain_events(ctx.runtime.broadcast, ORDER_STATUS_CHANGED, principal.tenant_id):
        payload = event["payload"]
        order_id = uuid.UUID(payload["orderId"])
        if only is not None and order_id != only:
            continue
        principal = await live_principal(ctx.services.db, principal)
        ctx.services.principal = principal
        if uuid.UUID(payload["userId"]) != principal.user_id and not is_staff(principal):
            continue  # not worth a read: it is someone else's order
        order = await ctx.new_loaders().orders.order.load(order_id)
        if order is None or not can_read_order(principal, order):
            continue
        yield StatusChanged(
            order=order,
            from_status=OrderStatus(payload["from"]) if payload.get("from") else None,
            to_status=OrderStatus(payload["to"]),
            actor=payload.get("actor", ""),
        )
