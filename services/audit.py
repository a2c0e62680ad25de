"""The audit log: an entry for every mutation and REST shim call, success or failure.

The caller (a GraphQL mutation's field, a REST shim) opens an ``AuditDraft`` with ``auditing``;
``ServiceContext.transaction`` writes the entry, SUCCESS, in the first transaction that commits under
it (the same transaction as the change). A call that ends otherwise — refused, failed, userErrors,
its transaction rolled back — or that committed nothing gets its entry in a transaction of its own
(``finish``). Entries are never changed or deleted (migration 0014 refuses it).

The target is what the arguments name; a create call's, whose arguments name none, is the first
row of its payload's entity class it inserts (``committed``). A sign-in's actor is the user who
signed in (``identified``). A mutation refused before its fields ran (invalid document or
variables) is recorded by schema/audit.py AuditedRefusals."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.errors import BadUserInput, Forbidden, NotFound
from core.permissions import Role
from core.principal import NO_TENANT, Principal, PrincipalKind
from core.scope import TenantScope
from loaders.pagination import Page, PageArgs, SortKey, paginate, where_given
from models.audit import ActorKind, AuditEntry, AuditOutcome
from models.db import Database
from models.identity.accounts import Tenant

log = logging.getLogger(__name__)

AUDIT_READERS = (Role.TENANT_ADMIN, Role.AUDITOR)
MAX_ACTION = 200
MAX_TARGET_TYPE = 100
MAX_TARGET_ID = 200
MAX_DETAILS_KEYS = 50


class Caller(Protocol):
    """What an entry records of the call (services/context.py:ServiceContext is one)."""

    db: Database
    principal: Principal | None
    client_ip: str
    user_agent: str | None
    correlation_id: str | None

    def transaction(self, scope: TenantScope | None = None) -> AbstractAsyncContextManager[AsyncSession]: ...


@dataclass
class AuditDraft:
    action: str
    target_type: str | None = None
    target_id: str | None = None
    # What the service adds to the entry (``annotate``), e.g. an impersonation's reason.
    details: dict[str, object] | None = None
    # Set once an entry of this call has committed: a call records one entry.
    written: bool = False
    # Set when the call has ended: a task it started and that still runs writes no entry.
    closed: bool = False
    # Of the request, when the caller's context lacks them (a REST shim's own ServiceContext).
    client_ip: str | None = None
    user_agent: str | None = None
    correlation_id: str | None = None
    # The principal the call began with (a sign-in replaces the context's during the call).
    principal: Principal | None = None
    # The type a create call's payload returns (its arguments name no target): the first row of
    # that model class it inserts becomes the target.
    creates: str | None = None


_current: ContextVar[AuditDraft | None] = ContextVar("audit_draft", default=None)


def pending() -> AuditDraft | None:
    """The draft of the call running in this task whose entry is not written yet."""
    draft = _current.get()
    return None if draft is None or draft.written or draft.closed else draft


def annotate(**details: object) -> None:
    """Adds ``details`` to the entry of the call running in this task (if it is audited)."""
    draft = _current.get()
    if draft is not None:
        draft.details = {**(draft.details or {}), **details}


def identified(principal: Principal) -> None:
    """The call began with no principal: its entry names this one as the actor (the user of a
    sign-in: login, register, completeMfaLogin, refreshToken; a REST shim's caller)."""
    draft = _current.get()
    if draft is not None and draft.principal is None:
        draft.principal = principal


# session.info key: the first row of each model class a session inserted (for ``creates``).
_INSERTED = "audit_inserted"


@event.listens_for(Session, "pending_to_persistent")
def _inserted(session: Session, instance: object) -> None:
    session.info.setdefault(_INSERTED, {}).setdefault(type(instance).__name__, instance)


def _created(inserted: dict[str, object], type_name: str) -> object | None:
    """The inserted row of the model class named as the type, or whose name begins the type's
    (``DataExport`` rows for ``DataExportJob``), the longest such name."""
    names = [name for name in inserted if type_name.startswith(name)]
    return inserted[max(names, key=len)] if names else None


async def committed(
    draft: AuditDraft, caller: Caller, scope: TenantScope, session: AsyncSession
) -> AuditEntry:
    """The SUCCESS entry of the call's first committing transaction, its target the created row
    when the arguments named none."""
    if draft.target_id is None and draft.creates is not None:
        await session.flush()  # the rows added since the last flush get their ids
        row_id = getattr(_created(session.info.get(_INSERTED, {}), draft.creates), "id", None)
        if row_id is not None:
            draft.target_type, draft.target_id = draft.creates, str(row_id)
    return entry(draft, caller, scope, AuditOutcome.SUCCESS)


@contextlib.contextmanager
def auditing(draft: AuditDraft) -> Iterator[AuditDraft]:
    token = _current.set(draft)
    try:
        yield draft
    finally:
        _current.reset(token)
        draft.closed = True


def _tenant_of(principal: Principal | None, scope: TenantScope | None) -> uuid.UUID | None:
    if scope is not None and scope.tenant_id is not None:
        return scope.tenant_id
    if principal is None:
        return None
    tenant = principal.acting_tenant_id or principal.home_tenant_id
    return None if tenant == NO_TENANT else tenant


def _actor(principal: Principal | None) -> tuple[ActorKind, uuid.UUID | None, uuid.UUID | None]:
    """(kind, actor id, API key id)."""
    if principal is None:
        return ActorKind.ANONYMOUS, None, None
    if principal.kind is PrincipalKind.SERVICE:
        return ActorKind.SERVICE, principal.user_id, None
    if principal.kind is PrincipalKind.API_KEY:
        return ActorKind.API_KEY, principal.user_id, principal.session_id
    return ActorKind.USER, principal.user_id, None


def entry(
    draft: AuditDraft,
    caller: Caller,
    scope: TenantScope | None,
    outcome: AuditOutcome,
    *,
    error_code: str | None = None,
    user_error_codes: Sequence[str] = (),
) -> AuditEntry:
    principal = draft.principal or caller.principal
    kind, actor_id, api_key_id = _actor(principal)
    ip = caller.client_ip if caller.client_ip != "unknown" else draft.client_ip or caller.client_ip
    agent = caller.user_agent or draft.user_agent
    return AuditEntry(
        tenant_id=_tenant_of(principal, scope),
        actor_kind=kind,
        actor_id=actor_id,
        api_key_id=api_key_id,
        impersonator_id=principal.impersonator_id if principal else None,
        action=draft.action[:MAX_ACTION],
        # What the arguments name is the client's: a forged global id's type may exceed the column.
        target_type=draft.target_type[:MAX_TARGET_TYPE] if draft.target_type else None,
        target_id=draft.target_id[:MAX_TARGET_ID] if draft.target_id else None,
        outcome=outcome,
        error_code=error_code,
        user_error_codes=list(user_error_codes),
        client_ip=ip[:64],
        user_agent=agent[:500] if agent else None,
        correlation_id=caller.correlation_id or draft.correlation_id,
        details=draft.details,
    )


async def finish(
    caller: Caller,
    draft: AuditDraft,
    outcome: AuditOutcome,
    *,
    error_code: str | None = None,
    user_error_codes: Sequence[str] = (),
) -> None:
    """The entry of a call that wrote none in its own transactions (failed, refused, or read-only)."""
    if draft.written and outcome is AuditOutcome.SUCCESS:
        return
    row = entry(draft, caller, None, outcome, error_code=error_code, user_error_codes=user_error_codes)
    scope = TenantScope.all_tenants() if row.tenant_id is None else TenantScope.of(row.tenant_id)
    try:
        async with caller.db.transaction(scope) as session:
            session.add(row)
    except Exception:
        # The call's own answer matters more than its record: say so loudly, answer as planned.
        log.exception("audit entry of %s (%s) could not be written", draft.action, outcome)
    draft.written = True


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor_id: uuid.UUID | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    outcome: AuditOutcome | None = None
    since: datetime | None = None
    until: datetime | None = None
    tenant_id: uuid.UUID | None = None


def reader_scope(principal: Principal | None, wanted: uuid.UUID | None) -> TenantScope:
    if principal is None:
        raise Forbidden("You are not allowed to read the audit log.")
    if principal.is_platform_admin:
        return principal.scope if wanted is None else TenantScope.of(wanted)
    if not principal.has_any_role(*AUDIT_READERS) or principal.is_service:
        raise Forbidden("You are not allowed to read the audit log.")
    if wanted is not None and wanted != principal.tenant_id:
        raise Forbidden("You may read only your tenant's audit log.")
    return TenantScope.of(principal.tenant_id)


async def list_entries(
    reads: Any,
    principal: Principal | None,
    where: AuditFilter,
    page: PageArgs,
    only: ColumnElement[bool] | None = None,
) -> Page[AuditEntry]:
    """Newest first: the tenant's entries (AUDITOR, TENANT_ADMIN); a platform admin's every
    tenant's, or one (``tenant_id`` or X-Tenant-Id). ``reads`` opens a read session in a scope;
    ``only`` narrows the entries further (the security events)."""
    scope = reader_scope(principal, where.tenant_id)
    if where.since is not None and where.until is not None and where.since > where.until:
        raise BadUserInput("`from` must not be after `to`.")
    statement = where_given(
        select(AuditEntry) if only is None else select(AuditEntry).where(only),
        (AuditEntry.actor_id, where.actor_id),
        (AuditEntry.action, where.action),
        (AuditEntry.target_type, where.target_type),
        (AuditEntry.target_id, where.target_id),
        (AuditEntry.outcome, where.outcome),
        (AuditEntry.tenant_id, where.tenant_id),
    )
    if scope.tenant_id is not None:
        statement = statement.where(AuditEntry.tenant_id == scope.tenant_id)
    if where.since is not None:
        statement = statement.where(AuditEntry.created_at >= where.since)
    if where.until is not None:
        statement = statement.where(AuditEntry.created_at < where.until)
    key = SortKey(AuditEntry.created_at, AuditEntry.id, True)
    return await paginate(lambda: reads(scope), statement, key, page)


@dataclass(frozen=True, slots=True)
class AppendedEntry:
    """What a service principal appends (recordAuditEntry, POST /audit-logs)."""

    tenant_id: uuid.UUID
    action: str
    target_type: str | None = None
    target_id: str | None = None
    actor_id: uuid.UUID | None = None
    outcome: AuditOutcome = AuditOutcome.SUCCESS
    details: dict[str, object] = field(default_factory=dict)


def appended_problems(new: AppendedEntry) -> list[tuple[str, str]]:
    """(field, message) of each invalid part: the caller turns them into its own error shape."""
    problems = []
    if not new.action.strip() or len(new.action) > MAX_ACTION:
        problems.append(("action", f"`action` must be 1 to {MAX_ACTION} characters."))
    if new.target_type is not None and not 0 < len(new.target_type) <= MAX_TARGET_TYPE:
        problems.append(("targetType", f"`targetType` must be 1 to {MAX_TARGET_TYPE} characters."))
    if new.target_id is not None and not 0 < len(new.target_id) <= MAX_TARGET_ID:
        problems.append(("targetId", f"`targetId` must be 1 to {MAX_TARGET_ID} characters."))
    if len(new.details) > MAX_DETAILS_KEYS:
        problems.append(("details", f"`details` may hold at most {MAX_DETAILS_KEYS} keys."))
    return problems


def appended(caller: Caller, new: AppendedEntry) -> AuditEntry:
    """The row of a service principal's entry: the service is the recorder (details.recordedBy),
    the actor is whom the entry names."""
    principal = caller.principal
    recorder = str(principal.user_id) if principal is not None else None
    return AuditEntry(
        tenant_id=new.tenant_id,
        actor_kind=ActorKind.USER if new.actor_id else ActorKind.SERVICE,
        actor_id=new.actor_id or (principal.user_id if principal else None),
        action=new.action,
        target_type=new.target_type,
        target_id=new.target_id,
        outcome=new.outcome,
        user_error_codes=[],
        client_ip=caller.client_ip[:64],
        user_agent=caller.user_agent[:500] if caller.user_agent else None,
        correlation_id=caller.correlation_id,
        details={**new.details, "recordedBy": recorder},
    )


async def append(caller: Caller, new: AppendedEntry) -> AuditEntry:
    """A service principal's entry (its own call is audited beside it, in the same transaction)."""
    problems = appended_problems(new)
    if problems:
        raise BadUserInput(problems[0][1])
    async with caller.transaction(TenantScope.of(new.tenant_id)) as session:
        if await session.get(Tenant, new.tenant_id) is None:
            raise NotFound("Tenant")
        row = appended(caller, new)
        session.add(row)
    return row
