"""Loaders: the number of SQL statements of a query grows with its depth, never with its rows."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import event, func, literal, select

from core.permissions import Role
from core.scope import TenantScope
from models.db import RequestReads
from models.identity.accounts import User, UserRole
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient, StatementCounter, count_statements
from tests.support.identity import Account, Identity, global_id, quick_password_hash

USERS = """
query($first: Int!) {
  users(first: $first) { edges { node { email roles tenant { slug } } } }
}
"""

NODES = """
query($ids: [ID!]!) {
  nodes(ids: $ids) { id ... on User { email roles tenant { slug } } }
}
"""


def _sql(counter: StatementCounter) -> list[str]:
    """The statements of the request (the outbox dispatcher polls the same engine meanwhile)."""
    return [s for s in counter.statements if "outbox_events" not in s]


def _tables(statements: list[str]) -> list[str]:
    """The table each statement reads first (authenticate: auth_sessions, joined to the rest)."""
    return [match.group(1) for s in statements if (match := re.search(r"\bFROM (\w+)", s))]


@pytest.fixture
async def crowd(identity: Identity, runtime: Runtime) -> tuple[Account, list[uuid.UUID]]:
    """A tenant admin and 59 more users of the tenant (60 in all); the others are inserted
    directly with one shared password hash, since argon2 takes a while per user."""
    admin = await identity.account("acme", Role.TENANT_ADMIN)
    password_hash = quick_password_hash()
    ids = [uuid.uuid4() for _ in range(59)]
    async with runtime.db.transaction(TenantScope.of(admin.tenant_id)) as session:
        session.add_all(
            User(
                id=user_id,
                tenant_id=admin.tenant_id,
                email=f"member{n:02d}@acme.example",
                full_name=f"Member {n:02d}",
                password_hash=password_hash,
            )
            for n, user_id in enumerate(ids)
        )
        await session.flush()
        session.add_all(
            UserRole(tenant_id=admin.tenant_id, user_id=user_id, role=Role.MANAGER if n % 2 else Role.USER)
            for n, user_id in enumerate(ids)
        )
    return admin, ids


async def _users_page(
    gql: GraphQLClient, runtime: Runtime, token: str, first: int
) -> tuple[Any, list[str], StatementCounter]:
    with count_statements(runtime.db.engine) as counter:
        data = (await gql(USERS, {"first": first}, token=token)).ok()
    return data["users"]["edges"], _sql(counter), counter


async def test_users_connection_statements_do_not_grow_with_rows(
    gql: GraphQLClient, runtime: Runtime, crowd: tuple[Account, list[uuid.UUID]]
) -> None:
    admin, _ = crowd
    await gql.warm(admin.token)
    five, five_sql, _ = await _users_page(gql, runtime, admin.token, 5)
    fifty, fifty_sql, counter = await _users_page(gql, runtime, admin.token, 50)

    assert len(five) == 5
    assert len(fifty) == 50
    nodes = [edge["node"] for edge in fifty]
    assert nodes[0] == {"email": admin.email, "roles": ["TENANT_ADMIN"], "tenant": {"slug": "acme"}}
    assert nodes[1] == {"email": "member00@acme.example", "roles": ["USER"], "tenant": {"slug": "acme"}}
    assert nodes[2] == {"email": "member01@acme.example", "roles": ["MANAGER"], "tenant": {"slug": "acme"}}
    assert [edge["node"] for edge in five] == nodes[:5]

    assert len(five_sql) == len(fifty_sql), (five_sql, fifty_sql)
    assert (counter.checkouts, counter.transactions) == (1, 0)  # one connection, no BEGIN/ROLLBACK
    # users page 1 + roles batch 1 + tenant batch 1 (the session's access state is in memory)
    assert len(fifty_sql) == 3, fifty_sql
    assert sorted(_tables(fifty_sql)) == ["tenants", "user_roles", "users"]

    # totalCount is one more statement, whatever the count.
    with count_statements(runtime.db.engine) as counter:
        data = (await gql("{ users(first: 50) { totalCount } }", token=admin.token)).ok()
    assert data == {"users": {"totalCount": 60}}
    assert len(_sql(counter)) == 2, _sql(counter)  # page + count


async def test_nodes_statements_do_not_grow_with_ids(
    gql: GraphQLClient, runtime: Runtime, crowd: tuple[Account, list[uuid.UUID]]
) -> None:
    admin, ids = crowd
    await gql.warm(admin.token)
    with count_statements(runtime.db.engine) as one:
        single = (await gql(NODES, {"ids": [global_id("User", ids[0])]}, token=admin.token)).ok()
    ten_ids = [global_id("User", i) for i in ids[:10]]
    with count_statements(runtime.db.engine) as ten:
        several = (await gql(NODES, {"ids": ten_ids}, token=admin.token)).ok()

    assert single["nodes"] == [
        {"id": ten_ids[0], "email": "member00@acme.example", "roles": ["USER"], "tenant": {"slug": "acme"}}
    ]
    assert [n["id"] for n in several["nodes"]] == ten_ids  # in the order asked
    assert [n["email"] for n in several["nodes"]] == [f"member{n:02d}@acme.example" for n in range(10)]
    assert len(_sql(one)) == len(_sql(ten)) == 3, (_sql(one), _sql(ten))
    assert sorted(_tables(_sql(ten))) == ["tenants", "user_roles", "users"]

    # Mixed types come back in the order asked, with one batch per type.
    asked = [global_id("User", ids[3]), admin.tenant_gid, global_id("User", ids[0])]
    with count_statements(runtime.db.engine) as counter:
        data = (
            await gql(
                "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on User { email } } }",
                {"ids": asked},
                token=admin.token,
            )
        ).ok()
    assert [(n["__typename"], n["id"]) for n in data["nodes"]] == [
        ("User", asked[0]),
        ("Tenant", asked[1]),
        ("User", asked[2]),
    ]
    assert len(_sql(counter)) == 2, _sql(counter)  # users batch + tenants batch


async def test_request_reads_share_one_connection_without_a_transaction(runtime: Runtime) -> None:
    """Concurrent reads of one request take turns on one connection, a nested read of the same
    task shares its turn, and no transaction spans two statements (autocommit)."""
    reads = RequestReads(runtime.db)
    scope = TenantScope.all_tenants()
    order: list[str] = []

    async def read(name: str) -> int:
        async with reads.session(scope) as session:
            order.append(f"{name} in")
            first = (await session.execute(select(func.txid_current()))).scalar_one()
            await asyncio.sleep(0.01)  # the other reader must wait for its turn meanwhile
            async with reads.session(scope) as nested:
                second = (await nested.execute(select(func.txid_current()))).scalar_one()
            order.append(f"{name} out")
            assert second != first  # each statement is its own transaction
            return int((await session.execute(select(func.pg_backend_pid()))).scalar_one())

    try:
        with count_statements(runtime.db.engine) as counter:
            pids = await asyncio.gather(read("a"), read("b"))
    finally:
        await reads.close()
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    assert pids[0] == pids[1]
    assert (counter.checkouts, counter.transactions) == (1, 0)


async def test_a_read_after_the_request_ended_takes_its_own_connection_back(runtime: Runtime) -> None:
    """A loader batch still running when an error ended its request early reads on a pooled
    connection of its own, which goes back to the pool (no connection left to the GC).

    The pool is shared with the outbox dispatcher, so the test follows its own connections by
    identity rather than counting the pool's."""
    pool = runtime.db.engine.sync_engine.pool
    checked_in: list[Any] = []

    def on_checkin(dbapi_connection: Any, _record: Any) -> None:
        checked_in.append(dbapi_connection)

    async def dbapi_connection_of(session: Any) -> Any:
        return (await (await session.connection()).get_raw_connection()).dbapi_connection

    event.listen(pool, "checkin", on_checkin)
    try:
        reads = RequestReads(runtime.db)
        async with reads.session(TenantScope.all_tenants()) as session:
            assert (await session.execute(select(literal(1)))).scalar_one() == 1
            request_connection = await dbapi_connection_of(session)
        assert request_connection not in checked_in
        await reads.close()
        assert request_connection in checked_in
        async with reads.session(TenantScope.all_tenants()) as session:
            assert (await session.execute(select(literal(2)))).scalar_one() == 2
            late_connection = await dbapi_connection_of(session)
            given_back_before = len(checked_in)
        assert late_connection in checked_in[given_back_before:]
    finally:
        event.remove(pool, "checkin", on_checkin)


