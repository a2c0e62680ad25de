"""Promotion code loaders: codes by id, and the codes each order took, batched per request."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Select, select

from core.scope import TenantScope
from loaders.base import LoaderSet
from models.db import Reads
from models.promotions import PromotionCode, PromotionCodeUse


class PromotionLoaders(LoaderSet):
    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        super().__init__(reads, scope)
        self.code = self.loader(self._codes)
        self.uses_of_order = self.loader(self._uses_of_orders)

    async def _codes(self, ids: Sequence[uuid.UUID]) -> list[PromotionCode | None]:
        return await self.rows_by_id(PromotionCode, ids)

    async def _uses_of_orders(
        self, order_ids: Sequence[uuid.UUID]
    ) -> list[list[tuple[PromotionCodeUse, str]]]:
        """Each order's uses with the code's text, by code."""
        statement = cast(
            "Select[Any]",
            select(PromotionCodeUse, PromotionCode.code)
            .join(PromotionCode, PromotionCode.id == PromotionCodeUse.code_id)
            .where(PromotionCodeUse.order_id.in_(order_ids))
            .order_by(PromotionCode.code),
        )
        rows = await self.fetch_rows(statement)
        found: dict[uuid.UUID, list[tuple[PromotionCodeUse, str]]] = defaultdict(list)
        for use, code in rows:
            found[use.order_id].append((use, code))
        return [found.get(order_id, []) for order_id in order_ids]
