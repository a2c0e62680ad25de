"""The ``orderStatusChanged`` stream: status changes of the orders a subscriber may read.

Each event's order is read once per process (``load_status_change``), however many subscribers
it reaches; each subscriber then decides in memory, with its principal from the access store."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from core.principal import Principal
from core.scope import TenantScope
from loaders import Loaders
from models.db import Database
from models.orders import Order, OrderStatus
from realtime.fanout import Fanout
from services.context import ServiceContext
from services.identity.access import AccessStore
from services.identity.live import Messenger, live_events, only_id
from services.orders.orders import can_read_order
from services.orders.states import ORDER_STATUS_CHANGED


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """One status change as every subscriber of this process gets it: the order read once for
    the event, and the loaders its relations load through (shared: one read per relation)."""

    order: Order
    from_status: OrderStatus | None
    to_status: OrderStatus
    actor: str
    loaders: Loaders
    # What the API layer makes of the event once for all its subscribers (its GraphQL payload).
    memo: dict[str, Any] = field(default_factory=dict, compare=False)


async def load_status_change(db: Database, message: dict[str, Any]) -> StatusChanged | None:
    """The event's order as it is now, in the event's tenant; None when it is gone."""
    payload = message["payload"]
    loaders = Loaders(db, TenantScope.of(uuid.UUID(message["tenantId"])))
    order: Order | None = await loaders.orders.order.load(uuid.UUID(payload["orderId"]))
    if order is None:
        return None
    return StatusChanged(
        order=order,
        from_status=OrderStatus(payload["from"]) if payload.get("from") else None,
        to_status=OrderStatus(payload["to"]),
        actor=payload.get("actor", ""),
        loaders=loaders,
    )


def _visible(only: uuid.UUID | None, principal: Principal, change: StatusChanged) -> bool:
    return only_id(only, change.order.id) and can_read_order(principal, change.order)


def order_status_changes(
    services: ServiceContext,
    fanout: Fanout,
    access: AccessStore,
    only: uuid.UUID | None,
    messenger: Messenger[StatusChanged] | None = None,
) -> AsyncIterator[StatusChanged]:
    """Status changes of the caller's orders (staff: of every order of the tenant), or of the one
    order ``only``."""
    prepare = partial(load_status_change, services.db)
    visible = partial(_visible, only)
    return live_events(services, fanout, access, ORDER_STATUS_CHANGED, prepare, visible, messenger)
