"""Sign-in sessions: login (sign-up is services/identity/registration.py), refresh-token rotation,
logout, and checking the bearer of an access token on every request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, Forbidden, InvalidInput, Unauthenticated, invalid
from core.lengths import MAX_PASSWORD_LENGTH, MAX_TENANT_SLUG_LENGTH, MAX_TOKEN_LENGTH
from core.principal import Principal
from core.scope import TenantScope
from core.settings import Settings
from models.base import utcnow
from models.db import Reads
from models.identity.accounts import AuthSession, RefreshToken, Tenant, User, UserStatus
from services import audit
from services.context import ServiceContext
from services.events import record_access_change
from services.identity.access import AccessStore
from services.identity.accounts import (
    length_problem,
    new_password_problem,
    reject,
    roles_of,
)
from services.identity.bans import ban_refusal
from services.identity.contacts import sign_in_name
from services.identity.errors import IdentityErrorCode
from services.identity.passwords import hash_password_in_thread, verify_password_in_thread
from services.identity.security import (
    IssuedChallenge,
    password_policy_problem,
    refresh_token_expiry,
    second_factor_challenge,
)
from services.identity.sessions import NO_DEVICE, Device, new_auth_session
from services.identity.tokens import (
    InvalidToken,
    decode_access_token,
    hash_refresh_token,
    issue_access_token,
    new_refresh_token,
)

ALL_TENANTS = TenantScope.all_tenants()


@dataclass(frozen=True, slots=True)
class SignIn:
    user: User
    principal: Principal
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str
    refresh_token_expires_at: datetime


def _credentials_rejected() -> InvalidInput:
    # One answer for unknown tenant, unknown email and wrong password: no account enumeration.
    return invalid(
        None, IdentityErrorCode.INVALID_CREDENTIALS, "The tenant, email or password is not correct."
    )


async def _check_attempts(ctx: ServiceContext, action: str, account: str) -> None:
    settings = ctx.settings
    await ctx.rate_limiter.check(
        action,
        {
            "ip": (ctx.client_ip, settings.auth_rate_limit_per_ip),
            "account": (account, settings.auth_rate_limit_per_account),
        },
    )


def sign_in_refusal(tenant: Tenant, user: User) -> InvalidInput | None:
    if tenant.trial_expired:
        return invalid(
            None, IdentityErrorCode.TRIAL_EXPIRED, "This tenant's trial has ended; sign-in is disabled."
        )
    if not tenant.can_sign_in:
        return invalid(
            None, IdentityErrorCode.TENANT_SUSPENDED, "This tenant is suspended; sign-in is disabled."
        )
    if user.status != UserStatus.ACTIVE:
        return invalid(None, IdentityErrorCode.ACCOUNT_SUSPENDED, "This account is suspended.")
    return ban_refusal(user)


async def start_session(
    ctx: ServiceContext, session: AsyncSession, user: User, *, device: Device = NO_DEVICE
) -> SignIn:
    """Open a sign-in session for ``user`` inside the caller's transaction and issue its tokens."""
    now = utcnow()
    auth_session = new_auth_session(ctx, user.tenant_id, user.id, device)
    session.add(auth_session)
    user.last_login_at = now
    refresh, refresh_expires = await _add_refresh_token(ctx.settings, session, auth_session)
    return await _signed_in(ctx.settings, session, user, auth_session, refresh, refresh_expires)


async def _signed_in(
    settings: Settings,
    session: AsyncSession,
    user: User,
    auth_session: AuthSession,
    refresh_token: str,
    refresh_expires: datetime,
) -> SignIn:
    principal = Principal(
        user_id=user.id,
        home_tenant_id=user.tenant_id,
        roles=await roles_of(session, user.id),
        session_id=auth_session.id,
        password_change_required=user.must_change_password,
    )
    audit.identified(principal)
    access = issue_access_token(
        settings, user_id=user.id, tenant_id=user.tenant_id, roles=principal.roles, session_id=auth_session.id
    )
    return SignIn(user, principal, access.token, access.expires_at, refresh_token, refresh_expires)


async def _add_refresh_token(
    settings: Settings, session: AsyncSession, auth_session: AuthSession
) -> tuple[str, datetime]:
    token = new_refresh_token()
    expires_at = await refresh_token_expiry(session, auth_session, settings.refresh_token_ttl_seconds)
    session.add(
        RefreshToken(
            tenant_id=auth_session.tenant_id,
            session_id=auth_session.id,
            token_hash=hash_refresh_token(token),
            expires_at=expires_at,
        )
    )
    return token, expires_at


