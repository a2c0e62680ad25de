"""The tenancy guard: the one place that keeps every tenant's rows away from every other tenant.

Each session carries a TenantScope in ``session.info``. For every ORM SELECT, UPDATE and DELETE the
guard adds a criterion on each tenant-owned entity in the statement (``with_loader_criteria``), so
no query has to remember it; ORM INSERT statements and flushes get new rows stamped with the scope's
tenant and refuse rows of another tenant. A session without a scope refuses to touch tenant-owned data
at all.

What the criterion cannot reach is refused (TenancyViolation): a statement naming a guarded table
(every tenant-owned table, and ``tenants``) through its Table object rather than its entity —
``select(Product.__table__)``, ``update(table)``, ``insert(table)`` — anywhere in it, ``text()``
anywhere, ``select(...).from_statement(...)``, bulk UPDATE or DELETE by primary key (a list of
parameter sets), and an UPDATE that sets ``tenant_id``. A statement that must go past the guard
says so, with a reason, in one way: ``statement.execution_options(**system_scoped("why"))`` (or
``execution_options=system_scoped("why")`` on ``session.execute``). The guard then lets it through
as written; PostgreSQL's row-level security (models/row_security.py) still confines it to the
session's scope, which every statement of the session carries.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction, with_loader_criteria
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import BindParameter, ClauseElement, ColumnClause, TextClause
from sqlalchemy.sql.selectable import CompoundSelect, Select, TableClause
from sqlalchemy.sql.visitors import HasTraverseInternals

from core.scope import TenantScope
from models.base import Base, TenantOwned
from models.identity.accounts import Tenant
from models.row_security import SCOPE_OPTION

SCOPE_KEY = "tenant_scope"
SYSTEM_SCOPED = "system_scoped"
TENANT_COLUMN = "tenant_id"
# Statements already found free of side doors: they are immutable, and a loader runs the same
# statement object for every batch (loaders/base.py), so each is walked once.
_CHECKED: weakref.WeakSet[ClauseElement] = weakref.WeakSet()


class TenancyViolation(RuntimeError):
    """A programming error: data access outside of, or across, the session's tenant scope."""


def scope_of(session: Session) -> TenantScope:
    scope = session.info.get(SCOPE_KEY)
    if not isinstance(scope, TenantScope):
        raise TenancyViolation("session has no tenant scope")
    return scope


def system_scoped(reason: str) -> dict[str, str]:
    """Execution options letting one statement past the guard as written; say why."""
    if not reason.strip():
        raise ValueError("say why the statement is system-scoped")
    return {SYSTEM_SCOPED: reason}


@cache
def guarded_tables() -> frozenset[str]:
    """The tables the criterion filters: every tenant-owned one, and the tenants themselves."""
    mappers = Base.registry.mappers
    owned = {str(m.persist_selectable.description) for m in mappers if issubclass(m.class_, TenantOwned)}
    return frozenset({*owned, Tenant.__tablename__})


