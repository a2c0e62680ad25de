"""Engine and session factory. Every session is opened with an explicit tenant scope."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from core.errors import NotFound
from core.scope import TenantScope
from models.tenancy import SCOPE_KEY

Model = TypeVar("Model")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Database:
    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self, scope: TenantScope) -> AsyncIterator[AsyncSession]:
        """A session for reads; nothing is committed."""
        async with self._sessions(info={SCOPE_KEY: scope}) as session:
            yield session

    @asynccontextmanager
    async def transaction(self, scope: TenantScope) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed when the block ends, rolled back on error."""
        async with self._sessions(info={SCOPE_KEY: scope}) as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


async def locked_or_not_found(session: AsyncSession, model: type[Model], row_id: uuid.UUID) -> Model:
    """The row, locked FOR UPDATE until the transaction ends; NotFound, named after the model, if
    there is none (or the tenancy guard hides it)."""
    row = await session.get(model, row_id, with_for_update=True)
    if row is None:
        raise NotFound(model.__name__)
    return row
