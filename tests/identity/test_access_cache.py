"""The access store (services/identity/access.py): a signed-in request is checked from memory,
changes made through the API take effect on the next request of the process that made them, and
what the store holds is bounded in time and dropped by access events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from core.errors import Unauthenticated
from core.permissions import Role
from core.principal import Principal
from core.scope import TenantScope
from models.identity.accounts import AuthSession, Tenant, TenantStatus, User, UserStatus
from server.runtime import Runtime
from services.events import AccessChange
from services.identity.access import AccessStore
from services.identity.tokens import decode_access_token
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import Account, quick_account

ME = "{ me { email } }"
USERS = "{ users(first: 1) { totalCount } }"
ROLES = """
mutation($add: UserRolesInput!) { assignRoles(input: $add) { user { roles } userErrors { code } } }
"""
REMOVE = """
mutation($remove: UserRolesInput!) { removeRoles(input: $remove) { user { roles } userErrors { code } } }
"""
SUSPEND = "mutation($input: UserIdInput!) { suspendUser(input: $input) { user { status } } }"
REACTIVATE = "mutation($input: UserIdInput!) { reactivateUser(input: $input) { user { status } } }"
ALL = TenantScope.all_tenants()


def claimed(runtime: Runtime, account: Account) -> Principal:
    return decode_access_token(runtime.settings, account.token)


@pytest.fixture
async def short_lived(runtime: Runtime) -> AsyncIterator[AccessStore]:
    """A store of its own over the app's database and broadcast whose entries live 0.5 s."""
    store = AccessStore(runtime.db, runtime.broadcast, ttl_seconds=0.5)
    await store.start()
    try:
        yield store
    finally:
        await store.stop()