@event.listens_for(Session, "after_begin")
def _scope_connection(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    # Statements the session sends without going through do_orm_execute (its flushes) run in its scope.
    connection.execution_options(**{SCOPE_OPTION: session.info.get(SCOPE_KEY)})


@event.listens_for(Session, "do_orm_execute")
def _guard(state: ORMExecuteState) -> None:
    scope = scope_of(state.session)
    # Sessions sharing one connection (models/db.py RequestReads) take turns: each statement says whose.
    state.update_execution_options(**{SCOPE_OPTION: scope})
    if state.is_column_load or state.is_relationship_load:
        return  # the parent row was already filtered
    if _marked(state):
        return
    _refuse_side_doors(state)
    if state.is_insert:
        _stamp_insert(state, scope.tenant_id)
    elif scope.tenant_id is not None and (state.is_select or state.is_update or state.is_delete):
        tenant_id = scope.tenant_id
        state.statement = state.statement.options(
            with_loader_criteria(TenantOwned, lambda cls: cls.tenant_id == tenant_id, include_aliases=True),
            with_loader_criteria(Tenant, lambda cls: cls.id == tenant_id, include_aliases=True),
        )


def _marked(state: ORMExecuteState) -> bool:
    reason = state.execution_options.get(SYSTEM_SCOPED)
    if reason is None:
        return False
    if not isinstance(reason, str) or not reason.strip():
        raise TenancyViolation(f"{SYSTEM_SCOPED} takes the reason, as a string")
    return True


def _refuse_side_doors(state: ORMExecuteState) -> None:
    if state.is_from_statement:
        raise TenancyViolation("from_statement() runs SQL the tenant criterion cannot reach")
    statement: Any = state.statement
    if statement not in _CHECKED:
        unguarded = _unguarded_reference(statement)
        if unguarded is not None:
            raise TenancyViolation(
                f"{unguarded} escapes the tenant criterion: name the mapped entity instead, or mark the"
                f" statement {SYSTEM_SCOPED}"
            )
        _CHECKED.add(statement)
    if not (state.is_update or state.is_delete) or _tenant_owned_subject(state) is None:
        return
    if state.is_executemany:
        raise TenancyViolation("bulk UPDATE/DELETE by primary key escapes the tenant criterion")
    if state.is_update and TENANT_COLUMN in {*_keys(statement._values or {}), *_keys(_params(state)[0])}:
        raise TenancyViolation("an UPDATE may not move rows to another tenant")


def _unguarded_reference(statement: ClauseElement, seen: set[int] | None = None) -> str | None:
    """The first text(), or guarded table the tenant criterion does not reach, in the statement.

    The criterion reaches every FROM made of a mapped entity. A bare table (``Model.__table__``,
    ``table("users")``) or one of its columns is covered only where the same statement reads that
    table through its entity (selects it, selects from it, joins it, changes it): then SQL names
    the one FROM, filtered (this is how Session.get writes its primary key clause). Anywhere else, a
    nested SELECT included, it is a FROM of its own, unfiltered.
    """
    if isinstance(statement, TextClause):
        return "text()"
    seen = set() if seen is None else seen
    tables = guarded_tables()
    bare: set[str] = set()
    nested: list[Any] = []
    pending: list[Any] = list(_children(statement))
    while pending:
        element = pending.pop()
        if "parententity" in getattr(element, "_annotations", ()):
            continue  # what a mapped entity or attribute names, the criterion covers
        if isinstance(element, ColumnClause):
            element = element.table  # a column is its table (or subquery, alias)
        if isinstance(element, TableClause):
            if element.name in tables:
                bare.add(element.name)
            continue
        if element is None or id(element) in seen:
            continue  # (a recursive CTE refers to itself)
        seen.add(id(element))
        if isinstance(element, TextClause):
            return "text()"
        elif isinstance(element, Select | CompoundSelect):
            nested.append(element)
        elif not isinstance(element, BindParameter):
            pending.extend(_children(element))
    uncovered = bare - _entity_tables(statement)
    if uncovered:
        return f"table {min(uncovered)!r}"
    return next(filter(None, (_unguarded_reference(sub, seen) for sub in nested)), None)


def _entity_tables(statement: Any) -> set[str | None]:
    """The tables a statement reads or changes through mapped entities, where they make FROMs."""
    places: list[Any]
    if isinstance(statement, Select):
        joined = [join[0] for join in statement._setup_joins]
        places = [*statement._raw_columns, *statement._from_obj, *joined]
    elif isinstance(statement, UpdateBase):
        places = [statement.table]
    else:
        return set()
    return {_table_name(place) for place in places if "parententity" in place._annotations}


def _table_name(element: Any) -> str | None:
    """The table an element is, or is a column of."""
    table = element.table if isinstance(element, ColumnClause) else element
    return table.name if isinstance(table, TableClause) else None


def _children(element: Any) -> Iterable[Any]:
    if isinstance(element, Select):
        # Not Select.get_children, which adds the FROMs the columns imply (each column is followed to
        # its table in the loop above); the explicit FROMs are kept.
        return HasTraverseInternals.get_children(element)
    return element.get_children() if isinstance(element, ClauseElement) else ()


def _tenant_owned_subject(state: ORMExecuteState) -> type[TenantOwned] | None:
    mapper = state.bind_mapper
    if mapper is None or not issubclass(mapper.class_, TenantOwned):
        return None
    return mapper.class_


def _stamp_insert(state: ORMExecuteState, tenant_id: uuid.UUID | None) -> None:
    """ORM INSERT statements are checked and stamped like flushed rows (before_flush below)."""
    model = _tenant_owned_subject(state)
    if model is None:
        return
    statement: Any = state.statement
    name = model.__name__
    if statement.select is not None:
        raise TenancyViolation(f"INSERT INTO {name} ... SELECT escapes the tenant criterion")
    conflict_update = getattr(statement._post_values_clause, "update_values_to_set", {})
    if TENANT_COLUMN in _keys(conflict_update):
        raise TenancyViolation(f"{name} upsert may not move rows to another tenant")
    rows = _insert_rows(statement, state)
    missing = False
    for row in rows:
        if TENANT_COLUMN not in row:
            missing = True
            continue
        value = row[TENANT_COLUMN]
        value = value.value if isinstance(value, BindParameter) else value
        if not isinstance(value, uuid.UUID):
            raise TenancyViolation(f"{name} inserted with a tenant_id that is not a value")
        if tenant_id is not None and value != tenant_id:
            raise TenancyViolation(f"{name} inserted into another tenant")
    if not missing:
        return
    if tenant_id is None:
        raise TenancyViolation(f"{name} inserted without a tenant")
    if statement._multi_values:
        raise TenancyViolation(f"{name}: name tenant_id in every row of a multi-row VALUES")
    state.statement = statement.values({TENANT_COLUMN: tenant_id})


def _insert_rows(statement: Any, state: ORMExecuteState) -> list[dict[str, Any]]:
    """Each row's values by column key: the statement's VALUES merged with the parameter sets."""
    values = _keyed(statement._values or {})
    if statement._multi_values:
        rows = statement._multi_values[0]
        if not all(isinstance(row, Mapping) for row in rows):
            raise TenancyViolation("a multi-row VALUES of tenant-owned rows names its columns")
        return [{**values, **_keyed(row)} for row in rows]
    return [{**values, **_keyed(params)} for params in _params(state)]


def _params(state: ORMExecuteState) -> list[Mapping[Any, Any]]:
    params: Any = state.parameters
    return list(params) if isinstance(params, list) else [params or {}]


def _keys(values: Iterable[Any]) -> set[str]:
    return {key if isinstance(key, str) else key.key for key in values}


def _keyed(values: Mapping[Any, Any]) -> dict[str, Any]:
    return {key if isinstance(key, str) else key.key: value for key, value in values.items()}


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
