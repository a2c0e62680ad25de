"""The OIDC logout and session status of a browser's refresh cookie (set by an OAuth callback,
server/oauth.py): which live session it belongs to, and ending it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.identity.accounts import AuthSession, RefreshToken, Tenant, User
from models.identity.oauth import OAuthSignIn
from services.context import ServiceContext
from services.events import record_access_change
from services.identity.auth import end_sessions, sign_in_refusal
from services.identity.oauth import ALL_TENANTS, MAX_STATE_LENGTH
from services.identity.oauth_providers import Provider, provider_named
from services.identity.tokens import hash_refresh_token


@dataclass(frozen=True, slots=True)
class CookieSession:
    """The sign-in session a refresh cookie belongs to, while it is alive."""

    session_id: uuid.UUID
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    provider: str | None
    expires_at: datetime


async def _cookie_token(session: AsyncSession, refresh_token: str) -> RefreshToken | None:
    if not refresh_token or len(refresh_token) > MAX_STATE_LENGTH:
        return None
    return await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(refresh_token))
    )


async def _provider_of(session: AsyncSession, session_id: uuid.UUID) -> str | None:
    return await session.scalar(select(OAuthSignIn.provider).where(OAuthSignIn.session_id == session_id))


async def cookie_session(ctx: ServiceContext, refresh_token: str) -> CookieSession | None:
    """The live session of a refresh cookie: its token current (not rotated, not expired), the
    session open, the user and tenant allowed to sign in. None otherwise."""
    async with ctx.read(ALL_TENANTS) as session:
        stored = await _cookie_token(session, refresh_token)
        if stored is None or stored.rotated_at is not None or stored.expires_at <= utcnow():
            return None
        auth_session = await session.get_one(AuthSession, stored.session_id)
        user = await session.get_one(User, auth_session.user_id)
        tenant = await session.get_one(Tenant, user.tenant_id)
        if auth_session.revoked_at is not None or sign_in_refusal(tenant, user) is not None:
            return None
        return CookieSession(
            session_id=auth_session.id,
            user_id=user.id,
            tenant_id=user.tenant_id,
            provider=await _provider_of(session, auth_session.id),
            expires_at=stored.expires_at,
        )


async def end_cookie_session(ctx: ServiceContext, refresh_token: str) -> Provider | None:
    """Ends the session of a refresh cookie (any of its tokens, even a rotated one: a logout is
    never refused); the provider that opened it, if it is still enabled."""
    async with ctx.transaction(ALL_TENANTS) as session:
        stored = await _cookie_token(session, refresh_token)
        if stored is None:
            return None
        ended = await end_sessions(session, "logout", AuthSession.id == stored.session_id)
        if ended:
            record_access_change(session, sessions=[stored.session_id])
        name = await _provider_of(session, stored.session_id)
    return provider_named(ctx.settings, name) if name else None
