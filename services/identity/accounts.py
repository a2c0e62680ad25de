"""Account input rules shared by sign-up, user administration and tenant creation."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from core.errors import FieldProblem
from services.identity.passwords import password_problem

MAX_NAME_LENGTH = 200


def normalise_email(email: str) -> str | None:
    """Canonical form used for uniqueness and sign-in, or None when it is not an email address."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def email_problem(field: str, email: str) -> FieldProblem | None:
    if normalise_email(email) is None:
        return FieldProblem(("input", field), "INVALID_EMAIL", "Enter a valid email address.")
    return None


def name_problem(field: str, name: str) -> FieldProblem | None:
    if not name.strip():
        return FieldProblem(("input", field), "REQUIRED", "Enter a name.")
    if len(name) > MAX_NAME_LENGTH:
        return FieldProblem(("input", field), "TOO_LONG", f"At most {MAX_NAME_LENGTH} characters.")
    return None


def new_password_problem(field: str, password: str) -> FieldProblem | None:
    message = password_problem(password)
    return FieldProblem(("input", field), "WEAK_PASSWORD", message) if message else None
