"""A user's own profile: the fields they tell about themself, their preferences (a bounded JSON
merge patch) and the change of their sign-in address, proven by a link mailed to the new one."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode, urlsplit

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.errors import FieldProblem, invalid
from core.lengths import MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH, MAX_URL_LENGTH
from core.scope import TenantScope
from models.base import utcnow
from models.db import locked_or_not_found
from models.identity.accounts import Tenant, User
from models.identity.profile import EmailChange, Gender
from services.context import ServiceContext
from services.identity.accounts import (
    checked_email,
    email_clash,
    email_problem,
    length_problem,
    record_user_change,
    reject,
)
from services.identity.errors import IdentityErrorCode
from services.identity.passwords import verify_password_in_thread
from services.json_patch import compact_json, merge_patch, nests_deeper
from services.mail_queue import queue_mail

MAX_SLOGAN_LENGTH = MAX_NAME_LENGTH
MAX_COMPANY_LENGTH = MAX_NAME_LENGTH
MAX_ABOUT_LENGTH = 2000
MAX_WEBSITE_LENGTH = MAX_URL_LENGTH
# Preferences nest at most this deep (an object in an object ... counts each level).
MAX_PREFERENCES_DEPTH = 8
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
TEXT_LIMITS = {"slogan": MAX_SLOGAN_LENGTH, "company_name": MAX_COMPANY_LENGTH, "about_me": MAX_ABOUT_LENGTH}
OPT_INS = ("notify_by_email", "notify_by_sms", "notify_by_push", "notify_by_telegram")
TOKEN_PREFIX = "ec_"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _text(name: str, value: object) -> tuple[object, FieldProblem | None]:
    # An empty text clears the field.
    text = str(value).strip() if value is not None else ""
    return text or None, length_problem(_camel(name), text, TEXT_LIMITS[name])


def _website(value: object) -> tuple[object, FieldProblem | None]:
    text = str(value).strip() if value is not None else ""
    if not text:
        return None, None
    if too_long := length_problem("website", text, MAX_WEBSITE_LENGTH):
        return None, too_long
    problem = FieldProblem(
        ("input", "website"), IdentityErrorCode.INVALID_WEBSITE, "An http:// or https:// address."
    )
    try:
        parts = urlsplit(text)
    except ValueError:  # a bracketed host that is no IPv6 address
        return None, problem
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in text):
        return None, problem
    return text, None


def _birth_date(value: object) -> tuple[object, FieldProblem | None]:
    if value is None:
        return None, None
    if not isinstance(value, date) or not EARLIEST_BIRTH_DATE <= value <= utcnow().date():
        return None, FieldProblem(
            ("input", "birthDate"),
            IdentityErrorCode.INVALID_BIRTH_DATE,
            f"A date between {EARLIEST_BIRTH_DATE.isoformat()} and today.",
        )
    return value, None


def _checked(name: str, value: object) -> tuple[object, FieldProblem | None]:
    if name in TEXT_LIMITS:
        return _text(name, value)
    if name == "website":
        return _website(value)
    if name == "birth_date":
        return _birth_date(value)
    if name == "gender":
        return (Gender(str(value)).value if value is not None else None), None
    # The opt-ins: null leaves them as they are.
    return value, None


def checked_profile(changes: Mapping[str, object]) -> dict[str, object]:
    """The profile changes as stored (texts trimmed, empty ones null); every problem at once."""
    checked = {name: _checked(name, value) for name, value in changes.items()}
    reject(*(problem for _value, problem in checked.values()))
    return {
        name: value for name, (value, _problem) in checked.items() if value is not None or name not in OPT_INS
    }


def apply_profile(user: User, checked: Mapping[str, object]) -> None:
    for name, value in checked.items():
        setattr(user, name, value)


# ---- preferences -----------------------------------------------------------------------------


def _preferences_problem(message: str) -> Exception:
    return invalid("patch", IdentityErrorCode.INVALID_PREFERENCES, message)


async def patch_preferences(ctx: ServiceContext, patch: object) -> User:
    """Merges ``patch`` (RFC 7396) into the caller's preferences, on the locked row: concurrent
    patches of different keys both land."""
    principal = ctx.require_principal()
    if not isinstance(patch, dict):
        raise _preferences_problem("The patch is a JSON object (null values remove keys).")
    # Checked before merging (merge_patch recurses): the merge nests no deeper than the stored
    # preferences or the patch.
    if nests_deeper(patch, MAX_PREFERENCES_DEPTH):
        raise _preferences_problem(f"The preferences nest at most {MAX_PREFERENCES_DEPTH} levels deep.")
    async with ctx.transaction(TenantScope.of(principal.home_tenant_id)) as session:
        user = await locked_or_not_found(session, User, principal.user_id)
        merged = merge_patch(user.preferences or {}, patch)
        limit = ctx.settings.preferences_max_bytes
        try:
            encoded = compact_json(merged)
        except ValueError:  # NaN or Infinity: Python reads them from a request, JSON columns refuse them
            raise _preferences_problem("Numbers in preferences are finite (no NaN or Infinity).") from None
        if len(encoded.encode()) > limit:
            raise _preferences_problem(f"The preferences may hold at most {limit} bytes of JSON.")
        user.preferences = merged
        return record_user_change(session, user, "preferences")


# ---- email change ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmailChangeSent:
    sent_to: str
    expires_at: datetime


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def request_email_change(ctx: ServiceContext, new_email: str, current_password: str) -> EmailChangeSent:
    """Mails a confirmation link to ``new_email`` (and a notice to the current address); the
    address changes only when the link comes back (confirm_email_change)."""
    principal = ctx.require_principal()
    settings = ctx.settings
    await ctx.rate_limiter.check(
        "email_change",
        {
            "ip": (ctx.client_ip, settings.auth_rate_limit_per_ip),
            "account": (str(principal.user_id), settings.auth_rate_limit_per_account),
        },
    )
    reject(
        email_problem("newEmail", new_email),
        length_problem("currentPassword", current_password, MAX_PASSWORD_LENGTH),
    )
    address = checked_email(new_email)
    home = TenantScope.of(principal.home_tenant_id)
    async with ctx.read(home) as session:
        user = await session.get_one(User, principal.user_id)
        password_hash, current = user.password_hash, user.email
    if address.address == current:
        raise invalid("newEmail", IdentityErrorCode.SAME_EMAIL, "This is your address already.")
    if not await verify_password_in_thread(password_hash, current_password):
        raise invalid(
            "currentPassword", IdentityErrorCode.INVALID_CREDENTIALS, "The current password is not correct."
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ttl = settings.email_change_ttl_seconds
    async with ctx.transaction(home) as session:
        user = await locked_or_not_found(session, User, principal.user_id)
        await email_clash(session, user.tenant_id, address, field="newEmail", other_than=user.id)
        now = utcnow()
        # One open request per user: a newer one replaces the older link.
        await session.execute(
            update(EmailChange)
            .where(EmailChange.user_id == user.id, EmailChange.consumed_at.is_(None))
            .values(consumed_at=now)
        )
        change = EmailChange(
            user_id=user.id,
            new_email=address.address,
            token_hash=_token_hash(token),
            expires_at=now + timedelta(seconds=ttl),
        )
        session.add(change)
        tenant = await session.get_one(Tenant, user.tenant_id)
        query = urlencode({"tenant": tenant.slug, "token": token})
        link = f"{settings.frontend_url.rstrip('/')}/confirm-email-change?{query}"
        queue_mail(
            session,
            tenant_id=tenant.id,
            to=address.address,
            subject="Confirm your new email address",
            body=f"Open this link to make {address.address} the sign-in address of your {tenant.name} "
            f"account:\n\n{link}\n\nThe link works for {ttl // 3600 or 1} hour(s), once.",
        )
        if current:
            queue_mail(
                session,
                tenant_id=tenant.id,
                to=current,
                subject="Your email address is about to change",
                body=f"Someone signed in to your {tenant.name} account asked to change its address to "
                f"{address.address}. If it was not you, change your password now.",
            )
        return EmailChangeSent(address.address, change.expires_at)


def _token_problem(code: IdentityErrorCode, message: str) -> Exception:
    return invalid("token", code, message)


async def confirm_email_change(ctx: ServiceContext, token: str) -> User:
    """Makes the link's new address the user's (verified by the link itself)."""
    found_by = _token_hash(token)
    async with ctx.transaction(TenantScope.all_tenants()) as session:
        change = await session.scalar(
            select(EmailChange).where(EmailChange.token_hash == found_by).with_for_update()
        )
        if change is None:
            raise _token_problem(IdentityErrorCode.INVALID_EMAIL_CHANGE_TOKEN, "This link is not valid.")
        if change.consumed_at is not None:
            raise _token_problem(
                IdentityErrorCode.EMAIL_CHANGE_TOKEN_USED,
                "This link was used already, or a newer one was sent.",
            )
        if change.expires_at <= utcnow():
            raise _token_problem(
                IdentityErrorCode.EMAIL_CHANGE_TOKEN_EXPIRED, "This link has expired; ask for a new one."
            )
        user = await locked_or_not_found(session, User, change.user_id)
        address = checked_email(change.new_email)
        # Someone may have taken the address since the request.
        await email_clash(session, user.tenant_id, address, field="token", other_than=user.id)
        change.consumed_at = utcnow()
        user.email = address.address
        user.email_verified = True
        try:
            await session.flush()
        except IntegrityError as error:  # a concurrent confirmation took the address
            raise _token_problem(
                IdentityErrorCode.CONFLICT, "An account with this email already exists."
            ) from error
        return record_user_change(session, user, "email")
