"""The tenancy guard: the one place that keeps every tenant's rows away from every other tenant.

Each session carries a TenantScope in ``session.info``. For every ORM SELECT, UPDATE and DELETE the
guard adds a criterion on each tenant-owned entity in the statement (``with_loader_criteria``), so
no query has to remember it; before a flush it stamps new rows with the scope's tenant and refuses
rows of another tenant. A session without a scope refuses to touch tenant-owned data at all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, with_loader_criteria

from core.scope import TenantScope
from models.base import TenantOwned
from models.identity import Tenant

SCOPE_KEY = "tenant_scope"


class TenancyViolation(RuntimeError):
    """A programming error: data access outside of, or across, the session's tenant scope."""


def scope_of(session: Session) -> TenantScope:
    scope = session.info.get(SCOPE_KEY)
    if not isinstance(scope, TenantScope):
        raise TenancyViolation("session has no tenant scope")
    return scope


@event.listens_for(Session, "do_orm_execute")
def _filter_by_tenant(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the parent row was already filtered
    tenant_id = scope_of(state.session).tenant_id
    if tenant_id is None:
        return
    state.statement = state.statement.options(
        with_loader_criteria(TenantOwned, lambda cls: cls.tenant_id == tenant_id, include_aliases=True),
        with_loader_criteria(Tenant, lambda cls: cls.id == tenant_id, include_aliases=True),
    )


@event.listens_for(Session, "before_flush")
def _stamp_and_check_tenant(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    tenant_id = scope_of(session).tenant_id
    for obj in session.new:
        if isinstance(obj, TenantOwned):
            if obj.tenant_id is None:
                if tenant_id is None:
                    raise TenancyViolation(f"{type(obj).__name__} inserted without a tenant")
                obj.tenant_id = tenant_id
            elif tenant_id is not None and obj.tenant_id != tenant_id:
                raise TenancyViolation(f"{type(obj).__name__} inserted into another tenant")
    for obj in session.dirty:
        if isinstance(obj, TenantOwned) and tenant_id is not None and obj.tenant_id != tenant_id:
            raise TenancyViolation(f"{type(obj).__name__} of another tenant modified")
