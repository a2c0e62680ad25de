"""The tenancy guard (models/tenancy.py) against real PostgreSQL: reads, counts, bulk updates and
deletes of a tenant-scoped session only ever see that tenant's rows; writes into another tenant
are refused, ORM INSERT statements included; a session without a scope touches no tenant data at
all; statements the criterion cannot reach (tables named bare, text(), bulk by primary key) are
refused unless marked system-scoped."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, func, insert, literal, select, table, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.permissions import Role
from core.scope import TenantScope
from models.events import OutboxEvent
from models.identity.accounts import Tenant, User, UserRole
from models.tenancy import TenancyViolation, system_scoped
from server.runtime import Runtime
from tests.support.tenancy import A_EMAILS, B_EMAILS, Two, make_two, new_user, user_row

ALL = TenantScope.all_tenants()
USERS = User.__table__


@pytest.fixture
async def two(runtime: Runtime) -> Two:
    return await make_two(runtime.db)


async def _emails(session: AsyncSession) -> list[str]:
    return sorted(await session.scalars(select(User.email)))


async def test_select_sees_only_the_scoped_tenant(two: Two) -> None:
    async with two.db.session(TenantScope.of(two.a)) as session:
        users = list(await session.scalars(select(User)))
        assert sorted(u.email for u in users) == ["a0@a.example", "a1@a.example"]
        assert {u.tenant_id for u in users} == {two.a}
        # Even asking for B's rows by name finds nothing.
        asked = await session.scalars(select(User).where(User.id.in_(two.b_users)))
        assert list(asked) == []
        assert list(await session.scalars(select(Tenant.slug))) == ["tenant-a"]
    async with two.db.session(TenantScope.of(two.b)) as session:
        assert await _emails(session) == ["b0@b.example", "b1@b.example", "b2@b.example"]


async def test_get_by_primary_key_of_another_tenant_is_none(two: Two) -> None:
    async with two.db.session(TenantScope.of(two.a)) as session:
        assert await session.get(User, two.b_users[0]) is None
        assert await session.get(Tenant, two.b) is None
        mine = await session.get(User, two.a_users[0])
        assert mine is not None and mine.email == "a0@a.example"


async def test_counts_joins_and_aliases_are_filtered(two: Two) -> None:
    async with two.db.session(TenantScope.of(two.a)) as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 2
        assert await session.scalar(select(func.count(User.id))) == 2
        joined = await session.execute(
            select(User.email, UserRole.role).join(UserRole, UserRole.user_id == User.id).order_by(User.email)
        )
        assert [tuple(row) for row in joined] == [("a0@a.example", Role.USER), ("a1@a.example", Role.USER)]
        other = aliased(User)
        pairs = await session.execute(select(User.email, other.email).join(other, other.id != User.id))
        assert sorted(tuple(row) for row in pairs) == [
            ("a0@a.example", "a1@a.example"),
            ("a1@a.example", "a0@a.example"),
        ]
        in_subquery = select(User.email).where(User.id.in_(select(UserRole.user_id)))
        assert sorted(await session.scalars(in_subquery)) == ["a0@a.example", "a1@a.example"]


async def test_bulk_update_touches_only_the_scoped_tenant(two: Two) -> None:
    async with two.db.transaction(TenantScope.of(two.a)) as session:
        result = await session.execute(update(User).values(full_name="Renamed"))
        assert result.rowcount == 2
    async with two.db.session(ALL) as session:
        names = {email: name for email, name in await session.execute(select(User.email, User.full_name))}
    assert names == {
        "a0@a.example": "Renamed",
        "a1@a.example": "Renamed",
        "b0@b.example": "b0@b.example",
        "b1@b.example": "b1@b.example",
        "b2@b.example": "b2@b.example",
    }


async def test_bulk_update_by_id_of_another_tenant_changes_nothing(two: Two) -> None:
    async with two.db.transaction(TenantScope.of(two.a)) as session:
        result = await session.execute(
            update(User).where(User.id == two.b_users[0]).values(full_name="Hijacked")
        )
        assert result.rowcount == 0
    async with two.db.session(ALL) as session:
        assert await session.scalar(select(User.full_name).where(User.id == two.b_users[0])) == "b0@b.example"


async def test_bulk_delete_touches_only_the_scoped_tenant(two: Two) -> None:
    async with two.db.transaction(TenantScope.of(two.a)) as session:
        result = await session.execute(delete(User).where(User.email.like("%0@%")))
        assert result.rowcount == 1
        result = await session.execute(delete(UserRole))
        assert result.rowcount == 1  # a1's role; a0's went with a0
    async with two.db.session(ALL) as session:
        assert await _emails(session) == ["a1@a.example", "b0@b.example", "b1@b.example", "b2@b.example"]
        assert await session.scalar(select(func.count()).select_from(UserRole)) == 3


async def test_insert_into_another_tenant_is_refused(two: Two) -> None:
    with pytest.raises(TenancyViolation, match="User inserted into another tenant"):
        async with two.db.transaction(TenantScope.of(two.a)) as session:
            session.add(new_user(two.b, "intruder@b.example"))
    async with two.db.session(ALL) as session:
        assert await session.scalar(select(func.count()).where(User.email == "intruder@b.example")) == 0


async def test_insert_without_tenant_is_stamped_with_the_scope(two: Two) -> None:
    async with two.db.transaction(TenantScope.of(two.a)) as session:
        user = User(id=uuid.uuid4(), email="new@a.example", full_name="New", password_hash="-")
        session.add(user)
    async with two.db.session(ALL) as session:
        assert await session.scalar(select(User.tenant_id).where(User.email == "new@a.example")) == two.a


async def test_insert_without_tenant_in_all_tenants_scope_is_refused(two: Two) -> None:
    with pytest.raises(TenancyViolation, match="inserted without a tenant"):
        async with two.db.transaction(ALL) as session:
            session.add(User(id=uuid.uuid4(), email="nobody@x.example", full_name="N", password_hash="-"))


async def test_modifying_a_row_of_another_tenant_is_refused(two: Two) -> None:
    async with two.db.session(ALL) as session:
        theirs = await session.get(User, two.b_users[0])
        assert theirs is not None
        session.expunge(theirs)

    async def hijack() -> None:
        async with two.db.transaction(TenantScope.of(two.a)) as session:
            session.add(theirs)
            theirs.full_name = "Hijacked"

    with pytest.raises(TenancyViolation, match="User of another tenant modified"):
        await hijack()
    async with two.db.session(ALL) as session:
        assert await session.scalar(select(User.full_name).where(User.id == two.b_users[0])) == "b0@b.example"


async def test_session_without_scope_refuses_tenant_data(two: Two) -> None:
    async with AsyncSession(two.db.engine) as session:
        with pytest.raises(TenancyViolation, match="no tenant scope"):
            await session.scalars(select(User))
        with pytest.raises(TenancyViolation, match="no tenant scope"):
            await session.get(User, two.a_users[0])
        with pytest.raises(TenancyViolation, match="no tenant scope"):
            await session.execute(update(User).values(full_name="x"))
    with pytest.raises(TenancyViolation, match="no tenant scope"):
        async with AsyncSession(two.db.engine) as session, session.begin():
            session.add(new_user(two.a, "unscoped@a.example"))


async def test_all_tenants_scope_sees_both(two: Two) -> None:
    async with two.db.session(ALL) as session:
        assert await _emails(session) == [
            "a0@a.example",
            "a1@a.example",
            "b0@b.example",
            "b1@b.example",
            "b2@b.example",
        ]
        assert await session.get(User, two.b_users[0]) is not None
        assert sorted(await session.scalars(select(Tenant.slug))) == ["tenant-a", "tenant-b"]


async def _state(two: Two) -> list[tuple[uuid.UUID, str, str]]:
    """Every user's tenant, email and name, as the platform sees them."""
    async with two.db.session(ALL) as session:
        rows = await session.execute(select(User.tenant_id, User.email, User.full_name).order_by(User.email))
        return [(tenant_id, email, name) for tenant_id, email, name in rows]


