"""Engine and session factory. Every session is opened with an explicit tenant scope, which the
tenancy guard (models/tenancy.py) applies to its statements and, on PostgreSQL, row-level security
(models/row_security.py) to the rows they reach."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol, TypeVar

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import InstrumentedAttribute

from core import fast_json
from core.errors import NotFound
from core.scope import TenantScope
from models import row_security
from models.tenancy import SCOPE_KEY

Model = TypeVar("Model")
# Runs at the end of every transaction of a Database, before its COMMIT, in its session: what a
# higher layer adds to every transaction (services/notifications/hooks.py turns the events recorded
# in it into notifications). Passed in at construction (server/runtime.py), so models/ imports no
# service and no hook depends on import order.
BeforeCommit = Callable[[AsyncSession], Awaitable[None]]


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No ping per checkout (a round trip each time): a connection that died with the server fails
    # its statement once, and SQLAlchemy then invalidates the whole pool.
    kwargs.setdefault("pool_pre_ping", False)
    # Last in, first out: a request most often gets the connection the previous one gave back,
    # whose row-security scope (models/row_security.py) is then often the one it needs already.
    kwargs.setdefault("pool_use_lifo", True)
    # JSON columns (addresses, attributes) are read back on most rows a request loads.
    kwargs.setdefault("json_deserializer", fast_json.loads)
    engine = create_async_engine(url, **kwargs)
    row_security.install(engine.sync_engine)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Reads(Protocol):
    """Where read-only sessions come from: the database (a connection each), or one request's reads."""

    def session(self, scope: TenantScope) -> AbstractAsyncContextManager[AsyncSession]: ...


class Database:
    def __init__(self, url: str, *, before_commit: Sequence[BeforeCommit] = (), **engine_kwargs: Any) -> None:
        self.url = url
        self.before_commit = tuple(before_commit)
        self.engine = create_engine(url, **engine_kwargs)
        # Reads need no transaction: each statement sees what is committed, and no BEGIN/ROLLBACK
        # pair is sent around it (the isolation level is reset when the connection goes back).
        self.autocommit_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.autocommit_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self, scope: TenantScope) -> AsyncIterator[AsyncSession]:
        """A session for reads (a connection of its own, autocommit); nothing is written."""
        async with self._read_sessions(info={SCOPE_KEY: scope}) as session:
            yield session

    @asynccontextmanager
    async def transaction(self, scope: TenantScope) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed when the block ends, rolled back on error.
        The ``before_commit`` hooks run first, in the transaction (an error in one rolls it back)."""
        async with self._sessions(info={SCOPE_KEY: scope}) as session, session.begin():
            yield session
            for hook in self.before_commit:
                await hook(session)

    async def dispose(self) -> None:
        await self.engine.dispose()


class RequestReads:
    """Every read of one request on one connection, checked out on first use and given back by
    ``close`` when the request ends.

    Sibling fields resolve concurrently and a connection runs one statement at a time, so sessions
    take turns (a lock); a read nested in another by the same task shares the turn. Each session
    still carries its own tenant scope for the tenancy guard, and each of its statements that scope
    for row-level security (which sets it on the connection when it changes)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._connection: AsyncConnection | None = None
        self._turn = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None
        self._idle: dict[TenantScope, AsyncSession] = {}
        self._closed = False

    @asynccontextmanager
    async def session(self, scope: TenantScope) -> AsyncIterator[AsyncSession]:
        if self._holder is not None and self._holder is asyncio.current_task():
            async with self._bound(scope) as session:
                yield session
            return
        async with self._turn:
            self._holder = asyncio.current_task()
            try:
                async with self._bound(scope) as session:
                    yield session
            finally:
                self._holder = None

    @asynccontextmanager
    async def _bound(self, scope: TenantScope) -> AsyncIterator[AsyncSession]:
        if self._closed:
            # A loader batch still running after its request ended (an error ended execution
            # early): it gets a connection of its own, which goes back to the pool.
            async with self._db.session(scope) as session:
                yield session
            return
        if self._connection is None:
            self._connection = await self._db.autocommit_engine.connect()
        # One session per scope serves the request's reads in turn (opening and closing one per
        # read costs a tenth of a read): it is emptied after each, so no read sees another's rows.
        idle = self._idle.pop(scope, None)
        session = idle or AsyncSession(bind=self._connection, info={SCOPE_KEY: scope}, expire_on_commit=False)
        try:
            yield session
        except BaseException:
            await session.close()
            raise
        session.expunge_all()
        if scope in self._idle:  # a nested read of the same scope gave one back first
            await session.close()
        else:
            self._idle[scope] = session

    async def close(self) -> None:
        """Give the connection back, once a read still under way has finished with it."""
        self._closed = True
        async with self._turn:
            sessions, self._idle = list(self._idle.values()), {}
            for session in sessions:
                await session.close()
            if self._connection is not None:
                connection, self._connection = self._connection, None
                await connection.close()


async def locked_or_not_found(session: AsyncSession, model: type[Model], row_id: uuid.UUID) -> Model:
    """The row, locked FOR UPDATE until the transaction ends; NotFound, named after the model, if
    there is none (or the tenancy guard hides it)."""
    row = await session.get(model, row_id, with_for_update=True)
    if row is None:
        raise NotFound(model.__name__)
    return row


async def insert_unless_present(
    session: AsyncSession, model: type[Model], unique: Sequence[InstrumentedAttribute[Any]], **values: Any
) -> None:
    """INSERT ... ON CONFLICT (``unique``) DO NOTHING, on PostgreSQL and SQLite alike: creates a row
    that a concurrent transaction may be creating too; the loser waits for the winner's commit and
    then inserts nothing, so a following SELECT ... FOR UPDATE finds the one row."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    await session.execute(insert(model).values(**values).on_conflict_do_nothing(index_elements=list(unique)))
