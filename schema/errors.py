"""How errors reach clients: ``UserError`` in mutation payloads, ``extensions.code`` on top-level
errors, and nothing internal (stack, SQL) leaking in production."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Protocol, TypeVar

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult
from strawberry.types.execution import StreamExecutionResult

from core.errors import ErrorCode, InvalidInput, ServiceError
from services.outages import log_outage, outage

log = logging.getLogger("tenantgraph.errors")


@strawberry.federation.type(shareable=True, description="A validation or business-rule failure.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "email"]; null for the '
        "input as a whole."
    )
    code: str = strawberry.field(
        description="A value of the mutation's domain error-code enum (IdentityErrorCode, "
        "CatalogErrorCode, OrderErrorCode, BillingErrorCode)."
    )
    message: str = strawberry.field(description="What is wrong, in English, for a person to read.")


def user_errors_field() -> list[UserError]:
    """A payload's ``userErrors`` field (the same description on every payload)."""
    return strawberry.field(  # type: ignore[no-any-return]
        default_factory=list,
        description="Why the mutation did nothing; empty on success.",
    )


def user_errors(error: InvalidInput) -> list[UserError]:
    return [
        UserError(field=list(p.field) if p.field else None, code=p.code, message=p.message)
        for p in error.problems
    ]


class HasUserErrors(Protocol):
    user_errors: list[UserError]


Payload = TypeVar("Payload", bound=HasUserErrors)
Result = TypeVar("Result")


async def mutation_payload(
    payload_type: Callable[..., Payload], call: Awaitable[Result], build: Callable[[Result], Payload]
) -> Payload:
    """Run a service call; business-rule failures become the payload's userErrors."""
    try:
        result = await call
    except InvalidInput as error:
        return payload_type(user_errors=user_errors(error))
    return build(result)


def is_unexpected(error: GraphQLError) -> bool:
    """A bug or an outage, as opposed to an answer (our errors) or a bad request."""
    original = error.original_error
    return original is not None and not isinstance(original, ServiceError | GraphQLError)


def log_unexpected(errors: list[GraphQLError]) -> None:
    """Only unexpected errors are logged (a bug with its traceback, an outage in one line):
    expected ones are answers."""
    for error in errors:
        if not is_unexpected(error) or error.original_error is None:
            continue
        if outage(error.original_error) is not None:
            log_outage(error.original_error, error.path)
        else:
            log.error("unexpected error in %s: %s", error.path, error.message, exc_info=error.original_error)


class ErrorPolicy(SchemaExtension):
    """Gives every error an ``extensions.code``; in production hides what is not ours to show."""

    def __init__(self, production: bool) -> None:
        self.production = production
        self._streamed = False

    def on_operation(self) -> Iterator[None]:
        yield
        if not self._streamed:  # a stream's results were shaped one by one
            self._shape_result(self.execution_context.result)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        """Each result of a subscription (or of an operation over a websocket)."""
        self._streamed = True
        self._shape_result(result)
        yield

    def _shape_result(self, result: object) -> None:
        if isinstance(result, GraphQLExecutionResult | StrawberryExecutionResult) and result.errors:
            result.errors = [self.shape(error) for error in result.errors]

    def shape(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        message = error.message
        if original is not None and is_unexpected(error):
            original = outage(original) or original  # an outage is an answer: try again
        extensions: dict[str, Any] = dict(error.extensions or {})
        if isinstance(original, ServiceError):
            extensions.update(original.extensions)
            extensions["code"] = original.code
            message = original.message
        elif not is_unexpected(error):
            # Parse, validation and variable errors (a bad variable value arrives wrapping the
            # scalar's own GraphQLError): the request itself is at fault.
            extensions.setdefault("code", ErrorCode.BAD_USER_INPUT)
        else:
            extensions["code"] = ErrorCode.INTERNAL_SERVER_ERROR
            if self.production:
                return GraphQLError(
                    "Internal server error.", nodes=error.nodes, path=error.path, extensions=extensions
                )
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=original,
            extensions=extensions,
        )
