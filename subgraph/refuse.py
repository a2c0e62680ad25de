"""How an extension refuses an operation before it runs."""

from __future__ import annotations

from typing import NoReturn

from graphql import GraphQLError

from core.errors import ErrorCode


def refuse(message: str, **extensions: object) -> NoReturn:
    """Answers BAD_USER_INPUT instead of executing, from an extension's ``on_execute``.

    Raised, not set as the result: strawberry skips execution for a result set there, but starts
    a subscription anyway; a raised error is answered on every path (HTTP, and a websocket's
    query, mutation or subscription). The code is set here because a raised error leaves the
    operation before ErrorPolicy shapes it."""
    raise GraphQLError(message, extensions={"code": ErrorCode.BAD_USER_INPUT, **extensions})