def _untouched(two: Two) -> list[tuple[uuid.UUID, str, str]]:
    return [(two.a, e, e) for e in A_EMAILS] + [(two.b, e, e) for e in B_EMAILS]


# Each names a tenant-owned table in a way the tenant criterion cannot reach.
SIDE_DOORS = {
    "select(table)": lambda: select(USERS),
    "select(table.c.column)": lambda: select(USERS.c.email),
    "table()": lambda: select(literal(1)).select_from(table("users")),
    "update(table)": lambda: update(USERS).values(full_name="Hijacked"),
    "insert(table)": lambda: insert(USERS).values(user_row(uuid.uuid4(), "bare@b.example")),
    "delete(table)": lambda: delete(USERS),
    "text()": lambda: text("UPDATE users SET full_name = 'Hijacked'"),
    "text() in a clause": lambda: update(User).where(text("true")).values(full_name="Hijacked"),
    "from_statement()": lambda: select(User).from_statement(text("SELECT * FROM users")),
    "a table in a subquery": lambda: delete(User).where(User.id.in_(select(USERS.c.id))),
    "a join to a table": lambda: select(User.email).join(UserRole.__table__, UserRole.user_id == User.id),
    "tenants as a table": lambda: select(Tenant.__table__.c.slug),
}


@pytest.mark.parametrize("platform", [False, True], ids=["tenant scope", "platform scope"])
@pytest.mark.parametrize("door", SIDE_DOORS)
async def test_statements_the_criterion_cannot_reach_are_refused(two: Two, door: str, platform: bool) -> None:
    scope = ALL if platform else TenantScope.of(two.a)
    with pytest.raises(TenancyViolation, match=r"escapes the tenant criterion|cannot reach"):
        async with two.db.transaction(scope) as session:
            await session.execute(SIDE_DOORS[door]())
    assert await _state(two) == _untouched(two)