async def tenant_by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    slug = slug.strip().lower()
    if len(slug) > MAX_TENANT_SLUG_LENGTH:
        return None  # no tenant has one: not worth a query
    # A deleted tenant is unknown to sign-in (it keeps its slug while it may be restored).
    return await session.scalar(select(Tenant).where(Tenant.slug == slug, Tenant.deleted_at.is_(None)))


def _slug_problem(tenant_slug: str) -> FieldProblem | None:
    return length_problem("tenantSlug", tenant_slug.strip(), MAX_TENANT_SLUG_LENGTH)


async def login(
    ctx: ServiceContext,
    tenant_slug: str,
    email: str | None,
    password: str,
    *,
    device: Device = NO_DEVICE,
    phone: str | None = None,
) -> SignIn | IssuedChallenge:
    # By email or by phone (services/identity/contacts.py), exactly one.
    name = sign_in_name(email, phone, exactly_one=True)
    await _check_attempts(ctx, "login", f"{tenant_slug.strip().lower()}:{name.account}")
    reject(
        _slug_problem(tenant_slug),
        name.problem,
        length_problem("password", password, MAX_PASSWORD_LENGTH),
        *device.problems(),
    )
    # The password is checked outside any transaction: argon2 is slow by design, and a connection
    # should not wait on it.
    user = None
    if name.matches is not None:
        async with ctx.read(ALL_TENANTS) as session:
            tenant = await tenant_by_slug(session, tenant_slug)
            if tenant is not None:
                user = await session.scalar(select(User).where(User.tenant_id == tenant.id, name.matches))
    # Verified also when there is no such user, so the answer takes as long either way.
    verified = await verify_password_in_thread(user.password_hash if user else None, password)
    if user is None or not verified:
        raise _credentials_rejected()
    async with ctx.transaction(ALL_TENANTS) as session:
        user = await session.get_one(User, user.id, with_for_update=True)
        tenant = await session.get_one(Tenant, user.tenant_id)
        if refusal := sign_in_refusal(tenant, user):
            raise refusal
        # MFA (services/identity/security.py): a challenge instead of tokens.
        if challenge := await second_factor_challenge(ctx, session, user, device):
            return challenge
        return await start_session(ctx, session, user, device=device)


async def refresh(ctx: ServiceContext, token: str) -> SignIn:
    token_hash = hash_refresh_token(token)
    await _check_attempts(ctx, "refresh", token_hash[:16])
    reject(length_problem("refreshToken", token, MAX_TOKEN_LENGTH))
    async with ctx.transaction(ALL_TENANTS) as session:
        # Row locks make two refreshes with one token take turns: the second one sees it rotated.
        stored = await session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
        )
        if stored is None:
            raise invalid(
                "refreshToken", IdentityErrorCode.INVALID_REFRESH_TOKEN, "The refresh token is not valid."
            )
        auth_session = await session.get_one(AuthSession, stored.session_id, with_for_update=True)
        if stored.rotated_at is None:
            if auth_session.revoked_at is not None:
                raise invalid(
                    "refreshToken",
                    IdentityErrorCode.SESSION_REVOKED,
                    "This session has ended; sign in again.",
                )
            if stored.expires_at <= utcnow():
                raise invalid(
                    "refreshToken", IdentityErrorCode.REFRESH_TOKEN_EXPIRED, "The refresh token has expired."
                )
            user = await session.get_one(User, auth_session.user_id)
            tenant = await session.get_one(Tenant, user.tenant_id)
            if refusal := sign_in_refusal(tenant, user):
                raise refusal
            stored.rotated_at = auth_session.last_used_at = utcnow()
            refresh_token, refresh_expires = await _add_refresh_token(ctx.settings, session, auth_session)
            return await _signed_in(ctx.settings, session, user, auth_session, refresh_token, refresh_expires)
        # A rotated token came back: it was stolen or replayed. End the whole session, and
        # commit that before answering.
        if auth_session.revoked_at is None:
            auth_session.revoked_at = utcnow()
            auth_session.revoke_reason = "refresh_token_reuse"
            record_access_change(session, sessions=[auth_session.id])
    raise invalid(
        "refreshToken",
        IdentityErrorCode.REFRESH_TOKEN_REUSED,
        "This refresh token was already used; the session has been ended.",
    )


async def end_sessions(session: AsyncSession, reason: str, *which: ColumnElement[bool]) -> int:
    """Revokes the sessions ``which`` selects that are still open; how many there were."""
    result = await session.execute(
        update(AuthSession)
        .where(AuthSession.revoked_at.is_(None), *which)
        .values(revoked_at=utcnow(), revoke_reason=reason)
    )
    # An UPDATE answers a CursorResult (with rowcount); the stubs only say Result.
    return int(result.rowcount)  # type: ignore[attr-defined]


