"""How an account is named at sign-in, registration and password reset: an email address or a
phone number (E.164, core/phones.py), and the rules of phone numbers and usernames."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.emails import parse_email
from core.errors import FieldProblem, invalid
from core.lengths import MAX_EMAIL_LENGTH
from core.phones import MAX_PHONE_INPUT_LENGTH, parse_phone
from models.identity.accounts import User
from services.identity.accounts import length_problem
from services.identity.errors import IdentityErrorCode

MAX_USERNAME_LENGTH = 32
# Lower-case letters, digits and inner '.', '_', '-'; 3 to 32 characters; stored lower case.
USERNAME = re.compile(rf"[a-z0-9][a-z0-9._-]{{1,{MAX_USERNAME_LENGTH - 2}}}[a-z0-9]")


def given(value: str | None) -> str | None:
    """An optional text input, None when omitted or blank (forms send "" for an empty field)."""
    return value if value is not None and value.strip() else None


def phone_problem(field: str, phone: str) -> FieldProblem | None:
    if too_long := length_problem(field, phone.strip(), MAX_PHONE_INPUT_LENGTH):
        return too_long
    if parse_phone(phone) is None:
        return FieldProblem(
            ("input", field),
            IdentityErrorCode.INVALID_PHONE,
            "Enter the number in international form with its country code, e.g. +49 30 1234567.",
        )
    return None


def checked_phone(phone: str) -> str:
    """The E.164 form of a number already checked with ``phone_problem``."""
    number = parse_phone(phone)
    if number is None:
        raise ValueError(f"not a phone number: {phone[:MAX_PHONE_INPUT_LENGTH]!r}")
    return number


def username_problem(field: str, username: str) -> FieldProblem | None:
    if USERNAME.fullmatch(username.strip().lower()):
        return None
    return FieldProblem(
        ("input", field),
        IdentityErrorCode.INVALID_USERNAME,
        "A username has 3 to 32 letters, digits, '.', '_' or '-', starting and ending with a letter "
        "or digit.",
    )


async def phone_clash(session: AsyncSession, tenant_id: uuid.UUID, phone: str, *, field: str) -> None:
    taken = await session.scalar(select(User.id).where(User.tenant_id == tenant_id, User.phone == phone))
    if taken is not None:
        raise invalid(
            field, IdentityErrorCode.PHONE_TAKEN, "An account with this phone number already exists."
        )


async def username_clash(session: AsyncSession, tenant_id: uuid.UUID, username: str, *, field: str) -> None:
    taken = await session.scalar(
        select(User.id).where(User.tenant_id == tenant_id, User.username == username)
    )
    if taken is not None:
        raise invalid(field, IdentityErrorCode.USERNAME_TAKEN, "This username is taken; choose another.")


@dataclass(frozen=True, slots=True)
class SignInName:
    """An account named by email or phone: what its attempts are counted under, which users it
    matches (None: none can, e.g. an unparsable address), and what is wrong with the input."""

    account: str
    matches: ColumnElement[bool] | None
    problem: FieldProblem | None = None


def sign_in_name(email: str | None, phone: str | None, *, exactly_one: bool) -> SignInName:
    """The account an input names by ``email`` or ``phone`` (the email when both are given, unless
    ``exactly_one`` refuses that: login). An unparsable email matches nobody (the caller answers as
    for a wrong password); a malformed phone number is INVALID_PHONE."""
    email, phone = given(email), given(phone)
    if email is not None and not (exactly_one and phone is not None):
        parsed = parse_email(email)
        # However the address is spelt (case, fullwidth letters), the account's counter is one.
        account = parsed.address if parsed is not None else email.strip().lower()
        matches = User.email == parsed.address if parsed is not None else None
        return SignInName(account, matches, length_problem("email", email.strip(), MAX_EMAIL_LENGTH))
    if phone is not None and email is None:
        number = parse_phone(phone)
        if number is None:
            return SignInName(phone.strip(), None, phone_problem("phone", phone))
        return SignInName(number, User.phone == number)
    wording = "either an email address or a phone number, not both" if exactly_one else "an email or a phone"
    problem = FieldProblem(("input", "email"), IdentityErrorCode.EMAIL_OR_PHONE, f"Give {wording}.")
    return SignInName("", None, problem)
