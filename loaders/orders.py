"""Order loaders: orders and shipping methods by id, and orders' items and status history by order
id, batched per request."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select

from core.scope import TenantScope
from loaders.base import LoaderSet
from loaders.pagination import ChildPageKey, Page, SortKey, child_counts, child_pages
from models.db import Reads
from models.orders import Order, OrderItem, OrderStatusChange
from models.shipping import ShippingMethod

# A user's orders as User.orders lists them (served by ix_orders_user_created).
ORDERS_BY_CREATION = SortKey(Order.created_at, Order.id)


class OrderLoaders(LoaderSet):
    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        super().__init__(reads, scope)
        self.order = self.loader(self._orders)
        self.items_of_order = self.loader(self._items)
        self.history_of_order = self.loader(self._history)
        self.orders_of_user = self.loader(self._orders_of_users)
        self.order_count_of_user = self.loader(self._order_counts)
        self.shipping_method = self.loader(self._shipping_methods)

    async def _orders(self, ids: Sequence[uuid.UUID]) -> list[Order | None]:
        return await self.rows_by_id(Order, ids)

    async def _shipping_methods(self, ids: Sequence[uuid.UUID]) -> list[ShippingMethod | None]:
        return await self.rows_by_id(ShippingMethod, ids)

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

    async def _orders_of_users(self, keys: Sequence[ChildPageKey]) -> list[Page[Order]]:
        return await child_pages(
            self.fetch, Order.user_id, ORDERS_BY_CREATION, keys, self.order_count_of_user.load
        )

    async def _order_counts(self, keys: Sequence[ChildPageKey]) -> list[int]:
        return await child_counts(self.fetch_rows, Order.user_id, Order.id, keys)
