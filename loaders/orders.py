"""Order loaders: orders by id, and their items and status history by order id, batched per request."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select

from core.scope import TenantScope
from loaders.base import LoaderSet
from models.db import Reads
from models.orders import Order, OrderItem, OrderStatusChange


class OrderLoaders(LoaderSet):
    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        super().__init__(reads, scope)
        self.order = self.loader(self._orders)
        self.items_of_order = self.loader(self._items)
        self.history_of_order = self.loader(self._history)

    async def _orders(self, ids: Sequence[uuid.UUID]) -> list[Order | None]:
        return self.by_id(await self.fetch(select(Order).where(Order.id.in_(ids))), ids)

    async def _items(self, order_ids: Sequence[uuid.UUID]) -> list[list[OrderItem]]:
        rows = await self.fetch(
            select(OrderItem).where(OrderItem.order_id.in_(order_ids)).order_by(OrderItem.position)
        )
        items: dict[uuid.UUID, list[OrderItem]] = defaultdict(list)
        for row in rows:
            items[row.order_id].append(row)
        return [items[order_id] for order_id in order_ids]

    async def _history(self, order_ids: Sequence[uuid.UUID]) -> list[list[OrderStatusChange]]:
        rows = await self.fetch(
            select(OrderStatusChange)
            .where(OrderStatusChange.order_id.in_(order_ids))
            .order_by(OrderStatusChange.created_at, OrderStatusChange.id)
        )
        history: dict[uuid.UUID, list[OrderStatusChange]] = defaultdict(list)
        for row in rows:
            history[row.order_id].append(row)
        return [history[order_id] for order_id in order_ids]
