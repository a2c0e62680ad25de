"""Tenant security settings (seed 003: MFA for admins, password policy, session lifetime) and
where sign-in enforces them: the password checks, the refresh-token expiry, the second factor a
login asks for."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem
from core.permissions import TENANT_ADMINS, Role
from core.scope import TenantScope
from models.base import utcnow
from models.identity.accounts import AuthSession, User
from models.identity.mfa import MfaChallenge, MfaChallengePurpose, MfaMethod, TenantSecuritySettings
from services.context import ServiceContext
from services.identity.accounts import reject, roles_of
from services.identity.errors import IdentityErrorCode
from services.identity.mfa_factors import text_login_code
from services.identity.passwords import MIN_PASSWORD_LENGTH
from services.identity.sessions import MAX_USER_AGENT_LENGTH, NO_DEVICE, Device
from services.identity.totp import hash_challenge, new_challenge

# Bounds a tenant admin may set (outside them: OUT_OF_RANGE).
MIN_PASSWORD_LENGTH_RANGE = (MIN_PASSWORD_LENGTH, 128)
SESSION_LIFETIME_RANGE = (900, 365 * 24 * 3600)  # 15 minutes (an access token's life) to a year
# Whom "MFA required for admins" concerns.
MFA_ADMIN_ROLES = frozenset((*TENANT_ADMINS, Role.PLATFORM_ADMIN))


@dataclass(frozen=True, slots=True)
class SecurityPolicy:
    mfa_required_for_admins: bool = False
    min_password_length: int = MIN_PASSWORD_LENGTH
    # None: no cap of the tenant's own (the server's refresh-token lifetime applies).
    session_lifetime_seconds: int | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SecurityChanges:
    """An update of the settings: None leaves a field as it is."""

    mfa_required_for_admins: bool | None = None
    min_password_length: int | None = None
    session_lifetime_seconds: int | None = None
    # Removes the tenant's cap on session lifetime (back to the server's).
    clear_session_lifetime: bool = False


@dataclass(frozen=True, slots=True)
class IssuedChallenge:
    """What a login answers instead of tokens: a challenge to complete with a TOTP or recovery
    code, or (``setup_required``) to set MFA up with, as the tenant requires of this admin."""

    challenge: str
    expires_at: datetime
    setup_required: bool
    # The factor to answer with (LOGIN), and where its code was texted (an SMS factor).
    method: MfaMethod | None = None
    code_sent_to: str | None = None


async def security_policy(session: AsyncSession, tenant_id: uuid.UUID) -> SecurityPolicy:
    row = await session.get(TenantSecuritySettings, tenant_id)
    if row is None:
        return SecurityPolicy()
    return SecurityPolicy(
        mfa_required_for_admins=row.mfa_required_for_admins,
        min_password_length=row.min_password_length,
        session_lifetime_seconds=row.session_lifetime_seconds,
        updated_at=row.updated_at,
    )


async def password_policy_problem(
    session: AsyncSession, tenant_id: uuid.UUID, field: str, password: str
) -> FieldProblem | None:
    """WEAK_PASSWORD when ``password`` is shorter than the tenant's minimum (the checks every
    tenant shares are services/identity/accounts.py:new_password_problem)."""
    minimum = (await security_policy(session, tenant_id)).min_password_length
    if len(password) >= minimum:
        return None
    return FieldProblem(
        ("input", field),
        IdentityErrorCode.WEAK_PASSWORD,
        f"This tenant requires passwords of at least {minimum} characters.",
    )


async def refresh_token_expiry(
    session: AsyncSession, auth_session: AuthSession, ttl_seconds: int
) -> datetime:
    """When a refresh token issued now for ``auth_session`` expires: ``ttl_seconds`` from now, but
    never after the tenant's session lifetime, counted from the sign-in."""
    now = utcnow()
    expires_at = now + timedelta(seconds=ttl_seconds)
    lifetime = (await security_policy(session, auth_session.tenant_id)).session_lifetime_seconds
    if lifetime is None:
        return expires_at
    return min(expires_at, (auth_session.created_at or now) + timedelta(seconds=lifetime))


