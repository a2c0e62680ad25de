"""Errors services raise. Top-level ones carry the GraphQL ``extensions.code``; InvalidInput
becomes the ``userErrors`` of a mutation payload."""

from __future__ import annotations

from dataclasses import dataclass


class ServiceError(Exception):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: object) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions


class Unauthenticated(ServiceError):
    code = "UNAUTHENTICATED"


class Forbidden(ServiceError):
    code = "FORBIDDEN"


class NotFound(ServiceError):
    code = "NOT_FOUND"

    def __init__(self, what: str = "Resource") -> None:
        super().__init__(f"{what} not found.")


class BadUserInput(ServiceError):
    code = "BAD_USER_INPUT"


class Conflict(ServiceError):
    code = "CONFLICT"


class RateLimited(ServiceError):
    code = "RATE_LIMITED"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"Too many attempts; retry in {retry_after_seconds} seconds.",
            retryAfter=retry_after_seconds,
        )


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: tuple[str, ...] | None
    code: str
    message: str


class InvalidInput(ServiceError):
    """Validation or business-rule failures of a mutation: reported as userErrors, nothing written."""

    code = "BAD_USER_INPUT"

    def __init__(self, *problems: FieldProblem) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)


def invalid(field: str | None, code: str, message: str) -> InvalidInput:
    """One userError; ``field`` is a dotted path inside the mutation's ``input``."""
    path = ("input", *field.split(".")) if field else None
    return InvalidInput(FieldProblem(path, code, message))
