"""Accounts: the input rules and the user rows shared by sign-up, user administration, tenant
creation and bootstrap."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.emails import Email, parse_email
from core.errors import BadUserInput, FieldProblem, InvalidInput, invalid
from core.lengths import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH, MAX_SEARCH_LENGTH
from core.permissions import Role
from models.identity.accounts import User, UserRole
from services.events import USER_UPDATED, record_event
from services.identity.errors import IdentityErrorCode
from services.identity.passwords import password_problem


def checked_email(email: str) -> Email:
    """The parsed form of an address already checked with ``email_problem`` (ValueError if it is
    none: the caller skipped the check)."""
    parsed = parse_email(email)
    if parsed is None:
        raise ValueError(f"not an email address: {email[:MAX_EMAIL_LENGTH]!r}")
    return parsed


def valid_email(email: str) -> str:
    """The canonical form (core/emails.py: stored, unique, signed in with) of an address already
    checked with ``email_problem``."""
    return checked_email(email).address


def email_problem(field: str, email: str) -> FieldProblem | None:
    where = ("input", field)
    if len(email.strip()) > MAX_EMAIL_LENGTH:
        return FieldProblem(where, IdentityErrorCode.TOO_LONG, f"At most {MAX_EMAIL_LENGTH} characters.")
    parsed = parse_email(email)
    if parsed is None:
        return FieldProblem(where, IdentityErrorCode.INVALID_EMAIL, "Enter a valid email address.")
    if parsed.mixed_script:
        return FieldProblem(
            where,
            IdentityErrorCode.INVALID_EMAIL,
            "The address mixes scripts (e.g. Latin and Cyrillic) in its local part or a domain label.",
        )
    return None


def length_problem(field: str, value: str, limit: int) -> FieldProblem | None:
    if len(value) > limit:
        return FieldProblem(("input", field), IdentityErrorCode.TOO_LONG, f"At most {limit} characters.")
    return None


async def email_clash(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    email: Email,
    *,
    field: str,
    other_than: uuid.UUID | None = None,
) -> None:
    """CONFLICT when another account of the tenant has this address, CONFUSABLE_EMAIL when one has
    an address that looks the same (the same confusable skeleton: TR39)."""
    statement = select(User).where(
        User.tenant_id == tenant_id, or_(User.email == email.address, User.email_skeleton == email.skeleton)
    )
    if other_than is not None:
        statement = statement.where(User.id != other_than)
    found = {user.email for user in await session.scalars(statement)}
    if email.address in found:
        raise invalid(field, IdentityErrorCode.CONFLICT, "An account with this email already exists.")
    if found:
        raise invalid(
            field,
            IdentityErrorCode.CONFUSABLE_EMAIL,
            "An account with an email that looks the same already exists; use another address.",
        )


def name_problem(field: str, name: str) -> FieldProblem | None:
    if not name.strip():
        return FieldProblem(("input", field), IdentityErrorCode.REQUIRED, "Enter a name.")
    return length_problem(field, name, MAX_NAME_LENGTH)


def new_password_problem(field: str, password: str) -> FieldProblem | None:
    if too_long := length_problem(field, password, MAX_PASSWORD_LENGTH):
        return too_long
    message = password_problem(password)
    return FieldProblem(("input", field), IdentityErrorCode.WEAK_PASSWORD, message) if message else None


def search_term(search: str | None) -> str | None:
    """A search filter's text, lower case; None for no filter. BAD_USER_INPUT (a query's argument)
    when over-long: it never reaches the database."""
    if search is None or not search.strip():
        return None
    if len(search) > MAX_SEARCH_LENGTH:
        raise BadUserInput(f"Search for at most {MAX_SEARCH_LENGTH} characters.")
    return search.strip().lower()


def reject(*problems: FieldProblem | None) -> None:
    """Raises the problems found (None is none), all in one InvalidInput: every userError at once."""
    found = [problem for problem in problems if problem is not None]
    if found:
        raise InvalidInput(*found)


def add_account(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    email: Email | None,
    full_name: str,
    password_hash: str,
    roles: Iterable[Role],
    email_verified: bool = False,
) -> User:
    """A new user of the tenant holding ``roles``, added to ``session`` (its email skeleton follows
    the address: models/identity.py); without an email, one registered by phone."""
    user = User(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        email=email.address if email is not None else None,
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
