"""PostgreSQL row-level security (migration 0005, models/row_security.py), the wall behind the
tenancy guard: the application's role is no superuser and cannot bypass it; every table holding
tenant rows is covered; statements let past the ORM guard on purpose still see only their scope's
rows, a connection without a scope sees none; tenants taking turns on one pooled connection never see
each other's rows; and reading on in the same scope costs no statement."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.scope import TenantScope
from models import Base
from models.db import Database, RequestReads
from models.identity.accounts import Tenant, User
from models.row_security import SCOPE_OPTION
from models.tenancy import system_scoped
from server.runtime import Runtime
from tests.support.graphql import count_statements
from tests.support.tenancy import A_EMAILS, B_EMAILS, Two, make_two, user_row

ALL = TenantScope.all_tenants()
USERS = User.__table__
# Past the ORM guard on purpose: only the policies stand between these statements and every row.
MARKED = system_scoped("test: row-level security alone decides what this statement sees")
EMAILS = select(USERS.c.email).order_by(USERS.c.email).execution_options(**MARKED)


@pytest.fixture
async def two(runtime: Runtime) -> Two:
    return await make_two(runtime.db)


@pytest.fixture
async def raw(runtime: Runtime) -> AsyncIterator[asyncpg.Connection]:
    """A plain asyncpg connection as the application's role: no SQLAlchemy, no guard."""
    dsn = runtime.settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def one_connection(runtime: Runtime) -> AsyncIterator[Database]:
    """A database handle whose pool holds a single connection: every scope takes its turn on it."""
    db = Database(runtime.settings.database_url, pool_size=1, max_overflow=0)
    try:
        yield db
    finally:
        await db.dispose()


async def _emails(executor: AsyncSession | AsyncConnection) -> list[str]:
    return list((await executor.execute(EMAILS)).scalars())


