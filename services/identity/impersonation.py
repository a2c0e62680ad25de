"""Platform impersonation (support): a platform admin acts as a tenant admin for a short while.

The token is an ordinary access token of a session of its own (no refresh token) whose ``imp``
claim names the platform admin: every audit entry made with it records the impersonator
(services/audit.py), and it may not change passwords, MFA, API keys or service clients
(schema/directives.py). Only tenant administrators may be impersonated: their tenant is what
support acts on, and a platform admin's or a customer's account carries more (or other) trust than
a support case needs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from core.errors import BadUserInput, Forbidden, NotFound
from core.permissions import Role
from core.principal import PrincipalKind
from core.scope import TenantScope
from models.base import utcnow
from models.identity.accounts import AuthSession, User, UserStatus
from services import audit
from services.context import ServiceContext
from services.events import record_access_change
from services.identity.accounts import roles_of
from services.identity.sessions import NO_DEVICE, new_auth_session
from services.identity.tokens import IMPERSONATOR_CLAIM, issue_access_token

IMPERSONATION_TTL_SECONDS = 900
MAX_REASON_LENGTH = 500
IMPERSONATION_ENDED = "impersonation ended"


@dataclass(frozen=True, slots=True)
class Impersonation:
    user: User
    access_token: str
    expires_at: datetime
    session_id: uuid.UUID


async def impersonate(ctx: ServiceContext, user_id: uuid.UUID, reason: str) -> Impersonation:
    admin = ctx.require_principal()
    if not admin.is_platform_admin or admin.kind is not PrincipalKind.SESSION or admin.impersonator_id:
        raise Forbidden("Only platform administrators, signed in themselves, may impersonate.")
    reason = reason.strip()
    if not 0 < len(reason) <= MAX_REASON_LENGTH:
        raise BadUserInput(f"Give the reason (1 to {MAX_REASON_LENGTH} characters).")
    audit.annotate(reason=reason)
    async with ctx.transaction(TenantScope.all_tenants()) as session:
        user = await session.get(User, user_id)
        if user is None or user.status is not UserStatus.ACTIVE:
            raise NotFound("User")
        roles = await roles_of(session, user.id)
        if Role.TENANT_ADMIN not in roles or Role.PLATFORM_ADMIN in roles:
            raise Forbidden("Only tenant administrators may be impersonated.")
        auth_session = new_auth_session(ctx, user.tenant_id, user.id, NO_DEVICE)
        session.add(auth_session)
    token = issue_access_token(
        ctx.settings,
        user_id=user.id,
        tenant_id=user.tenant_id,
        roles=roles,
        session_id=auth_session.id,
        ttl_seconds=min(IMPERSONATION_TTL_SECONDS, ctx.settings.access_token_ttl_seconds),
        extra_claims={IMPERSONATOR_CLAIM: str(admin.user_id)},
    )
    return Impersonation(user, token.token, token.expires_at, auth_session.id)


async def end_impersonation(ctx: ServiceContext) -> uuid.UUID:
    """Ends the caller's impersonation session (its token is refused from now on, everywhere)."""
    principal = ctx.require_principal()
    if principal.impersonator_id is None:
        raise Forbidden("This is no impersonation token.")
    async with ctx.transaction(TenantScope.of(principal.home_tenant_id)) as session:
        auth_session = await session.get(AuthSession, principal.session_id, with_for_update=True)
        if auth_session is None:
            raise NotFound("Session")
        if auth_session.revoked_at is None:
            auth_session.revoked_at = utcnow()
            auth_session.revoke_reason = IMPERSONATION_ENDED
            record_access_change(session, sessions=[auth_session.id])
    return principal.session_id
