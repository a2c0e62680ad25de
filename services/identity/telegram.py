"""Signing in with the Telegram Login Widget (002 ``POST /auth/login/oauth/telegram``).

Telegram is no OAuth provider: its widget hands the browser the account's fields (id, names,
username, photo URL, auth_date) and a ``hash``, the HMAC-SHA256 of the fields (sorted
``key=value`` lines) keyed by SHA-256 of the bot's token (core.telegram.org/widgets/login). A
login is trusted when that hash is ours, its auth_date is fresh, and it was not presented before;
then the account is linked or created exactly as an OAuth sign-in does (services/identity/oauth.py),
as an account without an email (Telegram has none)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from core.errors import InvalidInput, invalid
from core.lengths import MAX_TENANT_SLUG_LENGTH, MAX_URL_LENGTH
from core.settings import Settings
from models.base import utcnow
from models.identity.accounts import User
from models.identity.oauth import TelegramLogin
from services.context import ServiceContext
from services.identity.accounts import length_problem, reject
from services.identity.auth import SignIn
from services.identity.errors import IdentityErrorCode
from services.identity.oauth import (
    ALL_TENANTS,
    check_attempts,
    link_to_caller,
    sign_in_identity,
    sign_in_tenant,
)
from services.identity.oauth_providers import ProviderIdentity
from services.identity.security import IssuedChallenge

TELEGRAM = "telegram"
# Telegram's own bounds: names and usernames are short; the photo is a URL.
MAX_TELEGRAM_FIELD_LENGTH = 256
MAX_TELEGRAM_FIELDS = 16
# A widget answer dated this far ahead of our clock is still taken (clocks differ a little).
CLOCK_LEEWAY = timedelta(seconds=60)


def _refused(code: IdentityErrorCode, message: str) -> InvalidInput:
    return invalid(None, code, message)


def enabled(settings: Settings) -> bool:
    return bool(settings.telegram_bot_token)


def fields_of_code(code: str) -> dict[str, str]:
    """The widget's fields from the query string its redirect carries (``id=...&hash=...``), as
    a client passes it in ``loginWithOAuth``'s ``code``."""
    try:
        return dict(
            parse_qsl(code, keep_blank_values=True, strict_parsing=True, max_num_fields=MAX_TELEGRAM_FIELDS)
        )
    except ValueError as exc:
        raise _refused(
            IdentityErrorCode.TELEGRAM_INVALID_HASH, "The Telegram login data is malformed."
        ) from exc


def expected_hash(bot_token: str, fields: Mapping[str, str]) -> str:
    """The widget's hash of ``fields`` (every field it sent but ``hash``)."""
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")
    key = hashlib.sha256(bot_token.encode()).digest()
    return hmac.new(key, check.encode(), hashlib.sha256).hexdigest()


def _authorized_at(fields: Mapping[str, str]) -> datetime:
    raw = fields.get("auth_date", "")
    if not raw.isdigit() or len(raw) > 12:
        raise _refused(IdentityErrorCode.TELEGRAM_INVALID_HASH, "The Telegram login has no valid auth_date.")
    return datetime.fromtimestamp(int(raw), UTC)


def checked_identity(settings: Settings, fields: Mapping[str, str]) -> tuple[ProviderIdentity, datetime]:
    """Who the widget says logged in, and until when its answer counts; refused when the hash is
    not our bot's or the answer is stale."""
    if len(fields) > MAX_TELEGRAM_FIELDS or any(
        len(value) > (MAX_URL_LENGTH if key == "photo_url" else MAX_TELEGRAM_FIELD_LENGTH)
        for key, value in fields.items()
    ):
        raise _refused(IdentityErrorCode.TELEGRAM_INVALID_HASH, "The Telegram login data is too long.")
    given = fields.get("hash", "")
    subject = fields.get("id", "")
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a TypeError).
    if not subject.isdigit() or not hmac.compare_digest(
        given.lower().encode(), expected_hash(settings.telegram_bot_token, fields).encode()
    ):
        raise _refused(
            IdentityErrorCode.TELEGRAM_INVALID_HASH, "The Telegram login is not signed by our bot."
        )
    authorized_at, now = _authorized_at(fields), utcnow()
    valid_until = authorized_at + timedelta(seconds=settings.telegram_auth_max_age_seconds)
    if valid_until <= now or authorized_at > now + CLOCK_LEEWAY:
        raise _refused(
            IdentityErrorCode.TELEGRAM_AUTH_EXPIRED, "The Telegram login is too old: log in again."
        )
    name = " ".join(part for part in (fields.get("first_name"), fields.get("last_name")) if part)
    identity = ProviderIdentity(
        subject=subject,
        email=None,
        email_verified=False,
        name=name or None,
        display_name=fields.get("username") or None,
        has_email=False,
    )
    return identity, valid_until


async def _use_once(ctx: ServiceContext, fields: Mapping[str, str], valid_until: datetime) -> None:
    # Burnt before the sign-in, so two requests with one answer cannot both pass (the key is unique).
    digest = hashlib.sha256(fields["hash"].lower().encode()).hexdigest()
    try:
        async with ctx.transaction(ALL_TENANTS) as session:
            await session.execute(delete(TelegramLogin).where(TelegramLogin.expires_at < utcnow()))
            session.add(TelegramLogin(hash=digest, expires_at=valid_until))
    except IntegrityError as reused:
        raise _refused(
            IdentityErrorCode.TELEGRAM_LOGIN_REUSED,
            "This Telegram login was used once already: log in again.",
        ) from reused


async def _trusted(ctx: ServiceContext, fields: Mapping[str, str]) -> tuple[ProviderIdentity, datetime]:
    if not enabled(ctx.settings):
        raise invalid(
            "provider", IdentityErrorCode.OAUTH_UNKNOWN_PROVIDER, "Telegram login is not enabled here."
        )
    await check_attempts(ctx)
    return checked_identity(ctx.settings, fields)


async def login(ctx: ServiceContext, tenant_slug: str, fields: Mapping[str, str]) -> SignIn | IssuedChallenge:
    """Signs the Telegram account in to the tenant: as the user it is linked to, or a new one."""
    reject(length_problem("tenantSlug", tenant_slug, MAX_TENANT_SLUG_LENGTH))
    identity, valid_until = await _trusted(ctx, fields)
    tenant = await sign_in_tenant(ctx, tenant_slug)
    await _use_once(ctx, fields, valid_until)
    return await sign_in_identity(ctx, TELEGRAM, tenant.id, identity)


async def login_with_query(ctx: ServiceContext, tenant_slug: str, query: str) -> SignIn | IssuedChallenge:
    """``login`` with the widget's fields as its redirect's query string."""
    return await login(ctx, tenant_slug, fields_of_code(query))


async def link(ctx: ServiceContext, fields: Mapping[str, str]) -> User:
    """Links the Telegram account to the signed-in user: from then on it signs in as them."""
    ctx.require_principal()
    identity, valid_until = await _trusted(ctx, fields)
    await _use_once(ctx, fields, valid_until)
    return await link_to_caller(ctx, TELEGRAM, identity)
