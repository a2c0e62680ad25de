"""A small GraphQL client for tests, and a counter of SQL statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine

from models.row_security import is_scope_statement


@dataclass
class GraphQLResult:
    status: int
    body: dict[str, Any]
    headers: httpx.Headers

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.body.get("errors") or []

    @property
    def error_codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]

    def ok(self) -> Any:
        """The data, after asserting there were no errors."""
        assert self.status == 200 and not self.errors, (self.status, self.body)
        return self.data


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> GraphQLResult:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers
        )
        return GraphQLResult(response.status_code, response.json(), response.headers)

    async def warm(self, token: str) -> None:
        """One request with ``token``, so that the app holds its session's access state: requests
        counted after it cost what they cost in steady state (no access query)."""
        (await self("{ __typename }", token=token)).ok()


@dataclass
class StatementCounter:
    statements: list[str] = field(default_factory=list)
    # Row-security scope switches (models/row_security.py), kept apart: whether one is needed depends
    # on the scope the pooled connection last had, not on the operation.
    scope_statements: list[str] = field(default_factory=list)
    # Connections taken from the pool, and transactions begun (autocommit reads begin none).
    checkouts: int = 0
    transactions: int = 0

    @property
    def count(self) -> int:
        return len(self.statements)


_active_counter: ContextVar[StatementCounter | None] = ContextVar("active_counter", default=None)


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[StatementCounter]:
    """Counts the SQL statements the engine sends on behalf of the code inside the block.

    Only work started from this context is counted (tasks and loader batches inherit it), so the
    app's background tasks, such as the outbox dispatcher's polling, never blur the count."""
    counter = StatementCounter()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if _active_counter.get() is counter:
            kept = counter.scope_statements if is_scope_statement(statement) else counter.statements
            kept.append(statement)

    def checkout(*_: Any) -> None:
        if _active_counter.get() is counter:
            counter.checkouts += 1

    def begin(conn: Connection) -> None:
        if (
            _active_counter.get() is counter
            and conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT"
        ):
            counter.transactions += 1

    token = _active_counter.set(counter)
    listeners: list[tuple[Any, str, Any]] = [
        (engine.sync_engine, "before_cursor_execute", record),
        (engine.sync_engine.pool, "checkout", checkout),
        (engine.sync_engine, "begin", begin),
    ]
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        yield counter
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)
        _active_counter.reset(token)
