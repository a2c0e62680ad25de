"""Strings in a request are clean before anything runs: no control characters in variables or
literals (a NUL reached PostgreSQL and came back as INTERNAL_SERVER_ERROR)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from graphql import BREAK, ArgumentNode, ExecutionResult, GraphQLError, StringValueNode, Visitor, visit
from strawberry.extensions import SchemaExtension

from core.errors import ErrorCode

# C0 control characters but tab, line feed and carriage return, and DEL: no input needs them, and
# PostgreSQL refuses NUL outright (it came back as an INTERNAL_SERVER_ERROR).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _control_in(value: object, path: str) -> str | None:
    """The path of the first string in ``value`` (a variable's JSON) with a control character."""
    if isinstance(value, str):
        return path if _CONTROL.search(value) else None
    if isinstance(value, dict):
        items: Iterable[tuple[str, object]] = ((f"{path}.{k}", v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{path}[{n}]", v) for n, v in enumerate(value))
    else:
        return None
    for inner_path, inner in items:
        if (found := _control_in(inner, inner_path)) is not None:
            return found
    return None


class _Literals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.argument: str | None = None
        self.found: str | None = None

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        self.argument = node.name.value

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        if self.found is None and _CONTROL.search(node.value):
            self.found = self.argument or "a string"
            return BREAK
        return None


class CleanStrings(SchemaExtension):
    """Refuses, before anything runs, a request whose variables or string literals hold a control
    character (BAD_USER_INPUT naming where)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        where = _control_in(context.variables or {}, "$")
        if where is None and context.graphql_document is not None:
            literals = _Literals()
            visit(context.graphql_document, literals)
            where = literals.found
        if where is not None:
            error = GraphQLError(
                f"{where} holds a control character (only tab, line feed and carriage return may appear).",
                extensions={"code": ErrorCode.BAD_USER_INPUT},
            )
            # A result set before execution is answered instead of executing the operation.
            context.result = ExecutionResult(data=None, errors=[error])
        yield
