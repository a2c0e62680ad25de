"""Signing in with an OAuth / OIDC provider: start (state, PKCE verifier and nonce stored
server-side, single use, expiring, so any process can finish), finish (the code exchanged, the
provider's identity read), link or create the user in the tenant, open a session; the code-exchange
style of a client that ran the authorization itself (with the authorization URL from here, its
state and PKCE verifier kept server-side, or entirely on its own); linking a provider to a
signed-in account. The refresh cookie's OIDC logout and session status: oauth_cookies.py.

An email the provider reports is trusted only when it says it verified it, and never to take over
an account of the tenant: a user whose address exists already signs in the way they did, then
links the provider (``link_identity``)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.emails import Email
from core.errors import InvalidInput, invalid
from core.lengths import MAX_NAME_LENGTH, MAX_TENANT_SLUG_LENGTH, MAX_URL_LENGTH
from core.permissions import Role
from core.scope import TenantScope
from core.settings import Settings
from models.base import utcnow
from models.identity.accounts import Tenant, User
from models.identity.oauth import OAuthSignIn, OAuthState, UserIdentity
from services.context import ServiceContext
from services.identity.accounts import (
    add_account,
    checked_email,
    email_clash,
    email_problem,
    length_problem,
    record_user_change,
    reject,
)
from services.identity.auth import SignIn, sign_in_refusal, start_session, tenant_by_slug
from services.identity.errors import IdentityErrorCode
from services.identity.limits import check_user_quota
from services.identity.oauth_providers import (
    OAuthFailure,
    Provider,
    ProviderIdentity,
    configured_providers,
    provider_named,
)
from services.identity.security import IssuedChallenge, second_factor_challenge
from services.identity.tokens import hash_refresh_token

ALL_TENANTS = TenantScope.all_tenants()
MAX_PROVIDER_LENGTH = 32
# Authorization codes are opaque and provider-sized (Microsoft's run to about 1,500 characters).
MAX_CODE_LENGTH = 4096
MAX_CODE_VERIFIER_LENGTH = 128  # RFC 7636: 43 to 128 characters
MAX_STATE_LENGTH = 256
# Not an argon2 hash: no password verifies against it, so the account signs in by provider only
# (until a password reset gives it one).
NO_PASSWORD = "!oauth-only"
# Expired states are kept a day more, so a late callback hears "expired", not "forged".
EXPIRED_STATES_KEPT = timedelta(days=1)
# A state a client chooses must be as hard to guess as ours (state_hash is unique).
MIN_CLIENT_STATE_LENGTH = 16


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A started sign-in: where to send the browser, with the state it comes back with."""

    url: str
    state: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OAuthSignInResult:
    provider: str
    # An MFA account gets a challenge to complete (as after its password), not tokens.
    sign_in: SignIn | IssuedChallenge


def _refused(code: IdentityErrorCode, message: str, field: str | None = None) -> InvalidInput:
    return invalid(field, code, message)


def public_base(settings: Settings, request_base_url: str) -> str:
    """This server's base URL as browsers and providers reach it (no trailing slash)."""
    return (settings.public_url or request_base_url).rstrip("/")


def url_of_start(base: str, provider: str, tenant_slug: str | None) -> str:
    query = f"?{urlencode({'tenant': tenant_slug})}" if tenant_slug else ""
    return f"{base}/auth/oauth/{provider}{query}"


def url_of_callback(base: str, provider: str) -> str:
    return f"{base}/auth/oauth/{provider}/callback"


def enabled_providers(ctx: ServiceContext) -> list[Provider]:
    return list(configured_providers(ctx.settings).values())


def _provider(ctx: ServiceContext, name: str) -> Provider:
    # Exactly as configured: the name is part of the redirect URI registered at the provider.
    found = provider_named(ctx.settings, name) if len(name) <= MAX_PROVIDER_LENGTH else None
    if found is None:
        raise _refused(
            IdentityErrorCode.OAUTH_UNKNOWN_PROVIDER,
            "No sign-in provider of this name is enabled.",
            "provider",
        )
    return found


async def check_attempts(ctx: ServiceContext) -> None:
    # Starting and finishing cost provider round trips: limited per client like password sign-in.
    await ctx.rate_limiter.check("oauth", {"ip": (ctx.client_ip, ctx.settings.auth_rate_limit_per_ip)})


