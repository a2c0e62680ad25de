"""Provisioning loaders: requests by id, and the steps, audit trail and requests of an order, by
parent id, batched per request."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from core.scope import TenantScope
from loaders.base import LoaderSet
from models.db import Reads
from models.provisioning import ProvisioningRequest, ProvisioningStep, ProvisioningTransition


def _grouped(rows: list[Any], key: str, parent_ids: Sequence[uuid.UUID]) -> list[list[Any]]:
    found: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in rows:
        found[getattr(row, key)].append(row)
    return [found[parent_id] for parent_id in parent_ids]


class ProvisioningLoaders(LoaderSet):
    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        super().__init__(reads, scope)
        self.request = self.loader(self._requests)
        self.steps_of_request = self.loader(self._steps)
        self.trail_of_request = self.loader(self._trail)
        self.requests_of_order = self.loader(self._of_orders)

    async def _requests(self, ids: Sequence[uuid.UUID]) -> list[ProvisioningRequest | None]:
        return await self.rows_by_id(ProvisioningRequest, ids)

    async def _steps(self, request_ids: Sequence[uuid.UUID]) -> list[list[ProvisioningStep]]:
        rows = await self.fetch(
            select(ProvisioningStep)
            .where(ProvisioningStep.request_id.in_(request_ids))
            .order_by(ProvisioningStep.position)
        )
        return _grouped(rows, "request_id", request_ids)

    async def _trail(self, request_ids: Sequence[uuid.UUID]) -> list[list[ProvisioningTransition]]:
        rows = await self.fetch(
            select(ProvisioningTransition)
            .where(ProvisioningTransition.request_id.in_(request_ids))
            .order_by(ProvisioningTransition.created_at, ProvisioningTransition.id)
        )
        return _grouped(rows, "request_id", request_ids)

    async def _of_orders(self, order_ids: Sequence[uuid.UUID]) -> list[list[ProvisioningRequest]]:
        rows = await self.fetch(
            select(ProvisioningRequest)
            .where(ProvisioningRequest.order_id.in_(order_ids))
            .order_by(ProvisioningRequest.created_at, ProvisioningRequest.id)
        )
        return _grouped(rows, "order_id", order_ids)
