"""Service clients: OAuth2 client credentials (RFC 6749 section 4.4) for the platform's own services
and partners. Platform admins create them (the secret is shown once and stored as its SHA-256),
list, revoke and delete them; a client trades its credentials at ``POST /oauth/token``
(server/oauth_token.py) for a short-lived JWT that our authentication accepts as a service
principal (core/principal.py PrincipalKind.SERVICE) holding the client's scopes.

Every request with such a token reads the client by id (no cache): a revoked or deleted client's
tokens are refused from the next request on."""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass, replace
from functools import partial

from sqlalchemy import delete, select

from core.errors import NotFound, RateLimited, Unauthenticated, invalid
from core.permissions import PLATFORM_ADMINS
from core.principal import NO_TENANT, Principal, PrincipalKind
from core.scope import TenantScope
from core.scopes import ApiScope, RefusalReason, known_scopes, scopes_of
from core.settings import Settings
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.base import utcnow
from models.db import Database, Reads
from models.identity.api_keys import ServiceClient
from services.context import ServiceContext
from services.identity.accounts import reject
from services.identity.api_keys import (
    MAX_NAME_CHARS,
    MAX_REASON_CHARS,
    hash_secret,
    problem_at,
    require_session,
)
from services.identity.errors import IdentityErrorCode
from services.identity.tokens import issue_access_token
from services.ratelimit import RateLimiter

ALL_TENANTS = TenantScope.all_tenants()
CLIENT_ID_PREFIX = "tgc_"
SECRET_PREFIX = "tgs_"
# Longer is no credential of ours: refused before any query.
MAX_CREDENTIAL_CHARS = 100


async def create_service_client(
    ctx: ServiceContext, name: str, scopes: tuple[ApiScope, ...]
) -> tuple[ServiceClient, str]:
    """A new client and its secret (shown only now)."""
    principal = require_session(ctx)
    ctx.require_role(*PLATFORM_ADMINS)
    name = name.strip()
    reject(
        problem_at("name", IdentityErrorCode.REQUIRED, "Name the client.") if not name else None,
        problem_at("name", IdentityErrorCode.TOO_LONG, f"At most {MAX_NAME_CHARS} characters.")
        if len(name) > MAX_NAME_CHARS
        else None,
        problem_at("scopes", IdentityErrorCode.REQUIRED, "Grant at least one scope.") if not scopes else None,
    )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    client = ServiceClient(
        id=uuid.uuid4(),
        client_id=CLIENT_ID_PREFIX + secrets.token_urlsafe(12),
        name=name,
        secret_hash=hash_secret(secret),
        scopes=sorted({scope.value for scope in scopes}),
        created_at=utcnow(),
        created_by_user_id=principal.user_id,
    )
    async with ctx.transaction(ALL_TENANTS) as session:
        session.add(client)
    return client, secret


async def list_service_clients(
    ctx: ServiceContext, include_revoked: bool, page: PageArgs
) -> Page[ServiceClient]:
    require_session(ctx)
    ctx.require_role(*PLATFORM_ADMINS)
    statement = select(ServiceClient)
    if not include_revoked:
        statement = statement.where(ServiceClient.revoked_at.is_(None))
    return await paginate(
        partial(ctx.read, ALL_TENANTS),
        statement,
        SortKey(ServiceClient.created_at, ServiceClient.id, True),
        page,
    )


async def revoke_service_client(
    ctx: ServiceContext, client_id: uuid.UUID, reason: str | None
) -> ServiceClient:
    """No new tokens, and the ones out there are refused from the next request on."""
    require_session(ctx)
    ctx.require_role(*PLATFORM_ADMINS)
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON_CHARS:
        raise invalid("reason", IdentityErrorCode.TOO_LONG, f"At most {MAX_REASON_CHARS} characters.")
    async with ctx.transaction(ALL_TENANTS) as session:
        client = await session.get(ServiceClient, client_id, with_for_update=True)
        if client is None:
            raise NotFound("ServiceClient")
        if client.revoked_at is not None:
            raise invalid(None, IdentityErrorCode.ALREADY_REVOKED, "This client was revoked already.")
        client.revoked_at = utcnow()
        client.revoke_reason = reason
        return client


