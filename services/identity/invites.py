"""Invites (seed 000): a tenant admin invites an email address with roles; the invitee opens the
mailed link, sees what the invite offers (public, by token) and accepts it — which creates their
account, or links the tenant's existing account of that address once they sign in with it.

The token is mailed only (never shown to the admin: accepting proves the mailbox, so the address
counts as verified) and stored as its SHA-256; it works once."""

from __future__ import annotations

import enum
import secrets
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, invalid
from core.lengths import MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH, MAX_TOKEN_LENGTH
from core.permissions import TENANT_ADMINS, Role
from core.scope import TenantScope
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.base import utcnow
from models.db import locked_or_not_found
from models.identity.accounts import Tenant, User, UserRole
from models.identity.invites import Invite
from services.context import ServiceContext
from services.events import record_access_change, record_event
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
    roles_of,
)
from services.identity.auth import SignIn, sign_in_refusal, start_session
from services.identity.errors import IdentityErrorCode
from services.identity.limits import check_user_quota
from services.identity.passwords import hash_password_in_thread, verify_password_in_thread
from services.identity.security import password_policy_problem
from services.identity.tokens import hash_refresh_token
from services.identity.user_admin import role_problem
from services.mail_queue import queue_mail

ALL_TENANTS = TenantScope.all_tenants()
TOKEN_PREFIX = "inv_"
# How far ahead an admin may set an invite's expiry.
MAX_INVITE_DAYS = 30


