"""The audit log's root fields: reading it, and appending to it (service principals)."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from strawberry.types import Info

from core.errors import BadUserInput
from core.scopes import ApiScope
from schema.audit import AuditEntry, AuditLogFilterInput, RecordAuditEntryInput, RecordAuditEntryPayload
from schema.directives import AUTHENTICATED, SERVICE_ONLY, HasScope, access
from schema.pagination import FILTER, After, Before, Connection, First, Last, connection, page_args
from services import audit
from services.identity import security_events


def _uuid(raw: str | None, name: str) -> uuid.UUID | None:
    if raw is None:
        return None
    try:
        return uuid.UUID(str(raw))
    except ValueError as exc:
        raise BadUserInput(f"`{name}` must be a UUID.") from exc


def _where(filter: AuditLogFilterInput | None) -> audit.AuditFilter:
    f = filter or AuditLogFilterInput()
    return audit.AuditFilter(
        actor_id=_uuid(f.actor, "actor"),
        action=f.action,
        target_type=f.target_type,
        target_id=f.target_id,
        outcome=f.outcome,
        since=f.from_,
        until=f.to,
        tenant_id=_uuid(f.tenant_id, "tenantId"),
    )


@strawberry.type
class AuditQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="The audit log, newest first: your tenant's for AUDITOR and TENANT_ADMIN; every "
        "tenant's (or one: `tenantId` or X-Tenant-Id) for PLATFORM_ADMIN. Entries are never changed "
        "or deleted.",
    )
    async def audit_log(
        self,
        info: Info,
        filter: Annotated[AuditLogFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[AuditEntry]:
        services = info.context.services
        page = await audit.list_entries(
            services.read, services.principal, _where(filter), page_args(first, after, last, before)
        )
        return connection(page, AuditEntry.from_model)

    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="The security events, newest first: the audit entries of sign-ins, sessions, "
        "passwords, MFA, API keys and service clients, roles, account and tenant suspensions, the "
        "sign-in and token REST routes, and every refused call (FORBIDDEN, UNAUTHENTICATED). Who may "
        "read them: as auditLog (your own: `me { securityEvents }`).",
    )
    async def security_events(
        self,
        info: Info,
        filter: Annotated[AuditLogFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[AuditEntry]:
        services = info.context.services
        page = await security_events.security_events(
            services.read, services.principal, _where(filter), page_args(first, after, last, before)
        )
        return connection(page, AuditEntry.from_model)


@strawberry.type
class AuditMutation:
    @strawberry.mutation(
        extensions=access(SERVICE_ONLY, HasScope(ApiScope.AUDIT_WRITE)),
        description="Appends an entry to a tenant's audit log (the partner and service API's audit write).",
    )
    async def record_audit_entry(
        self,
        info: Info,
        input: Annotated[RecordAuditEntryInput, strawberry.argument(description="The entry to append.")],
    ) -> RecordAuditEntryPayload:
        details: object = input.details if input.details is not None else {}
        if not isinstance(details, dict):
            raise BadUserInput("`details` must be a JSON object.")
        tenant_id = _uuid(input.tenant_id, "tenantId")
        new = audit.AppendedEntry(
            tenant_id=tenant_id,  # type: ignore[arg-type]
            action=input.action,
            target_type=input.target_type,
            target_id=input.target_id,
            actor_id=_uuid(input.actor_id, "actorId"),
            outcome=input.outcome,
            details=details,
        )
        row = await audit.append(info.context.services, new)
        return RecordAuditEntryPayload(entry=AuditEntry.from_model(row))
