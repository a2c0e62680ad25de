"""Usage loaders: usage records and pricing rules by id, batched per request."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from core.scope import TenantScope
from loaders.base import LoaderSet
from models.db import Reads
from models.usage import PricingRule, UsageRecord


class UsageLoaders(LoaderSet):
    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        super().__init__(reads, scope)
        self.usage_record = self.loader(self._records)
        self.pricing_rule = self.loader(self._rules)

    async def _records(self, ids: Sequence[uuid.UUID]) -> list[UsageRecord | None]:
        return await self.rows_by_id(UsageRecord, ids)

    async def _rules(self, ids: Sequence[uuid.UUID]) -> list[PricingRule | None]:
        return await self.rows_by_id(PricingRule, ids)
