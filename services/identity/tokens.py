"""Access tokens (short-lived JWT, algorithm pinned on verify, signed with the keys of
core/token_keys.py and naming theirs in the ``kid`` header) and opaque refresh tokens."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from core.permissions import Role
from core.principal import Principal, PrincipalKind
from core.scopes import scopes_of
from core.settings import Settings
from models.base import utcnow

# Verified tokens remembered per key set (about 1 KiB each); all forgotten at once when full.
MAX_VERIFIED_TOKENS = 4096
# Names the platform admin behind an impersonation token (services/identity/impersonation.py).
IMPERSONATOR_CLAIM = "imp"
REQUIRED_CLAIMS = ["sub", "tid", "roles", "sid", "iss", "aud", "exp", "iat", "jti"]


class InvalidToken(Exception):
    """The bearer token cannot be trusted (bad signature, expired, wrong issuer/audience, ...)."""


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_at: datetime


def issue_access_token(
    settings: Settings,
    *,
    user_id: uuid.UUID,
    tenant_id: uuid.UUID,
    roles: frozenset[Role],
    session_id: uuid.UUID,
    ttl_seconds: int | None = None,
    extra_claims: Mapping[str, object] | None = None,
) -> AccessToken:
    now = utcnow()
    expires_at = now + timedelta(seconds=ttl_seconds or settings.access_token_ttl_seconds)
    claims: dict[str, object] = {
        "sub": str(user_id),
        "tid": str(tenant_id),
        "roles": sorted(role.value for role in roles),
        "sid": str(session_id),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": uuid.uuid4().hex,
        **(extra_claims or {}),
    }
    keys = settings.token_keys
    token = jwt.encode(claims, keys.signing_key, algorithm=keys.algorithm, headers={"kid": keys.key_id})
    return AccessToken(token=token, expires_at=expires_at)


def _decoded(settings: Settings, token: str, key: Any) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=[settings.token_keys.algorithm],  # pinned: never trust the token's own "alg"
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        options={"require": REQUIRED_CLAIMS},
    )
    return claims


def _verified_claims(settings: Settings, token: str) -> dict[str, Any]:
    # The key the token's kid names; every accepted one if it names none of ours.
    *others, last = settings.token_keys.candidates(jwt.get_unverified_header(token).get("kid"))
    for key in others:
        with contextlib.suppress(jwt.InvalidSignatureError):
            return _decoded(settings, token, key)
    return _decoded(settings, token, last)


def decode_access_token(settings: Settings, token: str) -> Principal:
    # Checking a signature costs about 0.3 ms, on every request of a client: a token string these
    # keys verified stays verified, so a repeat checks only its expiry. (Whether its session still
    # stands is the access store's check, made every time.)
    verified = settings.token_keys.verified
    principal: Principal | None = verified.get(token)
    if principal is None:
        principal = _principal_of(settings, token)
        if len(verified) >= MAX_VERIFIED_TOKENS:
            verified.clear()
        verified[token] = principal
    if principal.expires_at is None or principal.expires_at.timestamp() <= time.time():
        raise InvalidToken("The access token has expired.")
    return principal


def _principal_of(settings: Settings, token: str) -> Principal:
    try:
        claims = _verified_claims(settings, token)
        return Principal(
            user_id=uuid.UUID(claims["sub"]),
            home_tenant_id=uuid.UUID(claims["tid"]),
            roles=frozenset(Role(role) for role in claims["roles"]),
            session_id=uuid.UUID(claims["sid"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            # A service client's token (services/identity/service_clients.py) says so, with its scopes.
            kind=PrincipalKind(claims.get("kind", PrincipalKind.SESSION)),
            scopes=scopes_of(claims["scope"]) if "scope" in claims else None,
            impersonator_id=uuid.UUID(claims[IMPERSONATOR_CLAIM]) if IMPERSONATOR_CLAIM in claims else None,
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("The access token has expired.") from exc
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise InvalidToken("The access token is not valid.") from exc


def new_refresh_token() -> str:
    return "rt_" + secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    # The token carries 256 random bits, so a fast hash is enough (no brute force is possible).
    return hashlib.sha256(token.encode()).hexdigest()