async def delete_service_client(ctx: ServiceContext, client_id: uuid.UUID) -> uuid.UUID:
    require_session(ctx)
    ctx.require_role(*PLATFORM_ADMINS)
    async with ctx.transaction(ALL_TENANTS) as session:
        result = await session.execute(delete(ServiceClient).where(ServiceClient.id == client_id))
        # A DELETE answers a CursorResult (with rowcount); the stubs only say Result.
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFound("ServiceClient")
    return client_id


# ---- the token endpoint -------------------------------------------------------------------


class TokenRefused(Exception):
    """An RFC 6749 section 5.2 error: ``error`` is its code, ``status`` the HTTP status."""

    def __init__(
        self, error: str, description: str, status: int = 400, retry_after: int | None = None
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class TokenGrant:
    access_token: str
    expires_in: int
    scope: str


def _client_refused() -> TokenRefused:
    # One answer for an unknown client, a wrong secret and a revoked client.
    return TokenRefused("invalid_client", "Client authentication failed.", 401)


async def issue_token(
    db: Database,
    settings: Settings,
    limiter: RateLimiter,
    client_ip: str,
    client_id: str,
    client_secret: str,
    scope: str | None,
) -> TokenGrant:
    """The client-credentials grant: a token with the requested scopes (all of the client's when
    none are asked for), or TokenRefused."""
    try:
        await limiter.check(
            "oauth_token",
            {
                "ip": (client_ip, settings.auth_rate_limit_per_ip),
                "account": (client_id, settings.auth_rate_limit_per_account),
            },
        )
    except RateLimited as limited:
        retry_after = int(str(limited.extensions["retryAfter"]))
        raise TokenRefused("slow_down", limited.message, 429, retry_after) from limited
    if len(client_id) > MAX_CREDENTIAL_CHARS or len(client_secret) > MAX_CREDENTIAL_CHARS:
        raise _client_refused()
    async with db.transaction(ALL_TENANTS) as session:
        client = await session.scalar(
            select(ServiceClient).where(ServiceClient.client_id == client_id).with_for_update()
        )
        if client is None or not hmac.compare_digest(client.secret_hash, hash_secret(client_secret)):
            raise _client_refused()
        if client.revoked_at is not None:
            raise _client_refused()
        granted = known_scopes(client.scopes)
        if scope is not None:
            asked = scope.split()
            if not asked or any(name not in {s.value for s in granted} for name in asked):
                raise TokenRefused("invalid_scope", "The scope asks for more than this client was granted.")
            granted = scopes_of(scope)
        client.last_token_at = utcnow()
        names = " ".join(sorted(s.value for s in granted))
        ttl = settings.service_token_ttl_seconds
        token = issue_access_token(
            settings,
            user_id=client.id,
            tenant_id=NO_TENANT,
            roles=frozenset(),
            session_id=client.id,
            ttl_seconds=ttl,
            extra_claims={"kind": PrincipalKind.SERVICE.value, "scope": names, "client_id": client.client_id},
        )
    return TokenGrant(token.token, ttl, names)


async def service_principal(claimed: Principal, reads: Reads) -> Principal:
    """A service token's principal as its client stands now: UNAUTHENTICATED once the client is
    revoked or deleted; scopes taken from the client since are no longer held."""
    async with reads.session(ALL_TENANTS) as session:
        client = await session.get(ServiceClient, claimed.user_id)
    if client is None or client.revoked_at is not None:
        raise Unauthenticated(
            "This token's service client was revoked.", reason=RefusalReason.SERVICE_CLIENT_REVOKED
        )
    held = claimed.scopes or frozenset()
    current = held & known_scopes(client.scopes)
    return claimed if current == held else replace(claimed, scopes=current)


async def visible_service_clients(
    ctx: ServiceContext, ids: list[uuid.UUID]
) -> dict[uuid.UUID, ServiceClient]:
    """The clients of ``ids``, for platform admins (nobody else sees any)."""
    principal = ctx.principal
    if principal is None or not principal.is_platform_admin:
        return {}
    async with ctx.read(ALL_TENANTS) as session:
        statement = select(ServiceClient).where(ServiceClient.id.in_(ids))
        return {client.id: client for client in await session.scalars(statement)}
