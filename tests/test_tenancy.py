"""The tenancy guard (models/tenancy.py) against real PostgreSQL: reads, counts, bulk updates and
deletes of a tenant-scoped session only ever see that tenant's rows; writes into another tenant
are refused; a session without a scope touches no tenant data at all."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.permissions import Role
from core.scope import TenantScope
from models.db import Database
from models.identity import Tenant, TenantKind, TenantStatus, User, UserRole
from models.tenancy import TenancyViolation
from server.runtime import Runtime

ALL = TenantScope.all_tenants()


@dataclass
class Two:
    db: Database
    a: uuid.UUID
    b: uuid.UUID
    a_users: list[uuid.UUID]
    b_users: list[uuid.UUID]


def _user(tenant_id: uuid.UUID, email: str) -> User:
    return User(id=uuid.uuid4(), tenant_id=tenant_id, email=email, full_name=email, password_hash="-")


@pytest.fixture
async def two(runtime: Runtime) -> Two:
    """Tenant A with two users, tenant B with three."""
    db = runtime.db
    a, b = uuid.uuid4(), uuid.uuid4()
    async with db.transaction(ALL) as session:
        for tenant_id, slug in ((a, "tenant-a"), (b, "tenant-b")):
            session.add(
                Tenant(
                    id=tenant_id,
                    slug=slug,
                    name=slug,
                    kind=TenantKind.ENTERPRISE,
                    status=TenantStatus.ACTIVE,
                    settings={},
                )
            )
        await session.flush()
        a_users = [_user(a, f"a{n}@a.example") for n in range(2)]
        b_users = [_user(b, f"b{n}@b.example") for n in range(3)]
        session.add_all(a_users + b_users)
        await session.flush()
        session.add_all(
            UserRole(tenant_id=u.tenant_id, user_id=u.id, role=Role.USER) for u in a_users + b_users
        )
    return Two(db, a, b, [u.id for u in a_users], [u.id for u in b_users])


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
            session.add(_user(two.b, "intruder@b.example"))
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
            session.add(_user(two.a, "unscoped@a.example"))


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