async def test_a_cached_session_costs_no_access_query(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    costs = []
    for _ in range(3):
        with count_statements(runtime.db.engine) as counter:
            assert (await gql(ME, token=account.token)).ok() == {"me": {"email": account.email}}
        costs.append(counter.statements)
        assert (counter.checkouts, counter.transactions) == (1, 0)
    # The first request reads the session's access (one statement with its user, tenant and
    # roles) and the user; the next ones only the user.
    assert [len(statements) for statements in costs] == [2, 1, 1], costs
    assert "auth_sessions" in costs[0][0]
    assert all("auth_sessions" not in statement for statement in costs[1] + costs[2])


async def test_changes_through_the_api_apply_to_the_next_request(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme")
    await gql.warm(admin.token)
    assert (await gql(USERS, token=user.token)).error_codes == ["FORBIDDEN"]  # cached now: a USER

    promote = {"add": {"id": user.gid, "roles": ["TENANT_ADMIN"]}}
    assert (await gql(ROLES, promote, token=admin.token)).ok()["assignRoles"]["userErrors"] == []
    assert (await gql(USERS, token=user.token)).ok()["users"]["totalCount"] == 2
    demote = {"remove": {"id": user.gid, "roles": ["TENANT_ADMIN"]}}
    assert (await gql(REMOVE, demote, token=admin.token)).ok()["removeRoles"]["userErrors"] == []
    assert (await gql(USERS, token=user.token)).error_codes == ["FORBIDDEN"]

    (await gql(SUSPEND, {"input": {"id": user.gid}}, token=admin.token)).ok()
    refused = await gql(ME, token=user.token)
    assert refused.status == 401 and refused.error_codes == ["UNAUTHENTICATED"]
    # The admin's own cached session is untouched (no access query for it).
    with count_statements(runtime.db.engine) as counter:
        (await gql("{ __typename }", token=admin.token)).ok()
    assert counter.count == 0, counter.statements


async def test_a_change_behind_the_apis_back_waits_for_the_entry_to_expire(
    runtime: Runtime, short_lived: AccessStore
) -> None:
    account = await quick_account(runtime, "acme", Role.MANAGER)
    claim = claimed(runtime, account)
    assert (await short_lived.principal(claim)).roles == {Role.MANAGER}
    assert short_lived.queries == 1
    # An operator suspends the user in SQL: no access event, so memory still answers ...
    async with runtime.db.transaction(ALL) as session:
        await session.execute(
            update(User).where(User.id == account.user_id).values(status=UserStatus.SUSPENDED)
        )
    assert (await short_lived.principal(claim)).user_id == account.user_id
    assert short_lived.queries == 1
    # ... until the entry expires.
    await asyncio.sleep(0.6)
    with pytest.raises(Unauthenticated):
        await short_lived.principal(claim)
    assert short_lived.queries == 2


async def test_a_trial_end_or_a_ban_applies_at_its_time_though_cached(runtime: Runtime) -> None:
    """What turns by the clock alone (a trial's end, a ban's unblock date) needs no event: the
    stored entry expires at that moment, however long entries live."""
    store = AccessStore(runtime.db, runtime.broadcast, ttl_seconds=3600)
    await store.start()
    try:
        account = await quick_account(runtime, "trial-ends")
        claim = claimed(runtime, account)
        ends = datetime.now(UTC) + timedelta(seconds=1)
        async with runtime.db.transaction(ALL) as session:
            await session.execute(
                update(Tenant)
                .where(Tenant.id == account.tenant_id)
                .values(status=TenantStatus.TRIAL, trial_ends_at=ends)
            )
        assert (await store.principal(claim)).user_id == account.user_id
        assert (await store.principal(claim)).user_id == account.user_id
        assert store.queries == 1  # the second answer came from memory
        await asyncio.sleep((ends - datetime.now(UTC)).total_seconds() + 0.1)
        with pytest.raises(Unauthenticated, match="suspended"):
            await store.principal(claim)

        # A ban with an unblock date: refused until then, then served again.
        banned = await quick_account(runtime, "acme")
        unblock = datetime.now(UTC) + timedelta(seconds=1)
        async with runtime.db.transaction(ALL) as session:
            await session.execute(
                update(User)
                .where(User.id == banned.user_id)
                .values(banned_at=datetime.now(UTC), banned_until=unblock)
            )
        with pytest.raises(Unauthenticated, match="suspended"):
            await store.principal(claimed(runtime, banned))
        await asyncio.sleep((unblock - datetime.now(UTC)).total_seconds() + 0.1)
        assert (await store.principal(claimed(runtime, banned))).user_id == banned.user_id
    finally:
        await store.stop()


async def test_access_events_drop_what_they_name(runtime: Runtime, short_lived: AccessStore) -> None:
    short_lived.ttl_seconds = 60.0
    first = await quick_account(runtime, "acme")
    second = await quick_account(runtime, "acme")
    other = await quick_account(runtime, "globex")
    claims = [claimed(runtime, account) for account in (first, second, other)]
    for claim in claims:
        await short_lived.principal(claim)
    assert short_lived.queries == 3

    async def queries_for(*indexes: int) -> list[int]:
        before = short_lived.queries
        read = []
        for index in indexes:
            await short_lived.principal(claims[index])
            if short_lived.queries > before:
                read.append(index)
                before = short_lived.queries
        return read

    short_lived.forget(AccessChange(sessions=frozenset({claims[0].session_id})))
    assert await queries_for(0, 1, 2) == [0]
    short_lived.forget(AccessChange(users=frozenset({second.user_id})))
    assert await queries_for(0, 1, 2) == [1]
    short_lived.forget(AccessChange(tenants=frozenset({first.tenant_id})))
    assert await queries_for(0, 1, 2) == [0, 1]
    short_lived.flush()
    assert await queries_for(0, 1, 2) == [0, 1, 2]

    # A revoked session and a suspended tenant are held too (until an event or expiry).
    before_refusals = short_lived.queries
    async with runtime.db.transaction(ALL) as session:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id == claims[0].session_id)
            .values(revoked_at=AuthSession.created_at)
        )
        await session.execute(
            update(Tenant).where(Tenant.id == other.tenant_id).values(status=TenantStatus.SUSPENDED)
        )
    short_lived.flush()
    for _ in range(2):
        for index in (0, 2):
            with pytest.raises(Unauthenticated):
                await short_lived.principal(claims[index])
        # Read once, then answered from memory.
        assert short_lived.queries == before_refusals + 2


async def test_a_cache_of_zero_seconds_reads_every_time(runtime: Runtime) -> None:
    store = AccessStore(runtime.db, runtime.broadcast, ttl_seconds=0)
    await store.start()
    try:
        account = await quick_account(runtime, "acme")
        claim = claimed(runtime, account)
        for _ in range(3):
            await store.principal(claim)
        assert store.queries == 3
        assert not store.trusted
    finally:
        await store.stop()


async def test_subscriptions_reading_at_once_share_one_query(runtime: Runtime) -> None:
    store = AccessStore(runtime.db, runtime.broadcast, ttl_seconds=60)
    await store.start()
    try:
        accounts = [await quick_account(runtime, "acme", Role.MANAGER) for _ in range(12)]
        claims = [claimed(runtime, account) for account in accounts]
        with count_statements(runtime.db.engine) as counter:
            principals = await asyncio.gather(*(store.current(claim) for claim in claims))
        assert [p.user_id for p in principals] == [a.user_id for a in accounts]
        assert counter.count == 1, counter.statements
        assert store.queries == 1
    finally:
        await store.stop()