async def sign_in_tenant(ctx: ServiceContext, tenant_slug: str) -> Tenant:
    async with ctx.read(ALL_TENANTS) as session:
        tenant = await tenant_by_slug(session, tenant_slug)
    if tenant is None:
        raise _refused(IdentityErrorCode.UNKNOWN_TENANT, "No tenant has this slug.", "tenantSlug")
    if not tenant.can_sign_in:
        raise _refused(IdentityErrorCode.TENANT_SUSPENDED, "This tenant is suspended; sign-in is disabled.")
    return tenant


def _failed(failure: OAuthFailure) -> InvalidInput:
    return _refused(failure.code, failure.message)


async def start(ctx: ServiceContext, provider_name: str, tenant_slug: str, redirect_uri: str) -> str:
    """The provider's authorization URL for signing in to the tenant; the state, PKCE verifier
    and nonce behind it are stored for ``finish``."""
    return (await authorization_request(ctx, provider_name, tenant_slug, redirect_uri)).url


def _state_problem(state: str | None) -> None:
    if state is not None and not MIN_CLIENT_STATE_LENGTH <= len(state) <= MAX_STATE_LENGTH:
        raise _refused(
            IdentityErrorCode.OAUTH_INVALID_STATE,
            f"A state takes {MIN_CLIENT_STATE_LENGTH} to {MAX_STATE_LENGTH} characters.",
            "state",
        )


async def authorization_request(
    ctx: ServiceContext, provider_name: str, tenant_slug: str, redirect_uri: str, state: str | None = None
) -> AuthorizationRequest:
    """Starts a sign-in to the tenant: the provider's authorization URL, with ``state`` (the
    client's, or a new one). The PKCE verifier and nonce stay here, for ``finish`` or for
    ``login_with_code`` given the same state."""
    await check_attempts(ctx)
    provider = _provider(ctx, provider_name)
    reject(
        length_problem("tenantSlug", tenant_slug, MAX_TENANT_SLUG_LENGTH),
        length_problem("redirectUri", redirect_uri, MAX_URL_LENGTH),
    )
    _state_problem(state)
    tenant = await sign_in_tenant(ctx, tenant_slug)
    state = state or secrets.token_urlsafe(32)
    verifier, nonce = secrets.token_urlsafe(64), secrets.token_urlsafe(24)
    try:
        url = await provider.authorization_url(redirect_uri, state, verifier, nonce)
    except OAuthFailure as failure:
        raise _failed(failure) from failure
    now = utcnow()
    expires_at = now + timedelta(seconds=ctx.settings.oauth_state_ttl_seconds)
    try:
        async with ctx.transaction(TenantScope.of(tenant.id)) as session:
            await session.execute(delete(OAuthState).where(OAuthState.expires_at < now - EXPIRED_STATES_KEPT))
            session.add(
                OAuthState(
                    tenant_id=tenant.id,
                    state_hash=hash_refresh_token(state),
                    provider=provider.name,
                    code_verifier=verifier,
                    nonce=nonce,
                    redirect_uri=redirect_uri,
                    expires_at=expires_at,
                )
            )
    except IntegrityError as clash:
        raise _refused(
            IdentityErrorCode.OAUTH_INVALID_STATE, "This state is in use: choose another.", "state"
        ) from clash
    return AuthorizationRequest(url, state, expires_at)


async def _consume_state(ctx: ServiceContext, provider: Provider, state: str | None) -> OAuthState:
    if not state or len(state) > MAX_STATE_LENGTH:
        raise _refused(IdentityErrorCode.OAUTH_INVALID_STATE, "The sign-in has no valid state; start again.")
    # Deleted as it is read: a second callback with the same state finds nothing.
    async with ctx.transaction(ALL_TENANTS) as session:
        stored: OAuthState | None = await session.scalar(
            delete(OAuthState).where(OAuthState.state_hash == hash_refresh_token(state)).returning(OAuthState)
        )
    if stored is None or stored.provider != provider.name:
        raise _refused(
            IdentityErrorCode.OAUTH_INVALID_STATE, "This sign-in is unknown or already finished; start again."
        )
    if stored.expires_at <= utcnow():
        raise _refused(IdentityErrorCode.OAUTH_STATE_EXPIRED, "This sign-in took too long; start again.")
    return stored


def _provider_error(error: str, description: str | None) -> InvalidInput:
    if error == "access_denied":
        return _refused(IdentityErrorCode.OAUTH_ACCESS_DENIED, "Sign-in was cancelled at the provider.")
    detail = f"{error}: {description}" if description else error
    return _refused(IdentityErrorCode.OAUTH_PROVIDER_ERROR, f"The provider refused: {detail}"[:300])


