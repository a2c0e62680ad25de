"""A tenant admin's hold on the tenant's accounts (seed 003): create users (with a one-time
password), delete them (anonymised), ban them until a date, force a password change.

Each change that affects what an existing session may do ends the user's sessions and records an
access change in its transaction (services/identity/access.py stays exact)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, invalid
from core.permissions import TENANT_ADMINS, Role
from core.principal import Principal
from core.scope import TenantScope
from models.base import utcnow
from models.db import locked_or_not_found
from models.identity.accounts import AuthSession, User, UserStatus
from services.context import ServiceContext
from services.events import record_access_change
from services.identity.accounts import (
    add_account,
    checked_email,
    email_clash,
    email_problem,
    length_problem,
    name_problem,
    new_password_problem,
    record_user_change,
    reject,
)
from services.identity.auth import end_sessions
from services.identity.erasure import anonymise_user
from services.identity.errors import IdentityErrorCode
from services.identity.limits import check_user_quota
from services.identity.passwords import hash_password_in_thread
from services.identity.security import password_policy_problem
from services.mail_queue import queue_mail

MAX_BAN_REASON_LENGTH = 500


@dataclass(frozen=True, slots=True)
class CreatedUser:
    user: User
    # Generated when no password was given; shown once, never stored in clear.
    one_time_password: str | None


def role_problem(principal: Principal, roles: Collection[Role], field: str = "roles") -> FieldProblem | None:
    """Why these roles cannot be given to a (new) member of the tenant, or None."""
    where = ("input", field)
    if not roles:
        return FieldProblem(where, IdentityErrorCode.INVALID_ROLE, "Give at least one role.")
    if Role.PLATFORM_ADMIN in roles and not principal.is_platform_admin:
        return FieldProblem(
            where, IdentityErrorCode.INVALID_ROLE, "Only platform administrators grant PLATFORM_ADMIN."
        )
    return None


async def create_user(
    ctx: ServiceContext, *, email: str, full_name: str, roles: Collection[Role], password: str | None
) -> CreatedUser:
    """A new user of the admin's tenant. Without a password one is generated, returned once, and
    the user must change it on first sign-in."""
    principal = ctx.require_role(*TENANT_ADMINS)
    reject(
        email_problem("email", email),
        name_problem("fullName", full_name),
        role_problem(principal, roles),
        new_password_problem("password", password) if password is not None else None,
    )
    address = checked_email(email)
    generated = None if password is not None else secrets.token_urlsafe(12)
    password_hash = await hash_password_in_thread(password if password is not None else generated or "")
    # In the tenant the admin acts in (a platform admin: X-Tenant-Id's, else their own).
    async with ctx.transaction(TenantScope.of(principal.tenant_id)) as session:
        await email_clash(session, principal.tenant_id, address, field="email")
        if password is not None:
            reject(await password_policy_problem(session, principal.tenant_id, "password", password))
        await check_user_quota(session, principal.tenant_id)
        user = add_account(
            session,
            principal.tenant_id,
            email=address,
            full_name=full_name.strip(),
            password_hash=password_hash,
            roles=sorted(set(roles)),
        )
        # A new user has no session whose cached access could go stale: no access change.
        user.must_change_password = generated is not None
        await session.flush()
        record_user_change(session, user, "created")
        return CreatedUser(user, generated)


def not_deleted(user: User) -> User:
    """The user, unless deleted (USER_DELETED: there is nothing left to change)."""
    if user.status == UserStatus.DELETED:
        raise invalid("id", IdentityErrorCode.USER_DELETED, "This user was deleted.")
    return user


async def _sessions_ended(session: AsyncSession, user: User, reason: str) -> None:
    """Ends the user's sessions and has every process's access store drop them (on commit)."""
    await end_sessions(session, reason, AuthSession.user_id == user.id)
    record_access_change(session, users=[user.id])


async def delete_user(ctx: ServiceContext, user_id: uuid.UUID) -> User:
    """Anonymises the user: the row stays, so orders, invoices and payments keep pointing at it
    (their foreign keys RESTRICT), but it holds no email, name, password, roles or sessions."""
    principal = ctx.require_role(*TENANT_ADMINS)
    if user_id == principal.user_id:
        raise invalid("id", IdentityErrorCode.CANNOT_DELETE_SELF, "You cannot delete your own account.")
    async with ctx.transaction() as session:
        user = not_deleted(await locked_or_not_found(session, User, user_id))
        return await anonymise_user(session, user, "user_deleted")


async def ban_user(ctx: ServiceContext, user_id: uuid.UUID, *, reason: str, until: datetime | None) -> User:
    """No sign-in for the user until ``until`` (None: until lifted); their sessions end now."""
    principal = ctx.require_role(*TENANT_ADMINS)
    if user_id == principal.user_id:
        raise invalid("id", IdentityErrorCode.CANNOT_BAN_SELF, "You cannot ban your own account.")
    now = utcnow()
    reject(
        FieldProblem(("input", "reason"), IdentityErrorCode.REQUIRED, "Give the reason for the ban.")
        if not reason.strip()
        else length_problem("reason", reason, MAX_BAN_REASON_LENGTH),
        FieldProblem(("input", "unblockAt"), IdentityErrorCode.INVALID_EXPIRY, "The unblock date is past.")
        if until is not None and until <= now
        else None,
    )
    async with ctx.transaction() as session:
        user = not_deleted(await locked_or_not_found(session, User, user_id))
        user.banned_at, user.banned_until, user.ban_reason = now, until, reason.strip()
        await _sessions_ended(session, user, "user_banned")
        return record_user_change(session, user, "banned")


async def unban_user(ctx: ServiceContext, user_id: uuid.UUID) -> User:
    """Lifts a ban before its unblock date (a banned user holds no session: no access change)."""
    ctx.require_role(*TENANT_ADMINS)
    async with ctx.transaction() as session:
        user = not_deleted(await locked_or_not_found(session, User, user_id))
        user.banned_at = user.banned_until = user.ban_reason = None
        return record_user_change(session, user, "unbanned")


async def force_password_reset(ctx: ServiceContext, user_id: uuid.UUID) -> User:
    """The user's sessions end; at their next sign-in they may only change the password. They are
    told by mail."""
    ctx.require_role(*TENANT_ADMINS)
    async with ctx.transaction() as session:
        user = not_deleted(await locked_or_not_found(session, User, user_id))
        user.must_change_password = True
        await _sessions_ended(session, user, "password_reset_forced")
        if user.email is not None:  # a phone-only account learns it at its next sign-in
            queue_mail(
                session,
                tenant_id=user.tenant_id,
                to=user.email,
                subject="Please choose a new password",
                body=(
                    f"Hello {user.full_name},\n\n"
                    "an administrator of your organisation asked you to choose a new password. You have "
                    "been signed out everywhere; sign in again at "
                    f"{ctx.settings.frontend_url.rstrip('/')} and you will be asked for a new password "
                    "before anything else.\n\nIf you did not expect this, contact your administrator.\n"
                ),
            )
        return record_user_change(session, user, "password_reset_forced")
