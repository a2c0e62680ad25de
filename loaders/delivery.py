"""Delivery loaders: each order item's delivery record, with its order's status and owner (who
may read it depends on both), batched per request: one statement for every item of a response."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, select

from core.scope import TenantScope
from loaders.base import LoaderSet
from models.db import Reads
from models.delivery import OrderItemDelivery
from models.orders import Order, OrderStatus


@dataclass(frozen=True, slots=True)
class LoadedDelivery:
    delivery: OrderItemDelivery
    order_status: OrderStatus
    order_user_id: uuid.UUID


class DeliveryLoaders(LoaderSet):
    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        super().__init__(reads, scope)
        self.delivery_of_item = self.loader(self._deliveries)

    async def _deliveries(self, item_ids: Sequence[uuid.UUID]) -> list[LoadedDelivery | None]:
        statement = cast(
            "Select[Any]",
            select(OrderItemDelivery, Order.status, Order.user_id)
            .join(Order, Order.id == OrderItemDelivery.order_id)
            .where(OrderItemDelivery.order_item_id.in_(item_ids)),
        )
        rows = await self.fetch_rows(statement)
        found = {row[0].order_item_id: LoadedDelivery(row[0], row[1], row[2]) for row in rows}
        return [found.get(item_id) for item_id in item_ids]