class InviteStatus(enum.StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


# An invite was accepted (services/notifications tells whoever sent it); payload: inviteId,
# userId (the member), invitedBy (the inviter or null), email.
INVITE_ACCEPTED = "invite.accepted"


def invite_status(invite: Invite, now: datetime | None = None) -> InviteStatus:
    if invite.accepted_at is not None:
        return InviteStatus.ACCEPTED
    if invite.revoked_at is not None:
        return InviteStatus.REVOKED
    if invite.expires_at <= (now or utcnow()):
        return InviteStatus.EXPIRED
    return InviteStatus.PENDING


def _status_condition(status: InviteStatus, now: datetime) -> ColumnElement[bool]:
    open_ = and_(Invite.accepted_at.is_(None), Invite.revoked_at.is_(None))
    match status:
        case InviteStatus.ACCEPTED:
            return Invite.accepted_at.is_not(None)
        case InviteStatus.REVOKED:
            return and_(Invite.accepted_at.is_(None), Invite.revoked_at.is_not(None))
        case InviteStatus.EXPIRED:
            return and_(open_, Invite.expires_at <= now)
        case InviteStatus.PENDING:
            return and_(open_, Invite.expires_at > now)


def invite_roles(invite: Invite) -> list[Role]:
    return [Role(role) for role in invite.roles]


def hash_invite_token(token: str) -> str:
    # 256 random bits, like a refresh token: the same fast hash is enough.
    return hash_refresh_token(token)


def accept_link(ctx: ServiceContext, token: str) -> str:
    return f"{ctx.settings.frontend_url.rstrip('/')}/invites/accept?token={token}"


def _expiry_problem(expires_at: datetime, now: datetime) -> FieldProblem | None:
    where = ("input", "expiresAt")
    if expires_at <= now:
        return FieldProblem(where, IdentityErrorCode.INVALID_EXPIRY, "The expiry is in the past.")
    if expires_at > now + timedelta(days=MAX_INVITE_DAYS):
        return FieldProblem(
            where, IdentityErrorCode.INVALID_EXPIRY, f"An invite lasts at most {MAX_INVITE_DAYS} days."
        )
    return None


async def create_invite(
    ctx: ServiceContext, *, email: str, roles: Collection[Role], expires_at: datetime | None
) -> Invite:
    """Invites ``email`` to the admin's tenant and mails the accept link; an earlier pending
    invite of the address is revoked (its link stops working)."""
    principal = ctx.require_role(*TENANT_ADMINS)
    now = utcnow()
    expires = expires_at or now + timedelta(seconds=ctx.settings.invite_ttl_seconds)
    reject(email_problem("email", email), role_problem(principal, roles), _expiry_problem(expires, now))
    address = checked_email(email)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    tenant_id = principal.tenant_id
    async with ctx.transaction(TenantScope.of(tenant_id)) as session:
        if await session.scalar(select(User.id).where(User.email == address.address)):
            raise invalid("email", IdentityErrorCode.ALREADY_MEMBER, "This email is already a user here.")
        await email_clash(session, tenant_id, address, field="email")  # a look-alike of a user's
        await session.execute(
            update(Invite)
            .where(Invite.email == address.address, _status_condition(InviteStatus.PENDING, now))
            .values(revoked_at=now)
        )
        tenant = await session.get_one(Tenant, tenant_id)
        invite = Invite(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            email=address.address,
            roles=sorted({role.value for role in roles}),
            token_hash=hash_invite_token(token),
            invited_by=principal.user_id,
            expires_at=expires,
        )
        session.add(invite)
        queue_mail(
            session,
            tenant_id=tenant_id,
            to=address.address,
            subject=f"You are invited to {tenant.name}",
            body=(
                f"You have been invited to join {tenant.name}.\n\n"
                f"Accept the invitation here: {accept_link(ctx, token)}\n\n"
                f"The link works once and expires on {expires:%Y-%m-%d %H:%M} UTC. If you did not "
                "expect it, ignore this mail.\n"
            ),
        )
        return invite


def _filtered(status: InviteStatus | None) -> Select[Invite]:
    statement = select(Invite)
    return statement if status is None else statement.where(_status_condition(status, utcnow()))


async def list_invites(ctx: ServiceContext, status: InviteStatus | None, page: PageArgs) -> Page[Invite]:
    """The tenant's invites, newest first."""
    ctx.require_role(*TENANT_ADMINS)
    key = SortKey(Invite.created_at, Invite.id, descending=True)
    return await paginate(ctx.read, _filtered(status), key, page)


async def invites_by_id(ctx: ServiceContext, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Invite]:
    """The tenant's invites of these ids that the caller may see (tenant admins: all)."""
    principal = ctx.principal
    if principal is None or not principal.has_any_role(*TENANT_ADMINS) or not ids:
        return {}
    async with ctx.read() as session:
        return {row.id: row for row in await session.scalars(select(Invite).where(Invite.id.in_(ids)))}


async def revoke_invite(ctx: ServiceContext, invite_id: uuid.UUID) -> Invite:
    ctx.require_role(*TENANT_ADMINS)
    async with ctx.transaction() as session:
        invite = await locked_or_not_found(session, Invite, invite_id)
        status = invite_status(invite)
        if status != InviteStatus.PENDING:
            raise invalid("id", IdentityErrorCode.INVITE_NOT_PENDING, f"This invite is {status.lower()}.")
        invite.revoked_at = utcnow()
        return invite


@dataclass(frozen=True, slots=True)
class InvitePreview:
    """What the holder of an invite's token may learn: no more than the invite offers."""

    tenant_name: str
    email: str
    roles: list[Role]
    expires_at: datetime


async def _by_token(session: AsyncSession, token: str, *, lock: bool = False) -> Invite | None:
    if len(token) > MAX_TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
        return None  # no invite has one: not worth a query
    statement = select(Invite).where(Invite.token_hash == hash_invite_token(token))
    return await session.scalar(statement.with_for_update() if lock else statement)


async def preview_invite(ctx: ServiceContext, token: str) -> InvitePreview | None:
    """The invite of ``token`` while it can be accepted; None otherwise (unknown, used, revoked,
    expired, or its tenant closed)."""
    async with ctx.read(ALL_TENANTS) as session:
        invite = await _by_token(session, token)
        if invite is None or invite_status(invite) != InviteStatus.PENDING:
            return None
        tenant = await session.get_one(Tenant, invite.tenant_id)
    if not tenant.can_sign_in:
        return None
    return InvitePreview(tenant.name, invite.email, invite_roles(invite), invite.expires_at)


def _usable(invite: Invite | None) -> Invite:
    """The invite, if it can still be accepted; else the userError that says why not."""
    status = None if invite is None else invite_status(invite)
    if invite is None or status is None:
        raise invalid("token", IdentityErrorCode.INVALID_INVITE, "This invite link is not valid.")
    if status == InviteStatus.ACCEPTED:
        raise invalid("token", IdentityErrorCode.INVITE_ALREADY_ACCEPTED, "This invite was already accepted.")
    if status == InviteStatus.REVOKED:
        raise invalid("token", IdentityErrorCode.INVITE_REVOKED, "This invite was revoked.")
    if status == InviteStatus.EXPIRED:
        raise invalid("token", IdentityErrorCode.INVITE_EXPIRED, "This invite has expired.")
    return invite


async def _check_attempts(ctx: ServiceContext, token: str) -> None:
    settings = ctx.settings
    await ctx.rate_limiter.check(
        "invite",
        {
            "ip": (ctx.client_ip, settings.auth_rate_limit_per_ip),
            "account": (hash_invite_token(token)[:16], settings.auth_rate_limit_per_account),
        },
    )


def _member_of(invite: Invite) -> Select[User]:
    return select(User).where(User.tenant_id == invite.tenant_id, User.email == invite.email)


async def accept_invite(ctx: ServiceContext, token: str, password: str, full_name: str | None) -> SignIn:
    """Accepts the invite and signs in: a new account with ``password`` and ``full_name``, or —
    when the tenant already has a user of the invited address — that user, once ``password`` is
    theirs; either way they hold the invite's roles."""
    await _check_attempts(ctx, token)
    reject(
        length_problem("token", token, MAX_TOKEN_LENGTH),
        length_problem("password", password, MAX_PASSWORD_LENGTH),
        length_problem("fullName", full_name or "", MAX_NAME_LENGTH),
    )
    # Passwords are checked and hashed outside any transaction (argon2 is slow by design).
    async with ctx.read(ALL_TENANTS) as session:
        invite = _usable(await _by_token(session, token))
        existing = await session.scalar(_member_of(invite))
        # A new account's password meets the tenant's policy too (services/identity/security.py).
        policy = (
            await password_policy_problem(session, invite.tenant_id, "password", password)
            if existing is None
            else None
        )
    known_hash = existing.password_hash if existing is not None else None
    new_hash = ""
    if existing is None:
        # The tenant's minimum only when the password passes the checks every tenant shares.
        reject(name_problem("fullName", full_name or ""), new_password_problem("password", password))
        reject(policy)
        new_hash = await hash_password_in_thread(password)
    elif not await verify_password_in_thread(known_hash, password):
        raise invalid(
            "password",
            IdentityErrorCode.INVALID_CREDENTIALS,
            "This email already has an account here: enter its password to accept.",
        )
    async with ctx.transaction(ALL_TENANTS) as session:
        # Checked again under the lock: of two acceptances at once, the second finds it used.
        invite = _usable(await _by_token(session, token, lock=True))
        tenant = await session.get_one(Tenant, invite.tenant_id)
        user = await session.scalar(_member_of(invite).with_for_update())
        if (user.password_hash if user is not None else None) != known_hash:
            raise invalid(None, IdentityErrorCode.CONFLICT, "The account changed meanwhile; try again.")
        if user is None:
            user = await _new_member(session, invite, (full_name or "").strip(), new_hash)
        else:
            await _grant(session, invite, user)
        # Raised inside the transaction: nothing above is kept.
        if refusal := sign_in_refusal(tenant, user):
            raise refusal
        invite.accepted_at, invite.accepted_user_id = utcnow(), user.id
        record_event(
            session,
            topic=INVITE_ACCEPTED,
            tenant_id=invite.tenant_id,
            payload={
                "inviteId": str(invite.id),
                "userId": str(user.id),
                "invitedBy": str(invite.invited_by) if invite.invited_by else None,
                "email": user.email,
            },
        )
        return await start_session(ctx, session, user)


async def _new_member(session: AsyncSession, invite: Invite, full_name: str, password_hash: str) -> User:
    address = checked_email(invite.email)
    await email_clash(session, invite.tenant_id, address, field="token")  # a look-alike since
    await check_user_quota(session, invite.tenant_id)
    user = add_account(
        session,
        invite.tenant_id,
        email=address,
        full_name=full_name,
        password_hash=password_hash,
        roles=invite_roles(invite),
        email_verified=True,  # the token came by mail to this address
    )
    await session.flush()
    return record_user_change(session, user, "created")


async def _grant(session: AsyncSession, invite: Invite, user: User) -> None:
    """Gives an existing user the invite's roles they lack."""
    missing = set(invite_roles(invite)) - await roles_of(session, user.id)
    if not missing:
        return
    session.add_all(UserRole(tenant_id=user.tenant_id, user_id=user.id, role=role) for role in missing)
    record_access_change(session, users=[user.id])
    record_user_change(session, user, "roles")