async def test_each_read_of_a_request_sees_rows_as_they_are_now(runtime: Runtime, identity: Identity) -> None:
    """A request's reads of one scope share a session, emptied after each: a row changed between
    two reads (a mutation's own write, then its payload) is read afresh, as a new object."""
    account = await identity.account("acme", Role.USER)
    scope = TenantScope.of(account.tenant_id)
    reads = RequestReads(runtime.db)
    statement = select(User).where(User.id == account.user_id)
    try:
        async with reads.session(scope) as session:
            before = (await session.scalars(statement)).one()
        async with runtime.db.transaction(scope) as writing:
            (await writing.scalars(statement)).one().full_name = "Renamed Between Reads"
        async with reads.session(scope) as session:
            after = (await session.scalars(statement)).one()
    finally:
        await reads.close()
    assert after is not before
    assert before.full_name != after.full_name == "Renamed Between Reads"


async def test_a_read_that_failed_leaves_the_next_one_working(runtime: Runtime) -> None:
    """The session of a failed statement is closed, not reused: the next read of the request runs."""
    reads = RequestReads(runtime.db)
    scope = TenantScope.all_tenants()
    try:
        with pytest.raises(Exception, match="division by zero"):
            async with reads.session(scope) as session:
                await session.execute(select(literal(1) / literal(0)))
        async with reads.session(scope) as session:
            assert (await session.execute(select(literal(3)))).scalar_one() == 3
    finally:
        await reads.close()
