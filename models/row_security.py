"""PostgreSQL row-level security, the second wall behind the tenancy guard (models/tenancy.py).

Policies (migration 0005) show a statement only the rows of the tenant named by the session variable
``app.tenant_id``, or every row when ``app.platform_scope`` is ``'on'``; with neither set a statement
sees and writes nothing. The application connects as a role that is no superuser and has no
BYPASSRLS; it owns the tables, so they are FORCEd (owners bypass their policies otherwise).

Every statement carries the scope it runs in: a session's statements get their session's scope as
the execution option ``tenant_scope`` (models/tenancy.py), and a connection used without a session
runs in no scope at all unless it names one (``connection.execution_options(tenant_scope=...)``).
Right before a statement runs, ``_put_scope`` makes the connection's variables say that scope:

- Inside a transaction with ``set_config(..., true)``: local to the transaction, gone at COMMIT or
  ROLLBACK, so nothing of it outlives the transaction.
- On an autocommit connection (every read of a request, models/db.py) a local setting would last
  for one statement only, so the value is set for the connection's session, ``set_config(..., false)``.

Each costs a statement, so it is sent only when the value in force differs from the one needed. What
is in force is tracked per DBAPI connection (``connection.info``, cleared by SQLAlchemy when the
connection is closed or invalidated): the session value, which only ever changes by an autocommit
statement that committed, and the local value of the open transaction, forgotten at its end, at a
rollback to a savepoint (which may have undone it) and whenever the pool hands the connection out. A
connection coming out of the pool therefore never runs a statement under the scope of its last user:
the scope in force is compared with the scope of the statement about to run, never assumed. The same
tenant reading again on the same connection costs nothing (the pool is LIFO, so a request usually
gets the connection the last one gave back); a switch costs one statement. (Resetting connections as
they go back to the pool would cost a statement per request, a local setting per read one per read.)

The session value outlives a checkout, so the database must be reached directly or through a pooler in
session mode; a transaction-mode pooler (PgBouncer ``pool_mode=transaction``) would mix sessions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ReleaseSavepointClause, RollbackToSavepointClause, SavepointClause

from core.scope import TenantScope

# The execution option naming a statement's (or a connection's) scope; absent or None: no scope.
SCOPE_OPTION = "tenant_scope"
TENANT_SETTING = "app.tenant_id"
PLATFORM_SETTING = "app.platform_scope"

_PUT_SCOPE = text(
    f"SELECT set_config('{TENANT_SETTING}', :tenant, :local),"
    f" set_config('{PLATFORM_SETTING}', :platform, :local)"
)
_SESSION = "row_security.session"  # the scope set_config(..., false) put on this connection
_LOCAL = "row_security.local"  # the scope set_config(..., true) put on its open transaction
_SAVEPOINTS = (SavepointClause, RollbackToSavepointClause, ReleaseSavepointClause)


class _Unknown:
    """The local value after a rollback to a savepoint: whatever it was before, set it again."""


UNKNOWN = _Unknown()


def is_scope_statement(sql: str) -> bool:
    """True for the statement that sets a connection's scope (statement counts keep it apart)."""
    return sql.startswith(f"SELECT set_config('{TENANT_SETTING}'")


def settings_for(scope: TenantScope | None) -> dict[str, str]:
    """The variables' values: a tenant, the platform, or (no scope) nothing."""
    if scope is None:
        return {"tenant": "", "platform": ""}
    if scope.tenant_id is None:
        return {"tenant": "", "platform": "on"}
    return {"tenant": str(scope.tenant_id), "platform": ""}


def install(engine: Engine) -> None:
    """Keep the scope of every statement of this (PostgreSQL) engine in its session variables."""
    event.listen(engine, "before_execute", _put_scope)
    for name in ("commit", "rollback"):
        event.listen(engine, name, _transaction_ended)
    event.listen(engine, "rollback_savepoint", _savepoint_rolled_back)
    event.listen(engine.pool, "checkout", _checked_out)


def _put_scope(conn: Connection, element: Any, _multi: Any, _params: Any, options: Any) -> None:
    if element is _PUT_SCOPE or isinstance(element, _SAVEPOINTS):
        return  # our own set_config; a savepoint statement touches no row (and may run after an error)
    scope = options.get(SCOPE_OPTION)
    if scope is not None and not isinstance(scope, TenantScope):
        raise TypeError(f"{SCOPE_OPTION} must be a TenantScope or None, not {scope!r}")
    autocommit = options.get("isolation_level") == "AUTOCOMMIT"
    in_force = conn.info.get(_SESSION) if autocommit else conn.info.get(_LOCAL, conn.info.get(_SESSION))
    if in_force == scope:
        return
    conn.execute(_PUT_SCOPE, {**settings_for(scope), "local": not autocommit})
    conn.info[_SESSION if autocommit else _LOCAL] = scope


# An invalidated connection (its DBAPI connection is gone, and with it every setting) refuses access
# to its info until rolled back.


def _transaction_ended(conn: Connection) -> None:
    if not conn.invalidated:
        conn.info.pop(_LOCAL, None)


def _savepoint_rolled_back(conn: Connection, _name: str, _context: Any) -> None:
    if not conn.invalidated:
        conn.info[_LOCAL] = UNKNOWN


def _checked_out(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    # A transaction the pool rolled back on return sent no rollback event: its local value is gone.
    record.info.pop(_LOCAL, None)
