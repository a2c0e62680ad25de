"""Stream loaders: streams and moderation reports by id, batched per request."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from core.scope import TenantScope
from loaders.base import LoaderSet
from models.db import Reads
from models.streams import ModerationReport, Stream


class StreamLoaders(LoaderSet):
    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        super().__init__(reads, scope)
        self.stream = self.loader(self._streams)
        self.report = self.loader(self._reports)

    async def _streams(self, ids: Sequence[uuid.UUID]) -> list[Stream | None]:
        return await self.rows_by_id(Stream, ids)

    async def _reports(self, ids: Sequence[uuid.UUID]) -> list[ModerationReport | None]:
        return await self.rows_by_id(ModerationReport, ids)