async def test_a_statement_run_again_is_filtered_and_refused_again(two: Two) -> None:
    """Loaders run one statement object for every batch, and the guard walks each object once:
    it is still filtered by each session's scope, and a side door is refused every time."""
    reused = select(User.email)
    for tenant, emails in ((two.a, A_EMAILS), (two.b, B_EMAILS), (two.a, A_EMAILS)):
        async with two.db.session(TenantScope.of(tenant)) as session:
            assert sorted(await session.scalars(reused)) == sorted(emails)
    door = select(USERS.c.email)
    for _ in range(2):
        with pytest.raises(TenancyViolation, match="escapes the tenant criterion"):
            async with two.db.session(TenantScope.of(two.a)) as session:
                await session.execute(door)


async def test_a_marked_statement_passes_as_written(two: Two) -> None:
    marked = select(USERS.c.email).execution_options(**system_scoped("test: every user, as the platform"))
    async with two.db.session(ALL) as session:
        assert sorted(await session.scalars(marked)) == A_EMAILS + B_EMAILS
        hijack = update(USERS).values(full_name="Renamed")
        result = await session.execute(hijack, execution_options=system_scoped("test: rename all"))
        assert result.rowcount == 5  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="say why"):
        system_scoped(" ")
    with pytest.raises(TenancyViolation, match="takes the reason"):
        async with two.db.session(ALL) as session:
            await session.execute(select(USERS).execution_options(system_scoped=True))


async def test_statements_naming_no_guarded_table_need_no_mark(two: Two) -> None:
    async with two.db.session(TenantScope.of(two.a)) as session:
        assert await session.scalar(select(literal(1))) == 1
        assert await session.scalar(select(func.count()).select_from(OutboxEvent.__table__)) == 0


async def test_bulk_update_by_primary_key_is_refused(two: Two) -> None:
    with pytest.raises(TenancyViolation, match="by primary key"):
        async with two.db.transaction(TenantScope.of(two.a)) as session:
            await session.execute(update(User), [{"id": two.b_users[0], "full_name": "Hijacked"}])
    assert await _state(two) == _untouched(two)


async def test_an_update_moving_rows_to_another_tenant_is_refused(two: Two) -> None:
    for values in ({"tenant_id": two.b}, {User.tenant_id: two.b}):
        with pytest.raises(TenancyViolation, match="may not move rows"):
            async with two.db.transaction(TenantScope.of(two.a)) as session:
                await session.execute(update(User).where(User.id == two.a_users[0]).values(values))
    assert await _state(two) == _untouched(two)


async def test_orm_insert_into_another_tenant_is_refused(two: Two) -> None:
    scope = TenantScope.of(two.a)
    another_tenant = [
        (insert(User).values(user_row(two.b, "one@b.example")), None),
        (insert(User), [user_row(two.a, "ok@a.example"), user_row(two.b, "two@b.example")]),
        (insert(User).values([user_row(two.a, "ok@a.example"), user_row(two.b, "three@b.example")]), None),
    ]
    for statement, params in another_tenant:
        with pytest.raises(TenancyViolation, match="User inserted into another tenant"):
            async with two.db.transaction(scope) as session:
                await session.execute(statement, params)
    expression = select(Tenant.id).where(Tenant.slug == "tenant-b").scalar_subquery()
    with pytest.raises(TenancyViolation, match="not a value"):
        async with two.db.transaction(scope) as session:
            await session.execute(
                insert(User).values({**user_row(None, "four@b.example"), "tenant_id": expression})
            )
    upsert = (
        postgresql.insert(User)
        .values(user_row(two.a, "five@a.example"))
        .on_conflict_do_update(index_elements=[User.id], set_={"tenant_id": two.b})
    )
    with pytest.raises(TenancyViolation, match="upsert may not move rows"):
        async with two.db.transaction(scope) as session:
            await session.execute(upsert)
    assert await _state(two) == _untouched(two)


async def test_orm_insert_without_tenant_is_stamped_with_the_scope(two: Two) -> None:
    async with two.db.transaction(TenantScope.of(two.a)) as session:
        await session.execute(insert(User).values(user_row(None, "one@a.example")))
        rows = [user_row(None, "two@a.example"), user_row(two.a, "three@a.example")]
        await session.execute(insert(User), rows)
    added = [(tenant, email) for tenant, email, _ in await _state(two) if email not in A_EMAILS + B_EMAILS]
    assert sorted(added) == [(two.a, "one@a.example"), (two.a, "three@a.example"), (two.a, "two@a.example")]
    with pytest.raises(TenancyViolation, match="User inserted without a tenant"):
        async with two.db.transaction(ALL) as session:
            await session.execute(insert(User).values(user_row(None, "nobody@x.example")))
    with pytest.raises(TenancyViolation, match="name tenant_id in every row"):
        async with two.db.transaction(TenantScope.of(two.a)) as session:
            await session.execute(
                insert(User).values([user_row(None, "six@a.example"), user_row(two.a, "7@a.example")])
            )