async def finish(
    ctx: ServiceContext,
    provider_name: str,
    *,
    state: str | None,
    code: str | None,
    error: str | None = None,
    error_description: str | None = None,
) -> OAuthSignInResult:
    """The provider's redirect back (``/auth/oauth/<provider>/callback``): the stored state is
    used up, then the code exchanged and the user signed in to the tenant the sign-in started for."""
    await check_attempts(ctx)
    provider = _provider(ctx, provider_name)
    stored = await _consume_state(ctx, provider, state)
    if error:
        raise _provider_error(error, error_description)
    if not code or len(code) > MAX_CODE_LENGTH:
        raise _refused(IdentityErrorCode.OAUTH_EXCHANGE_FAILED, "The provider sent no authorization code.")
    identity = await _identity(provider, code, stored.redirect_uri, stored.code_verifier, stored.nonce)
    return OAuthSignInResult(
        provider.name, await sign_in_identity(ctx, provider.name, stored.tenant_id, identity)
    )


def _code_problems(code: str, redirect_uri: str, code_verifier: str | None) -> None:
    reject(
        length_problem("code", code, MAX_CODE_LENGTH),
        length_problem("redirectUri", redirect_uri, MAX_URL_LENGTH),
        length_problem("codeVerifier", code_verifier or "", MAX_CODE_VERIFIER_LENGTH),
    )


async def login_with_code(
    ctx: ServiceContext,
    provider_name: str,
    *,
    code: str,
    redirect_uri: str,
    tenant_slug: str,
    code_verifier: str | None = None,
    state: str | None = None,
) -> SignIn | IssuedChallenge:
    """002's code exchange: the client ran the authorization request itself; the code is exchanged
    with ``redirect_uri`` and the user signed in to the tenant. With ``state`` (from
    ``authorization_request``) the stored state is used up and its PKCE verifier and nonce
    sent; without, the client checked its own state."""
    await check_attempts(ctx)
    provider = _provider(ctx, provider_name)
    _code_problems(code, redirect_uri, code_verifier)
    reject(length_problem("tenantSlug", tenant_slug, MAX_TENANT_SLUG_LENGTH))
    tenant = await sign_in_tenant(ctx, tenant_slug)
    nonce = None
    if state is not None:
        stored = await _consume_state(ctx, provider, state)
        if stored.tenant_id != tenant.id or stored.redirect_uri != redirect_uri:
            raise _refused(
                IdentityErrorCode.OAUTH_INVALID_STATE,
                "This state was started for another tenant or redirect URI; start again.",
                "state",
            )
        code_verifier, nonce = stored.code_verifier, stored.nonce
    identity = await _identity(provider, code, redirect_uri, code_verifier, nonce)
    return await sign_in_identity(ctx, provider.name, tenant.id, identity)


async def link_identity(
    ctx: ServiceContext,
    provider_name: str,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str | None = None,
) -> User:
    """Links the provider account of ``code`` to the signed-in user (the proof an existing account
    gives before a provider may sign in to it)."""
    ctx.require_principal()
    await check_attempts(ctx)
    provider = _provider(ctx, provider_name)
    _code_problems(code, redirect_uri, code_verifier)
    identity = await _identity(provider, code, redirect_uri, code_verifier, None)
    return await link_to_caller(ctx, provider.name, identity)


async def link_to_caller(ctx: ServiceContext, provider_name: str, identity: ProviderIdentity) -> User:
    """Links a provider account the caller proved to be theirs to the caller."""
    principal = ctx.require_principal()
    async with ctx.transaction(TenantScope.of(principal.home_tenant_id)) as session:
        user = await session.get_one(User, principal.user_id)
        linked = await _linked(session, user.tenant_id, provider_name, identity)
        if linked is not None and linked.user_id != user.id:
            raise _refused(
                IdentityErrorCode.OAUTH_IDENTITY_IN_USE, "This provider account signs in as another user."
            )
        if linked is None:
            session.add(_identity_row(user, provider_name, identity))
            try:
                await session.flush()
            except IntegrityError as clash:  # linked meanwhile, by a concurrent call
                raise _refused(
                    IdentityErrorCode.OAUTH_IDENTITY_IN_USE, "This provider account was linked meanwhile."
                ) from clash
        return user


async def _identity(
    provider: Provider, code: str, redirect_uri: str, code_verifier: str | None, nonce: str | None
) -> ProviderIdentity:
    try:
        return await provider.identity(code, redirect_uri, code_verifier, nonce)
    except OAuthFailure as failure:
        raise _failed(failure) from failure


