"""Accounts: the input rules and the user rows shared by sign-up, user administration, tenant
creation and bootstrap."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, InvalidInput
from core.permissions import Role
from models.identity import User, UserRole
from services.events import USER_UPDATED, record_event
from services.identity.errors import IdentityErrorCode
from services.identity.passwords import password_problem

MAX_NAME_LENGTH = 200


def normalise_email(email: str) -> str | None:
    """Canonical form used for uniqueness and sign-in, or None when it is not an email address."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def valid_email(email: str) -> str:
    """The canonical form of an address already checked with ``email_problem`` (ValueError if
    it is none: the caller skipped the check)."""
    normalised = normalise_email(email)
    if normalised is None:
        raise ValueError(f"not an email address: {email!r}")
    return normalised


def email_problem(field: str, email: str) -> FieldProblem | None:
    if normalise_email(email) is None:
        return FieldProblem(("input", field), IdentityErrorCode.INVALID_EMAIL, "Enter a valid email address.")
    return None


def name_problem(field: str, name: str) -> FieldProblem | None:
    if not name.strip():
        return FieldProblem(("input", field), IdentityErrorCode.REQUIRED, "Enter a name.")
    if len(name) > MAX_NAME_LENGTH:
        return FieldProblem(
            ("input", field), IdentityErrorCode.TOO_LONG, f"At most {MAX_NAME_LENGTH} characters."
        )
    return None


def new_password_problem(field: str, password: str) -> FieldProblem | None:
    message = password_problem(password)
    return FieldProblem(("input", field), IdentityErrorCode.WEAK_PASSWORD, message) if message else None


def reject(*problems: FieldProblem | None) -> None:
    """Raises the problems found (None is none), all in one InvalidInput: every userError at once."""
    found = [problem for problem in problems if problem is not None]
    if found:
        raise InvalidInput(*found)


def add_account(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    email: str,
    full_name: str,
    password_hash: str,
    roles: Iterable[Role],
    email_verified: bool = False,
) -> User:
    """A new user of the tenant holding ``roles``, added to ``session``; ``email`` is canonical."""
    user = User(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        email=email,
        full_name=full_name,
        password_hash=password_hash,
        email_verified=email_verified,
    )
    session.add(user)
    session.add_all(UserRole(tenant_id=tenant_id, user_id=user.id, role=role) for role in roles)
    return user


async def roles_of(session: AsyncSession, user_id: uuid.UUID) -> frozenset[Role]:
    return frozenset(await session.scalars(select(UserRole.role).where(UserRole.user_id == user_id)))


def record_user_change(session: AsyncSession, user: User, change: str) -> User:
    """Records the USER_UPDATED event of ``user`` (published once the transaction commits)."""
    record_event(
        session,
        topic=USER_UPDATED,
        tenant_id=user.tenant_id,
        payload={"userId": str(user.id), "change": change},
    )
    return user
