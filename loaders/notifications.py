"""Notification loaders: notifications by id, batched per request."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from core.scope import TenantScope
from loaders.base import LoaderSet
from models.db import Reads
from models.notifications import Notification


class NotificationLoaders(LoaderSet):
    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        super().__init__(reads, scope)
        self.notification = self.loader(self._notifications)

    async def _notifications(self, ids: Sequence[uuid.UUID]) -> list[Notification | None]:
        return await self.rows_by_id(Notification, ids)
