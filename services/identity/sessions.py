"""Sign-in sessions as their user sees them: the device a client names at sign-in, the open
sessions, revoking one or all the others, signing out with the refresh token alone, and the
httpOnly cookie that carries the refresh token of a browser.

Every revocation records an access change in its transaction (services/events.py), so the
revoked sessions' access tokens are refused on their next request and their subscriptions end."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Select, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, InvalidInput, NotFound, invalid
from core.lengths import MAX_NAME_LENGTH, MAX_TOKEN_LENGTH
from core.principal import Principal
from core.scope import TenantScope
from core.settings import Settings
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.base import utcnow
from models.identity.accounts import AuthSession, RefreshToken
from services.context import ServiceContext
from services.events import record_access_change
from services.identity.accounts import length_problem, reject
from services.identity.errors import IdentityErrorCode
from services.identity.tokens import hash_refresh_token

# The columns of auth_sessions hold these (models/identity/accounts.py).
MAX_DEVICE_ID_LENGTH = 128
MAX_DEVICE_NAME_LENGTH = MAX_NAME_LENGTH
MAX_USER_AGENT_LENGTH = 300

NEWEST_FIRST = SortKey(AuthSession.created_at, AuthSession.id, descending=True)
# The refresh-token answers after which the cookie that carried the token is of no more use.
DEAD_TOKEN_CODES = frozenset(
    {
        IdentityErrorCode.INVALID_REFRESH_TOKEN,
        IdentityErrorCode.REFRESH_TOKEN_EXPIRED,
        IdentityErrorCode.REFRESH_TOKEN_REUSED,
        IdentityErrorCode.SESSION_REVOKED,
    }
)


@dataclass(frozen=True, slots=True)
class Device:
    """How a client names itself at sign-in (both optional, shown in the session list)."""

    device_id: str | None = None
    name: str | None = None

    @classmethod
    def of(cls, device_id: str | None, name: str | None) -> Device:
        # Blank means not given.
        return cls((device_id or "").strip() or None, (name or "").strip() or None)

    def problems(self) -> tuple[FieldProblem | None, ...]:
        return (
            length_problem("deviceId", self.device_id or "", MAX_DEVICE_ID_LENGTH),
            length_problem("deviceName", self.name or "", MAX_DEVICE_NAME_LENGTH),
        )


NO_DEVICE = Device()


def new_auth_session(
    ctx: ServiceContext, tenant_id: uuid.UUID, user_id: uuid.UUID, device: Device
) -> AuthSession:
    """A session opened from the caller's address and user agent on ``device``."""
    now = utcnow()
    return AuthSession(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        user_id=user_id,
        # Last used when issued, to the microsecond (until its first refresh).
        created_at=now,
        last_used_at=now,
        client_ip=ctx.client_ip,
        user_agent=(ctx.user_agent or "")[:MAX_USER_AGENT_LENGTH] or None,
        device_id=device.device_id,
        device_name=device.name,
    )


def _home(principal: Principal) -> TenantScope:
    # A user's sessions are in their home tenant, also while a platform admin acts in another.
    return TenantScope.of(principal.home_tenant_id)


def open_sessions_of(user_id: uuid.UUID) -> Select[Any]:
    """The user's sessions that still work: not revoked, and their latest refresh token alive."""
    live_token = exists().where(
        RefreshToken.session_id == AuthSession.id,
        RefreshToken.rotated_at.is_(None),
        RefreshToken.expires_at > utcnow(),
    )
    return select(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None), live_token
    )


async def list_my_sessions(ctx: ServiceContext, page: PageArgs) -> Page[AuthSession]:
    principal = ctx.require_principal()
    return await paginate(
        partial(ctx.read, _home(principal)), open_sessions_of(principal.user_id), NEWEST_FIRST, page
    )


def _revoke(session: AsyncSession, auth_session: AuthSession, reason: str) -> None:
    auth_session.revoked_at = utcnow()
    auth_session.revoke_reason = reason
    record_access_change(session, sessions=[auth_session.id])


async def revoke_session(ctx: ServiceContext, session_id: uuid.UUID) -> AuthSession:
    """Ends one of the caller's own sessions (the current one too); another user's is NOT_FOUND,
    like one that does not exist."""
    principal = ctx.require_principal()
    async with ctx.transaction(_home(principal)) as session:
        auth_session = await session.get(AuthSession, session_id, with_for_update=True)
        if auth_session is None or auth_session.user_id != principal.user_id:
            raise NotFound("Session")
        if auth_session.revoked_at is not None:
            raise invalid("id", IdentityErrorCode.SESSION_REVOKED, "This session has already ended.")
        _revoke(session, auth_session, "revoked")
        return auth_session


async def revoke_other_sessions(ctx: ServiceContext) -> int:
    """Ends every open session of the caller but the current one; how many there were."""
    principal = ctx.require_principal()
    async with ctx.transaction(_home(principal)) as session:
        ended = list(
            await session.scalars(
                update(AuthSession)
                .where(
                    AuthSession.user_id == principal.user_id,
                    AuthSession.id != principal.session_id,
                    AuthSession.revoked_at.is_(None),
                )
                .values(revoked_at=utcnow(), revoke_reason="revoked_others")
                .returning(AuthSession.id)
            )
        )
        if ended:
            record_access_change(session, sessions=ended)
        return len(ended)


async def logout_with_refresh_token(ctx: ServiceContext, token: str) -> int:
    """Ends the session of a refresh token, no access token needed; how many sessions ended (0
    when it had ended already). An expired token still ends its session; a rotated one was
    replayed: its session ends as for a reused token at refresh, and the answer says so."""
    reject(length_problem("refreshToken", token, MAX_TOKEN_LENGTH))
    async with ctx.transaction(TenantScope.all_tenants()) as session:
        stored = await session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token)).with_for_update()
        )
        if stored is None:
            raise invalid(
                "refreshToken", IdentityErrorCode.INVALID_REFRESH_TOKEN, "The refresh token is not valid."
            )
        auth_session = await session.get_one(AuthSession, stored.session_id, with_for_update=True)
        open_before = auth_session.revoked_at is None
        if open_before:
            _revoke(session, auth_session, "logout" if stored.rotated_at is None else "refresh_token_reuse")
        if stored.rotated_at is None:
            return int(open_before)
    # Committed above: the replayed token's session is over either way.
    raise invalid(
        "refreshToken",
        IdentityErrorCode.REFRESH_TOKEN_REUSED,
        "This refresh token was already used; the session has been ended.",
    )


def refresh_token_required(settings: Settings) -> InvalidInput:
    return invalid(
        "refreshToken",
        IdentityErrorCode.REQUIRED,
        f"Send the refresh token in the input, or in the {settings.refresh_cookie_name} cookie.",
    )


def refresh_cookie(settings: Settings, token: str, expires_at: datetime) -> dict[str, Any]:
    """The Set-Cookie attributes of a browser's refresh token (keyword arguments of Starlette's
    ``Response.set_cookie``): HttpOnly, Secure, SameSite=Lax, Path=/, for the token's lifetime."""
    lifetime = max(0, int((expires_at - utcnow()).total_seconds()))
    return {**cookie_scope(settings), "value": token, "max_age": lifetime}


def cookie_scope(settings: Settings) -> dict[str, Any]:
    """What names the refresh cookie to a browser (``Response.delete_cookie`` takes the same)."""
    return {
        "key": settings.refresh_cookie_name,
        "path": "/",
        "secure": True,
        "httponly": True,
        "samesite": "lax",
    }
