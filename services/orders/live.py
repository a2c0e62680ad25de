"""The ``orderStatusChanged`` stream: status changes of the orders a subscriber may read."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from core.permissions import ORDER_STAFF
from models.orders import Order, OrderStatus
from realtime.broadcast import Broadcast
from realtime.stream import domain_events
from services.context import ServiceContext
from services.identity.auth import live_principal
from services.orders.orders import can_read_order
from services.orders.states import ORDER_STATUS_CHANGED


@dataclass(frozen=True, slots=True)
class StatusChanged:
    order: Order
    from_status: OrderStatus | None
    to_status: OrderStatus
    actor: str


async def order_status_changes(
    services: ServiceContext,
    broadcast: Broadcast,
    load: Callable[[uuid.UUID], Awaitable[Order | None]],
    only: uuid.UUID | None,
) -> AsyncIterator[StatusChanged]:
    """Status changes of the caller's orders (staff: of every order of the tenant), or of the one
    order ``only``.

    Access is checked again for every event against the caller's live session and roles, and
    ``load`` reads the order afresh (the websocket context lives for the whole connection)."""
    principal = services.require_principal()
    async for event in domain_events(broadcast, ORDER_STATUS_CHANGED, principal.tenant_id):
        payload = event["payload"]
        order_id = uuid.UUID(payload["orderId"])
        if only is not None and order_id != only:
            continue
        principal = await live_principal(services.db, principal)
        services.principal = principal
        if uuid.UUID(payload["userId"]) != principal.user_id and not principal.has_any_role(*ORDER_STAFF):
            continue  # not worth a read: it is someone else's order
        order = await load(order_id)
        if order is None or not can_read_order(principal, order):
            continue
        yield StatusChanged(
            order=order,
            from_status=OrderStatus(payload["from"]) if payload.get("from") else None,
            to_status=OrderStatus(payload["to"]),
            actor=payload.get("actor", ""),
        )
