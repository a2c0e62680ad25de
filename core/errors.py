"""Errors services raise, and the one list of the codes clients see.

Top-level errors carry ``extensions.code``, one of ``ErrorCode``. Business-rule and validation
failures of a mutation are ``InvalidInput``: they become the payload's ``userErrors``, each with a
code from its domain's error-code enum (``IdentityErrorCode``, ``OrderErrorCode``, ...), so no code
is a bare string and every one of them is printed in schema.graphql."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ErrorCode(enum.StrEnum):
    """``extensions.code`` of a top-level GraphQL error (REST shims answer the same codes)."""

    UNAUTHENTICATED = "UNAUTHENTICATED"  # no valid sign-in, or the session has ended
    FORBIDDEN = "FORBIDDEN"  # signed in, but the roles do not allow it
    NOT_FOUND = "NOT_FOUND"  # does not exist, or is out of the caller's reach (the same answer)
    BAD_USER_INPUT = "BAD_USER_INPUT"  # the request itself is at fault (syntax, validation, values)
    # not a GraphQL request at all: unparsable JSON, no query, a subscription over HTTP, ...
    BAD_REQUEST = "BAD_REQUEST"
    CONFLICT = "CONFLICT"  # e.g. an idempotency key reused with a different request
    RATE_LIMITED = "RATE_LIMITED"  # too many attempts; ``extensions.retryAfter`` says when to retry
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"  # a bug; masked in production
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"  # PostgreSQL or Redis is unreachable: try again


class ServiceError(Exception):
    code = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, message: str, **extensions: object) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions


class Unauthenticated(ServiceError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(ServiceError):
    code = ErrorCode.FORBIDDEN


class NotFound(ServiceError):
    code = ErrorCode.NOT_FOUND

    def __init__(self, what: str = "Resource") -> None:
        super().__init__(f"{what} not found.")


class BadUserInput(ServiceError):
    code = ErrorCode.BAD_USER_INPUT


class Conflict(ServiceError):
    code = ErrorCode.CONFLICT


class ServiceUnavailable(ServiceError):
    code = ErrorCode.SERVICE_UNAVAILABLE


class RateLimited(ServiceError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"Too many attempts; retry in {retry_after_seconds} seconds.",
            retryAfter=retry_after_seconds,
        )


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: tuple[str, ...] | None
    code: enum.StrEnum  # a member of the domain's error-code enum
    message: str


class InvalidInput(ServiceError):
    """Validation or business-rule failures of a mutation: reported as userErrors, nothing written."""

    code = ErrorCode.BAD_USER_INPUT

    def __init__(self, *problems: FieldProblem) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)


def invalid(field: str | None, code: enum.StrEnum, message: str) -> InvalidInput:
    """One userError; ``field`` is a dotted path inside the mutation's ``input``."""
    path = ("input", *field.split(".")) if field else None
    return InvalidInput(FieldProblem(path, code, message))