async def test_the_application_role_is_no_superuser_and_cannot_bypass_policies(
    raw: asyncpg.Connection,
) -> None:
    role = await raw.fetchrow(
        "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    assert tuple(role) == ("tenantgraph", False, False)
    # It owns the tables (it ran the migrations): FORCE is what keeps the policies on for it.
    assert await raw.fetchval("SELECT tableowner FROM pg_tables WHERE tablename = 'users'") == "tenantgraph"


async def test_every_table_with_tenant_rows_has_forced_row_level_security(raw: asyncpg.Connection) -> None:
    rows = await raw.fetch(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, count(p.policyname) AS policies"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'"
        " LEFT JOIN pg_policies p ON p.tablename = c.relname WHERE c.relkind = 'r' GROUP BY 1, 2, 3"
    )
    covered = {row["relname"] for row in rows if row["relrowsecurity"] and row["relforcerowsecurity"]}
    tenant_tables = {t.name for t in Base.metadata.tables.values() if "tenant_id" in t.c} | {"tenants"}
    assert tenant_tables <= covered
    assert {row["relname"] for row in rows} - covered == {"alembic_version"}
    assert all(row["policies"] >= 1 for row in rows if row["relname"] in covered)


async def test_past_the_orm_guard_a_tenant_still_sees_only_its_rows(two: Two) -> None:
    a = TenantScope.of(two.a)
    async with two.db.session(a) as session:
        assert await _emails(session) == A_EMAILS
        # The mapped entity, marked: no tenant criterion is added, the policy filters alone.
        entity = select(User.email).order_by(User.email).execution_options(**MARKED)
        assert list(await session.scalars(entity)) == A_EMAILS
        raw_sql = text("SELECT email FROM users ORDER BY email")
        assert list(await session.scalars(raw_sql, execution_options=MARKED)) == A_EMAILS
        tenants = select(func.count()).select_from(Tenant.__table__).execution_options(**MARKED)
        assert await session.scalar(tenants) == 1
    async with two.db.transaction(a) as session:
        renamed = await session.execute(update(USERS).values(full_name="Renamed"), execution_options=MARKED)
        assert renamed.rowcount == 2  # type: ignore[attr-defined]
    intruder = insert(USERS).values(user_row(two.b, "intruder@b.example"))
    with pytest.raises(DBAPIError, match="row-level security policy"):
        async with two.db.transaction(a) as session:
            await session.execute(intruder, execution_options=MARKED)
    async with two.db.session(ALL) as session:
        names = dict((await session.execute(select(User.email, User.full_name))).all())
    assert names == {**dict.fromkeys(A_EMAILS, "Renamed"), **{email: email for email in B_EMAILS}}


async def test_a_connection_without_a_scope_sees_and_writes_nothing(runtime: Runtime, two: Two) -> None:
    async with runtime.db.engine.connect() as connection:
        assert await _emails(connection) == []
        await connection.execution_options(**{SCOPE_OPTION: ALL})
        assert await _emails(connection) == A_EMAILS + B_EMAILS
        await connection.execution_options(**{SCOPE_OPTION: None})
        assert await _emails(connection) == []
        assert (await connection.execute(update(USERS).values(full_name="x"))).rowcount == 0
        with pytest.raises(DBAPIError, match="row-level security policy"):
            await connection.execute(insert(USERS).values(user_row(two.a, "unscoped@a.example")))


async def test_the_policies_read_the_session_variables(raw: asyncpg.Connection, two: Two) -> None:
    async def emails() -> list[str]:
        return [row["email"] for row in await raw.fetch("SELECT email FROM users ORDER BY email")]

    async def put(tenant: str, platform: str) -> None:
        await raw.execute(
            "SELECT set_config('app.tenant_id', $1, false), set_config('app.platform_scope', $2, false)",
            tenant,
            platform,
        )

    assert await emails() == []  # never set
    await put(str(two.a), "")
    assert await emails() == A_EMAILS
    await put(str(two.b), "")
    assert await emails() == B_EMAILS
    await put("", "on")
    assert await emails() == A_EMAILS + B_EMAILS
    for platform in ("", "true", "ON"):  # only 'on' is the platform
        await put("", platform)
        assert await emails() == []


async def test_tenantless_events_are_written_by_any_scope_and_changed_by_the_platform_only(
    raw: asyncpg.Connection, two: Two
) -> None:
    event_id = uuid.uuid4()
    await raw.execute("SELECT set_config('app.tenant_id', $1, false)", str(two.a))
    seq = await raw.fetchval(
        "INSERT INTO outbox_events (id, tenant_id, topic, payload, created_at)"
        " VALUES ($1, NULL, 'access.changed', '{}', now()) RETURNING seq",
        event_id,
    )
    assert seq is not None
    assert (
        await raw.execute("UPDATE outbox_events SET published_at = now() WHERE id = $1", event_id)
        == "UPDATE 0"
    )
    assert await raw.execute("DELETE FROM outbox_events WHERE id = $1", event_id) == "DELETE 0"
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await raw.execute(
            "INSERT INTO outbox_events (id, tenant_id, topic, payload, created_at)"
            " VALUES ($1, $2, 'user.updated', '{}', now())",
            uuid.uuid4(),
            two.b,
        )
    await raw.execute("SELECT set_config('app.tenant_id', '', false)")
    assert await raw.fetchval("SELECT count(*) FROM outbox_events") == 0  # no scope: not even these
    await raw.execute("SELECT set_config('app.platform_scope', 'on', false)")
    assert await raw.execute("DELETE FROM outbox_events WHERE id = $1", event_id) == "DELETE 1"


async def test_tenants_taking_turns_on_one_pooled_connection_never_see_each_other(
    one_connection: Database, two: Two
) -> None:
    db, a, b = one_connection, TenantScope.of(two.a), TenantScope.of(two.b)
    expected = {a: A_EMAILS, b: B_EMAILS, ALL: A_EMAILS + B_EMAILS}
    backends: set[int] = set()

    async def backend(executor: AsyncSession | AsyncConnection) -> None:
        backends.add((await executor.execute(select(func.pg_backend_pid()))).scalar_one())

    for scope in (a, a, b, ALL, a, b, b, ALL, a):
        async with db.session(scope) as session:
            await backend(session)
            assert await _emails(session) == expected[scope]
        async with db.transaction(scope) as session:
            assert await _emails(session) == expected[scope]
        async with db.engine.connect() as connection:  # no scope named: the last one is not inherited
            await backend(connection)
            assert await _emails(connection) == []
    reads = RequestReads(db)  # one request's sessions share the connection, nested ones included
    async with reads.session(a) as outer:
        assert await _emails(outer) == A_EMAILS
        async with reads.session(b) as inner:
            assert await _emails(inner) == B_EMAILS
        assert await _emails(outer) == A_EMAILS
    await reads.close()
    assert len(backends) == 1


async def test_a_rollback_to_a_savepoint_leaves_no_stale_scope(one_connection: Database, two: Two) -> None:
    async with one_connection.engine.connect() as connection:
        await connection.execution_options(**{SCOPE_OPTION: TenantScope.of(two.a)})
        assert await _emails(connection) == A_EMAILS
        savepoint = await connection.begin_nested()
        await connection.execution_options(**{SCOPE_OPTION: TenantScope.of(two.b)})
        assert await _emails(connection) == B_EMAILS
        await savepoint.rollback()  # PostgreSQL puts tenant A's setting back
        assert await _emails(connection) == B_EMAILS  # ... and B's is put again before the next read
        await connection.commit()
        await connection.execution_options(**{SCOPE_OPTION: None})
        assert await _emails(connection) == []


async def _read_as(db: Database, *scopes: TenantScope) -> Any:
    """One request's reads, one session per scope, counted."""
    with count_statements(db.engine) as counter:
        reads = RequestReads(db)
        for scope in scopes:
            async with reads.session(scope) as session:
                await _emails(session)
        await reads.close()
    return counter


async def test_reading_on_in_the_same_scope_costs_no_statement(one_connection: Database, two: Two) -> None:
    db, a, b = one_connection, TenantScope.of(two.a), TenantScope.of(two.b)
    first = await _read_as(db, ALL, a)  # sign-in (platform), then the tenant's reads
    assert (len(first.statements), len(first.scope_statements)) == (2, 2)
    again = await _read_as(db, a)
    assert (len(again.statements), len(again.scope_statements), again.transactions) == (1, 0, 0)
    with count_statements(db.engine) as same_tenant:
        async with db.transaction(a) as session:
            await _emails(session)
    assert same_tenant.scope_statements == []  # the connection's value already says A
    with count_statements(db.engine) as other_tenant:
        async with db.transaction(b) as session:
            await _emails(session)
    assert len(other_tenant.scope_statements) == 1  # set_config(..., true): gone at COMMIT
    after = await _read_as(db, a)
    assert (len(after.statements), len(after.scope_statements)) == (1, 0)
