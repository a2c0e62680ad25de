"""Per-request dataloaders. Never cached across requests (that would leak data between users)
and never built at import time (aiodataloader binds the running loop when constructed)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from functools import cache
from typing import Any, Protocol, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import Select, bindparam, select

from core.metrics import measured_batch
from core.scope import TenantScope
from models.db import Reads

K = TypeVar("K")
V = TypeVar("V")


class HasId(Protocol):
    id: uuid.UUID


Row = TypeVar("Row", bound=HasId)


class LoaderSet:
    """Loaders of one domain. Each batch runs in a session of its own from ``reads`` (sibling
    fields resolve concurrently and an AsyncSession must not be shared by two tasks; an HTTP
    request's sessions take turns on its one connection), under the request's tenant scope, so
    the tenancy guard applies to every loader query too."""

    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        self.reads = reads
        self.scope = scope

    @staticmethod
    def loader(batch: Callable[[list[K]], Coroutine[Any, Any, list[V]]]) -> DataLoader[K, V]:
        return DataLoader(measured_batch(batch), max_batch_size=500)

    async def fetch(self, statement: Select[Any], params: Mapping[str, Any] | None = None) -> list[Any]:
        async with self.reads.session(self.scope) as session:
            return list(await session.scalars(statement, params))

    async def rows_by_id(self, model: type[Row], ids: Sequence[uuid.UUID]) -> list[Row | None]:
        """The rows of ``model`` with these ids, in their order (None where there is none)."""
        found = {row.id: row for row in await self.fetch(_by_id_statement(model), {"ids": list(ids)})}
        return [found.get(i) for i in ids]

    async def fetch_rows(self, statement: Select[Any]) -> list[Any]:
        """Rows of several columns (``fetch`` gives the first column of each)."""
        async with self.reads.session(self.scope) as session:
            return list(await session.execute(statement))


@cache
def _by_id_statement(model: type[HasId]) -> Select[Any]:
    # Built once per model: SQLAlchemy then reuses its cache key and compiled form for every batch
    # (building and keying a fresh statement costs about as much as running it).
    entity: Any = model
    return select(entity).where(entity.id.in_(bindparam("ids", expanding=True)))
