"""The security-event feed (003 GET /security/events) and a user's own activity (003 GET
/profile/activity): views of the audit log (services/audit.py), no table of their own.

A security event is an entry of a sign-in, session, credential, role or account-state action, a
REST call of the sign-in and token routes, or any refused call (FORBIDDEN, UNAUTHENTICATED). The
tenant's feed is for the audit log's readers; a user sees their own: what they did (their
sessions and API keys, and impersonators acting as them) and what was done to their account."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select

from core.errors import Forbidden
from core.principal import Principal
from core.scope import TenantScope
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.audit import ActorKind, AuditEntry, AuditOutcome
from services import audit

# The mutations whose entries are security events (by schema field name).
SECURITY_ACTIONS = frozenset(
    {
        "login",
        "register",
        "refreshToken",
        "logout",
        "logoutAll",
        "changePassword",
        "requestPasswordReset",
        "resetPassword",
        "forcePasswordReset",
        "verifyEmail",
        "verifyPhone",
        "impersonateUser",
        "endImpersonation",
        "loginWithOAuth",
        "linkOAuthIdentity",
        "acceptInvite",
        "setupMfa",
        "verifyMfaSetup",
        "completeMfaLogin",
        "disableMfa",
        "createApiKey",
        "revokeApiKey",
        "createServiceClient",
        "revokeServiceClient",
        "deleteServiceClient",
        "revokeSession",
        "revokeOtherSessions",
        "assignRoles",
        "removeRoles",
        "assignRole",
        "removeRole",
        "createRole",
        "updateRole",
        "deleteRole",
        "suspendUser",
        "reactivateUser",
        "banUser",
        "unbanUser",
        "deleteUser",
        "eraseMe",
        "updateSecuritySettings",
        "suspendTenant",
        "reactivateTenant",
        # wave 3 of issue #10: MFA factors, linked identities, email change, role permissions
        "regenerateRecoveryCodes",
        "requestMfaCode",
        "resetUserMfa",
        "unlinkIdentity",
        "loginWithTelegram",
        "linkTelegramIdentity",
        "requestEmailChange",
        "confirmEmailChange",
        "grantRolePermission",
        "revokeRolePermission",
    }
)
# REST shims of sign-in and credentials (server/audit_logs.py names them `rest:<METHOD> <path>`).
SECURITY_REST = ("rest:% /auth/%", "rest:% /oauth/%", "rest:% /api-keys/%")
REFUSED = (AuditOutcome.FORBIDDEN, AuditOutcome.UNAUTHENTICATED)
_NEWEST_FIRST = SortKey(AuditEntry.created_at, AuditEntry.id, True)


def is_security_event() -> ColumnElement[bool]:
    return or_(
        AuditEntry.action.in_(SECURITY_ACTIONS),
        *(AuditEntry.action.like(pattern) for pattern in SECURITY_REST),
        AuditEntry.outcome.in_(REFUSED),
    )


async def security_events(
    reads: Any, principal: Principal | None, where: audit.AuditFilter, page: PageArgs
) -> Page[AuditEntry]:
    """The tenant's security events, newest first, for the audit log's readers (as ``auditLog``)."""
    return await audit.list_entries(reads, principal, where, page, only=is_security_event())


def _own_user(principal: Principal | None) -> Principal:
    if principal is None or principal.is_service:
        raise Forbidden("Only a user has an own activity feed.")
    return principal


def empty_page() -> Page[AuditEntry]:
    async def none() -> int:
        return 0

    return Page(rows=[], cursors=[], has_next_page=False, has_previous_page=False, count=none)


async def my_activity(
    reads: Any, principal: Principal | None, user_id: uuid.UUID, page: PageArgs, *, security: bool = False
) -> Page[AuditEntry]:
    """``user_id``'s entries, newest first, for that user only (empty for anyone else): those
    where they are the actor; with ``security``, the security events, also those done to them."""
    viewer = _own_user(principal)
    if viewer.user_id != user_id:
        return empty_page()
    by_me = and_(
        AuditEntry.actor_id == user_id, AuditEntry.actor_kind.in_((ActorKind.USER, ActorKind.API_KEY))
    )
    statement = select(AuditEntry).where(AuditEntry.tenant_id == viewer.home_tenant_id)
    if security:
        to_me = and_(AuditEntry.target_type == "User", AuditEntry.target_id == str(user_id))
        statement = statement.where(or_(by_me, to_me), is_security_event())
    else:
        statement = statement.where(by_me)
    scope = TenantScope.of(viewer.home_tenant_id)
    return await paginate(lambda: reads(scope), statement, _NEWEST_FIRST, page)
