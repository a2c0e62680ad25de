"""Strings in a request are clean before anything runs: no control characters in variables or
literals (a NUL reached PostgreSQL and came back as INTERNAL_SERVER_ERROR), no lone surrogates (no
UTF-8 encodes them), none longer than the backstop MAX_STRING_LENGTH (each input field's own,
smaller limit is subgraph/lengths.py's)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from graphql import (
    BREAK,
    ArgumentNode,
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    StringValueNode,
    TokenKind,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

from core.errors import ErrorCode
from subgraph.refuse import refuse

# C0 control characters but tab, line feed and carriage return, and DEL: no input needs them, and
# PostgreSQL refuses NUL outright (it came back as an INTERNAL_SERVER_ERROR).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# JSON may escape half of a UTF-16 pair ("\ud800"): no character, and no UTF-8 encodes it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _string_problem(text: str, max_length: int) -> str | None:
    if len(text) > max_length:
        return f"is longer than {max_length} characters"
    if _CONTROL.search(text):
        return "holds a control character (only tab, line feed and carriage return may appear)"
    if _SURROGATE.search(text):
        return "holds a lone UTF-16 surrogate, which is no character"
    return None


def _problem_in(value: object, path: str, max_length: int) -> tuple[str, str] | None:
    """(path, problem) of the first string in ``value`` (a variable's JSON) that is not clean."""
    if isinstance(value, str):
        problem = _string_problem(value, max_length)
        return (path, problem) if problem else None
    if isinstance(value, dict):
        items: Iterable[tuple[str, object]] = ((f"{path}.{k}", v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{path}[{n}]", v) for n, v in enumerate(value))
    else:
        return None
    for inner_path, inner in items:
        if (found := _problem_in(inner, inner_path, max_length)) is not None:
            return found
    return None


_STRING_TOKENS = frozenset({TokenKind.STRING, TokenKind.BLOCK_STRING})


def _has_unclean_string(document: DocumentNode, max_length: int) -> bool:
    """Whether a string token of ``document`` is not clean. The lexer left its tokens as a linked
    list, each string decoded: scanning it costs a tenth of a walk of the tree (0.3 of 3.2 ms for
    a document at the token limit), and almost every document is clean."""
    token = document.loc.start_token if document.loc else None
    if token is None:
        return True  # parsed without locations: no tokens to scan, the walk decides
    while token is not None:
        if token.kind in _STRING_TOKENS and _string_problem(token.value or "", max_length):
            return True
        token = token.next
    return False


class _Literals(Visitor):
    def __init__(self, max_length: int) -> None:
        super().__init__()
        self.max_length = max_length
        self.argument: str | None = None
        self.found: tuple[str, str] | None = None

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        self.argument = node.name.value

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        problem = _string_problem(node.value, self.max_length)
        if problem is not None:
            self.found = (self.argument or "a string", problem)
            return BREAK
        return None


class CleanStrings(SchemaExtension):
    """Refuses, before anything runs, a request whose declared variables hold a string with a
    control character or longer than ``max_length`` (BAD_USER_INPUT naming where). Literals do
    not change with the request: ``literal_errors`` checks them once per document, in validation."""

    def __init__(self, max_length: int) -> None:
        super().__init__()
        self.max_length = max_length

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.variables:
            found = _problem_in(_declared(document, context.variables), "$", self.max_length)
            if found is not None:
                where, problem = found
                refuse(f"{where} {problem}.")
        yield


def _declared(document: DocumentNode, variables: dict[str, Any]) -> dict[str, Any]:
    # Variables no operation declares reach nothing (execution ignores them): only declared ones.
    declared = {
        definition.variable.name.value
        for operation in document.definitions
        if isinstance(operation, OperationDefinitionNode)
        for definition in operation.variable_definitions or ()
    }
    return {name: value for name, value in variables.items() if name in declared}


def literal_errors(document: DocumentNode, max_length: int) -> list[GraphQLError]:
    """The first string literal of ``document`` that is not clean, as a validation error."""
    if not _has_unclean_string(document, max_length):
        return []
    literals = _Literals(max_length)  # names the argument: walks the syntax tree
    visit(document, literals)
    if literals.found is None:
        return []
    where, problem = literals.found
    return [GraphQLError(f"{where} {problem}.", extensions={"code": ErrorCode.BAD_USER_INPUT})]