async def mfa_required_of(session: AsyncSession, user: User) -> bool:
    """Whether the user's tenant requires MFA of them: they are an admin, it requires it of admins."""
    if not (await security_policy(session, user.tenant_id)).mfa_required_for_admins:
        return False
    return not MFA_ADMIN_ROLES.isdisjoint(await roles_of(session, user.id))


async def second_factor_challenge(
    ctx: ServiceContext, session: AsyncSession, user: User, device: Device = NO_DEVICE
) -> IssuedChallenge | None:
    """Called by login once the password is right: None when tokens may be issued, else the
    challenge the login answers instead (no session is opened). The challenge keeps the login's
    client (address, user agent, device) for the session its completion opens; for an SMS factor
    the code is texted now (services/identity/mfa_factors.py)."""
    if user.mfa_enabled:
        purpose = MfaChallengePurpose.LOGIN
    elif await mfa_required_of(session, user):
        purpose = MfaChallengePurpose.SETUP
    else:
        return None
    challenge = new_challenge()
    expires_at = utcnow() + timedelta(seconds=ctx.settings.mfa_challenge_ttl_seconds)
    row = MfaChallenge(
        id=uuid.uuid4(),
        tenant_id=user.tenant_id,
        user_id=user.id,
        token_hash=hash_challenge(challenge),
        purpose=purpose,
        expires_at=expires_at,
        attempts=0,
        client_ip=ctx.client_ip,
        user_agent=(ctx.user_agent or "")[:MAX_USER_AGENT_LENGTH] or None,
        device_id=device.device_id,
        device_name=device.name,
    )
    session.add(row)
    if purpose is MfaChallengePurpose.LOGIN:
        method, sent_to = await text_login_code(ctx, session, user, row)
        return IssuedChallenge(challenge, expires_at, False, method=method, code_sent_to=sent_to)
    return IssuedChallenge(challenge, expires_at, setup_required=True)


# ---- the settings, for tenant admins ---------------------------------------------------------


async def read_security_settings(ctx: ServiceContext) -> SecurityPolicy:
    principal = ctx.require_role(*TENANT_ADMINS)
    async with ctx.read(TenantScope.of(principal.tenant_id)) as session:
        return await security_policy(session, principal.tenant_id)


def _range_problem(field: str, value: int | None, bounds: tuple[int, int]) -> FieldProblem | None:
    low, high = bounds
    if value is None or low <= value <= high:
        return None
    return FieldProblem(("input", field), IdentityErrorCode.OUT_OF_RANGE, f"Choose from {low} to {high}.")


async def update_security_settings(ctx: ServiceContext, changes: SecurityChanges) -> SecurityPolicy:
    """Changes the acting tenant's settings (TENANT_ADMIN; platform admins with X-Tenant-Id)."""
    principal = ctx.require_role(*TENANT_ADMINS)
    reject(
        _range_problem("minPasswordLength", changes.min_password_length, MIN_PASSWORD_LENGTH_RANGE),
        _range_problem("sessionLifetimeSeconds", changes.session_lifetime_seconds, SESSION_LIFETIME_RANGE),
    )
    tenant_id = principal.tenant_id
    async with ctx.transaction(TenantScope.of(tenant_id)) as session:
        row = await session.get(TenantSecuritySettings, tenant_id, with_for_update=True)
        if row is None:
            row = TenantSecuritySettings(
                tenant_id=tenant_id, mfa_required_for_admins=False, min_password_length=MIN_PASSWORD_LENGTH
            )
            session.add(row)
        if changes.mfa_required_for_admins is not None:
            row.mfa_required_for_admins = changes.mfa_required_for_admins
        if changes.min_password_length is not None:
            row.min_password_length = changes.min_password_length
        if changes.clear_session_lifetime:
            row.session_lifetime_seconds = None
        elif changes.session_lifetime_seconds is not None:
            row.session_lifetime_seconds = changes.session_lifetime_seconds
        await session.flush()
        return await security_policy(session, tenant_id)
