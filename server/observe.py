"""Every GraphQL operation measured (core/metrics.py): counted by name, type and outcome, timed,
its errors counted by code, its SQL statements counted, and logged when slow."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from time import perf_counter

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from core.metrics import (
    OTHER,
    SUBSCRIPTIONS,
    StatementCount,
    error_code_label,
    errors,
    is_name,
    operation_label,
    operation_seconds,
    operations,
    statement_count,
)
from subgraph.cost import find_operation

log = logging.getLogger("tenantgraph.slow")

UNKNOWN_TYPE = "unknown"  # the document did not parse, or names no operation it has


def _code(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    return error_code_label(code) if isinstance(code, str) else OTHER


def _type(context: ExecutionContext, name: str | None) -> str:
    """The operation's type (strawberry's ``operation_type`` raises where this says UNKNOWN_TYPE)."""
    document = context.graphql_document
    operation = find_operation(document, name) if document is not None else None
    return UNKNOWN_TYPE if operation is None else str(operation.operation.value)


class OperationObserver(SchemaExtension):
    """First of the schema's extensions, so that it ends last: after ErrorPolicy gave each error
    its code. One hook only (each hook of each extension costs every operation). Operations over
    HTTP are timed; one over a websocket (a subscription, or the odd query sent there) counts as
    active while it runs, and is counted when it ends, however it ends (a client's complete
    cancels it)."""

    def __init__(self, slow_seconds: float | None) -> None:
        self.slow_seconds = slow_seconds

    @classmethod
    def factory(cls, slow_operation_ms: float) -> Callable[[], SchemaExtension]:
        slow_seconds = slow_operation_ms / 1000 if slow_operation_ms > 0 else None
        return lambda: cls(slow_seconds)

    def on_operation(self) -> Iterator[None]:
        if self.execution_context.context.is_websocket:
            yield from self._on_websocket()
            return
        # Counted for the slow log only. Never reset: each HTTP request runs in a task of its own
        # (and the operations of a batch each set their own).
        statements = StatementCount() if self.slow_seconds is not None else None
        statement_count.set(statements)
        started = perf_counter()
        yield
        self._observe(perf_counter() - started, statements)

    def _on_websocket(self) -> Iterator[None]:
        SUBSCRIPTIONS.inc()
        try:
            yield
        finally:
            SUBSCRIPTIONS.dec()
            given = self.execution_context.operation_name
            self._count(given, _type(self.execution_context, given))

    def _count(self, given: str | None, kind: str) -> str:
        """Counts the operation and its errors; returns its name label."""
        name = operation_label(given)
        result = self.execution_context.result
        codes = [_code(error) for error in (result.errors if result is not None else None) or ()]
        for code in codes:
            errors(code).inc()
        operations(name, kind, codes[0] if codes else "ok").inc()
        return name

    def _observe(self, seconds: float, statements: StatementCount | None) -> None:
        given = self.execution_context.operation_name
        kind = _type(self.execution_context, given)
        name = self._count(given, kind)
        operation_seconds(name, kind).observe(seconds)
        if statements is not None and self.slow_seconds is not None and seconds >= self.slow_seconds:
            log.warning(
                "slow operation %s (%s): %.0f ms, %d SQL statements",
                given if given is not None and is_name(given) else name,
                kind,
                seconds * 1000,
                statements.count,
            )