async def logout(ctx: ServiceContext, everywhere: bool) -> int:
    principal = ctx.require_principal()
    which = [AuthSession.user_id == principal.user_id]
    if not everywhere:
        which.append(AuthSession.id == principal.session_id)
    async with ctx.transaction(TenantScope.of(principal.home_tenant_id)) as session:
        ended = await end_sessions(session, "logout", *which)
        if everywhere:
            record_access_change(session, users=[principal.user_id])
        else:
            record_access_change(session, sessions=[principal.session_id])
        return ended


async def change_password(ctx: ServiceContext, current_password: str, new_password: str) -> User:
    principal = ctx.require_principal()
    await _check_attempts(ctx, "password", str(principal.user_id))
    reject(
        length_problem("currentPassword", current_password, MAX_PASSWORD_LENGTH),
        new_password_problem("newPassword", new_password),
    )
    home = TenantScope.of(principal.home_tenant_id)
    async with ctx.read(home) as session:
        current_hash = (await session.get_one(User, principal.user_id)).password_hash
        reject(await password_policy_problem(session, principal.home_tenant_id, "newPassword", new_password))
    if not await verify_password_in_thread(current_hash, current_password):
        raise invalid(
            "currentPassword", IdentityErrorCode.INVALID_CREDENTIALS, "The current password is not correct."
        )
    if await verify_password_in_thread(current_hash, new_password):
        raise invalid(
            "newPassword", IdentityErrorCode.UNCHANGED, "Choose a password different from the current one."
        )
    new_hash = await hash_password_in_thread(new_password)
    async with ctx.transaction(home) as session:
        user = await session.get_one(User, principal.user_id, with_for_update=True)
        if user.password_hash != current_hash:
            raise invalid(
                "currentPassword",
                IdentityErrorCode.CONFLICT,
                "The password was changed meanwhile; try again.",
            )
        user.password_hash = new_hash
        # The session may do anything again: the access change below makes the stores re-read it.
        user.must_change_password = False
        await end_sessions(
            session,
            "password_changed",
            AuthSession.user_id == user.id,
            AuthSession.id != principal.session_id,
        )
        record_access_change(session, users=[user.id])
        return user


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value; None without one. Any other
    scheme, or Bearer with nothing after it, is UNAUTHENTICATED: never read as anonymous."""
    if authorization is None or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthenticated(
            "This Authorization scheme is not accepted: send Authorization: Bearer <access token>."
        )
    if not token.strip():
        raise Unauthenticated("Authorization: Bearer needs the access token after it.")
    return token.strip()


async def authenticate(
    access: AccessStore,
    settings: Settings,
    bearer: str,
    acting_tenant: uuid.UUID | None,
    reads: Reads | None = None,
) -> Principal:
    """The principal of an access token, checked against the live session, user and tenant: from
    the process's access store (services/identity/access.py), read on ``reads`` (an HTTP request's
    connection) when it does not hold the session."""
    try:
        claimed = decode_access_token(settings, bearer)
    except InvalidToken as exc:
        raise Unauthenticated(str(exc)) from exc
    principal = await access.principal(claimed, reads)
    if acting_tenant is not None:
        principal = await acting_in(reads or access.reads, principal, acting_tenant)
    return principal


async def reauthenticate(
    access: AccessStore, settings: Settings, current: Principal, bearer: str
) -> Principal:
    """A fresh access token for a connection signed in as ``current`` (a websocket, which ends
    when its token expires): checked like any bearer, and it must be of the same sign-in session,
    as the token ``refreshToken`` answers is. The connection keeps acting in its tenant; the
    principal carries the fresh token's expiry."""
    fresh = await authenticate(access, settings, bearer, current.acting_tenant_id)
    # A session is one user's in one tenant: authenticate checked the token's claims against it.
    if fresh.session_id != current.session_id:
        raise Forbidden("This token is of another sign-in session; open a new connection with it.")
    return fresh


async def acting_in(db: Reads, principal: Principal, tenant_id: uuid.UUID) -> Principal:
    """``principal`` acting in the X-Tenant-Id tenant: platform admins and service principals only."""
    if not (principal.is_platform_admin or principal.is_service):
        raise Forbidden("Only platform administrators may act in another tenant (X-Tenant-Id).")
    async with db.session(ALL_TENANTS) as session:
        if await session.get(Tenant, tenant_id) is None:
            raise Forbidden("X-Tenant-Id names no tenant.")
    return replace(principal, acting_tenant_id=tenant_id)