async def _linked(
    session: AsyncSession, tenant_id: uuid.UUID, provider_name: str, identity: ProviderIdentity
) -> UserIdentity | None:
    return await session.scalar(
        select(UserIdentity)
        .where(
            UserIdentity.tenant_id == tenant_id,
            UserIdentity.provider == provider_name,
            UserIdentity.subject == identity.subject,
        )
        .with_for_update()
    )


def _identity_row(user: User, provider_name: str, identity: ProviderIdentity) -> UserIdentity:
    return UserIdentity(
        id=uuid.uuid4(),
        tenant_id=user.tenant_id,
        user_id=user.id,
        provider=provider_name,
        subject=identity.subject[:255],
        email=(identity.email or "")[:320] or None,
        display_name=(identity.display_name or "")[:255] or None,
    )


async def _verified_address(session: AsyncSession, tenant_id: uuid.UUID, identity: ProviderIdentity) -> Email:
    if identity.email is None or not identity.email_verified:
        raise _refused(
            IdentityErrorCode.OAUTH_EMAIL_UNVERIFIED,
            "The provider has no verified email address for this account; verify one there first.",
        )
    if email_problem("email", identity.email) is not None:
        raise _refused(IdentityErrorCode.INVALID_EMAIL, "The provider's email address is not usable here.")
    address = checked_email(identity.email)
    try:
        await email_clash(session, tenant_id, address, field="email")
    except InvalidInput as clash:
        raise _refused(
            IdentityErrorCode.OAUTH_ACCOUNT_EXISTS,
            "An account with this email exists: sign in to it, then link this provider in its settings.",
        ) from clash
    return address


async def _new_account(
    session: AsyncSession, tenant_id: uuid.UUID, provider_name: str, identity: ProviderIdentity
) -> tuple[User, UserIdentity]:
    # A provider that has no email at all (Telegram) makes an account without one.
    address = await _verified_address(session, tenant_id, identity) if identity.has_email else None
    await check_user_quota(session, tenant_id)
    fallback = (
        address.address.split("@")[0] if address is not None else identity.display_name or provider_name
    )
    name = (identity.name or "").strip()[:MAX_NAME_LENGTH] or fallback[:MAX_NAME_LENGTH]
    user = add_account(
        session,
        tenant_id,
        email=address,
        full_name=name,
        password_hash=NO_PASSWORD,
        roles=(Role.USER,),
        email_verified=address is not None,
    )
    linked = _identity_row(user, provider_name, identity)
    session.add(linked)
    await session.flush()
    record_user_change(session, user, "registered")
    return user, linked


async def sign_in_identity(
    ctx: ServiceContext, provider_name: str, tenant_id: uuid.UUID, identity: ProviderIdentity
) -> SignIn | IssuedChallenge:
    """Signs the provider account in to the tenant: as the user it is linked to, or as a new
    user made from it."""
    # Two first sign-ins of one provider account at once: one creates the user, the other's insert
    # fails on the unique identity (or email) and, once more, finds it linked.
    for attempt in (1, 2):
        try:
            return await _sign_in_once(ctx, provider_name, tenant_id, identity)
        except IntegrityError:
            if attempt == 2:
                raise
    raise RuntimeError("unreachable")


async def _sign_in_once(
    ctx: ServiceContext, provider_name: str, tenant_id: uuid.UUID, identity: ProviderIdentity
) -> SignIn | IssuedChallenge:
    async with ctx.transaction(TenantScope.of(tenant_id)) as session:
        tenant = await session.get_one(Tenant, tenant_id)
        linked = await _linked(session, tenant_id, provider_name, identity)
        if linked is None:
            user, linked = await _new_account(session, tenant_id, provider_name, identity)
        else:
            user = await session.get_one(User, linked.user_id, with_for_update=True)
        if refusal := sign_in_refusal(tenant, user):
            raise refusal
        linked.last_login_at = utcnow()
        linked.email = (identity.email or "")[:320] or linked.email
        linked.display_name = (identity.display_name or "")[:255] or linked.display_name
        # A provider is one factor, like a password: MFA (services/identity/security.py) still asks.
        if challenge := await second_factor_challenge(ctx, session, user):
            return challenge
        sign_in = await start_session(ctx, session, user)
        session.add(
            OAuthSignIn(
                tenant_id=tenant_id,
                session_id=sign_in.principal.session_id,
                identity_id=linked.id,
                provider=provider_name,
            )
        )
        return sign_in
