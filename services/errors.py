"""Errors services raise. Top-level ones carry the GraphQL ``extensions.code``; InvalidInput
becomes the ``userErrors`` of a mutation payload."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

Model = TypeVar("Model")


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


async def locked_or_not_found(session: AsyncSession, model: type[Model], row_id: uuid.UUID) -> Model:
    """The row, locked FOR UPDATE until the transaction ends; NotFound, named after the model, if
    there is none (or the tenancy guard hides it)."""
    row = await session.get(model, row_id, with_for_update=True)
    if row is None:
        raise NotFound(model.__name__)
    return row


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
