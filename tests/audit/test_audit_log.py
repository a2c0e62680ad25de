"""The audit log against real PostgreSQL: an entry per mutation (in the change's transaction),
failures in their own, REST shim calls, immutability by raw SQL, the query's filters and isolation."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select
from strawberry.relay import GlobalID

from core.permissions import Role
from core.scope import TenantScope
from models.audit import AuditEntry
from models.catalog import Category
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import CLIENT_IP, Account, Identity

CREATE_CATEGORY = """
mutation($input: CreateCategoryInput!) {
  createCategory(input: $input) { category { id } userErrors { code } }
}
"""
UPDATE_CATEGORY = """
mutation($input: UpdateCategoryInput!) {
  updateCategory(input: $input) { category { id name } userErrors { code } }
}
"""
AUDIT_LOG = """
query($filter: AuditLogFilterInput, $first: Int, $after: String) {
  auditLog(filter: $filter, first: $first, after: $after) {
    edges { cursor node {
      tenantId actorKind actorId apiKeyId impersonatorId action targetType targetId outcome
      errorCode userErrorCodes clientIp userAgent correlationId details
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def entries(runtime: Runtime, **where: Any) -> list[AuditEntry]:
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        statement = select(AuditEntry).filter_by(**where).order_by(AuditEntry.created_at, AuditEntry.id)
        return list(await session.scalars(statement))


async def categories(runtime: Runtime, tenant_id: uuid.UUID) -> int:
    async with runtime.db.session(TenantScope.of(tenant_id)) as session:
        return int(await session.scalar(select(func.count()).select_from(Category)) or 0)


@pytest.fixture
async def manager(identity: Identity) -> Account:
    return await identity.account("audit-shop", Role.MANAGER)


async def test_a_mutation_records_one_entry_with_every_field(
    gql: GraphQLClient, runtime: Runtime, manager: Account
) -> None:
    headers = {"X-Correlation-Id": "corr-create-1", "User-Agent": "audit-test/1.0"}
    created = await gql(CREATE_CATEGORY, {"input": {"name": "Tools"}}, token=manager.token, headers=headers)
    category_id = created.ok()["createCategory"]["category"]["id"]
    changed = await gql(
        UPDATE_CATEGORY,
        {"input": {"id": category_id, "name": "Hand tools"}},
        token=manager.token,
        headers=headers,
    )
    assert changed.ok()["updateCategory"]["userErrors"] == []

    (create,) = await entries(runtime, action="createCategory")
    assert (create.tenant_id, create.actor_kind, create.actor_id) == (
        manager.tenant_id,
        "USER",
        manager.user_id,
    )
    assert (create.outcome, create.error_code, create.user_error_codes) == ("SUCCESS", None, [])
    assert (create.client_ip, create.user_agent, create.correlation_id) == (
        CLIENT_IP,
        "audit-test/1.0",
        "corr-create-1",
    )
    assert (create.api_key_id, create.impersonator_id, create.target_type) == (None, None, "Category")
    assert create.target_id == str(uuid.UUID(GlobalID.from_id(category_id).node_id))  # the new row
    (update,) = await entries(runtime, action="updateCategory")
    assert (update.outcome, update.target_type) == ("SUCCESS", "Category")
    raw_id = str(uuid.UUID(update.target_id))  # the global id's node id
    assert raw_id == update.target_id


async def test_a_failed_mutation_writes_its_entry_and_nothing_else(
    gql: GraphQLClient, runtime: Runtime, manager: Account
) -> None:
    first = await gql(CREATE_CATEGORY, {"input": {"name": "Garden", "slug": "garden"}}, token=manager.token)
    assert first.ok()["createCategory"]["userErrors"] == []
    again = await gql(CREATE_CATEGORY, {"input": {"name": "Garden 2", "slug": "garden"}}, token=manager.token)
    codes = [e["code"] for e in again.ok()["createCategory"]["userErrors"]]
    assert codes

    assert await categories(runtime, manager.tenant_id) == 1  # the second one rolled back
    rows = await entries(runtime, action="createCategory")
    assert [(r.outcome, r.user_error_codes) for r in rows] == [("SUCCESS", []), ("USER_ERROR", codes)]
    assert rows[1].actor_id == manager.user_id and rows[1].tenant_id == manager.tenant_id


async def test_refusals_are_recorded_with_their_code(
    gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    customer = await identity.account("audit-shop", Role.USER)
    refused = await gql(CREATE_CATEGORY, {"input": {"name": "Nope"}}, token=customer.token)
    assert refused.error_codes == ["FORBIDDEN"]
    anonymous = await gql(CREATE_CATEGORY, {"input": {"name": "Nope"}})
    assert anonymous.error_codes == ["UNAUTHENTICATED"]

    rows = await entries(runtime, action="createCategory")
    assert [(r.outcome, r.error_code, r.actor_kind, r.actor_id, r.tenant_id) for r in rows] == [
        ("FORBIDDEN", "FORBIDDEN", "USER", customer.user_id, customer.tenant_id),
        ("UNAUTHENTICATED", "UNAUTHENTICATED", "ANONYMOUS", None, None),
    ]
    assert await categories(runtime, customer.tenant_id) == 0


async def test_the_table_refuses_update_and_delete_by_raw_sql(
    gql: GraphQLClient, runtime: Runtime, manager: Account
) -> None:
    await gql(CREATE_CATEGORY, {"input": {"name": "Kept"}}, token=manager.token)
    (row,) = await entries(runtime, action="createCategory")
    dsn = runtime.settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
    raw = await asyncpg.connect(dsn)
    try:
        await raw.execute("SELECT set_config('app.platform_scope', 'on', false)")
        with pytest.raises(asyncpg.PostgresError, match="cannot be changed or deleted"):
            await raw.execute("UPDATE audit_entries SET action = 'forged' WHERE id = $1", row.id)
        with pytest.raises(asyncpg.PostgresError, match="cannot be changed or deleted"):
            await raw.execute("DELETE FROM audit_entries WHERE id = $1", row.id)
        assert (
            await raw.fetchval("SELECT action FROM audit_entries WHERE id = $1", row.id) == "createCategory"
        )
    finally:
        await raw.close()


async def test_auditors_and_admins_read_their_tenant_newest_first(
    gql: GraphQLClient, runtime: Runtime, identity: Identity, manager: Account
) -> None:
    for name in ("One", "Two", "Three"):
        await gql(CREATE_CATEGORY, {"input": {"name": name}}, token=manager.token)
    other = await identity.account("audit-other", Role.MANAGER)
    await gql(CREATE_CATEGORY, {"input": {"name": "Elsewhere"}}, token=other.token)
    auditor = await identity.account("audit-shop", Role.AUDITOR)
    only = {"action": "createCategory"}

    with count_statements(runtime.db.engine) as counted:
        page = (await gql(AUDIT_LOG, {"filter": only, "first": 2}, token=auditor.token)).ok()["auditLog"]
    assert counted.count <= 2  # the session's access state is warm: the page is one statement
    assert [e["node"]["tenantId"] for e in page["edges"]] == [str(manager.tenant_id)] * 2
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await gql(
        AUDIT_LOG, {"filter": only, "first": 2, "after": page["pageInfo"]["endCursor"]}, token=auditor.token
    )
    assert len(rest.ok()["auditLog"]["edges"]) == 1
    assert rest.ok()["auditLog"]["pageInfo"]["hasNextPage"] is False
    newest_first = [
        r.id for r in reversed(await entries(runtime, action="createCategory", tenant_id=manager.tenant_id))
    ]
    assert len(newest_first) == 3

    customer = await identity.account("audit-shop", Role.USER)
    assert (await gql(AUDIT_LOG, {}, token=customer.token)).error_codes == ["FORBIDDEN"]
    foreign = {"tenantId": str(other.tenant_id)}
    assert (await gql(AUDIT_LOG, {"filter": foreign}, token=auditor.token)).error_codes == ["FORBIDDEN"]

    admin = await identity.platform_admin()
    everywhere = (await gql(AUDIT_LOG, {"filter": only}, token=admin.token)).ok()["auditLog"]["edges"]
    assert {e["node"]["tenantId"] for e in everywhere} == {str(manager.tenant_id), str(other.tenant_id)}
    scoped = await gql(
        AUDIT_LOG, {"filter": only}, token=admin.token, headers={"X-Tenant-Id": str(other.tenant_id)}
    )
    assert [e["node"]["tenantId"] for e in scoped.ok()["auditLog"]["edges"]] == [str(other.tenant_id)]


async def test_filters(gql: GraphQLClient, runtime: Runtime, identity: Identity, manager: Account) -> None:
    created = await gql(CREATE_CATEGORY, {"input": {"name": "Filtered"}}, token=manager.token)
    category_id = created.ok()["createCategory"]["category"]["id"]
    await gql(UPDATE_CATEGORY, {"input": {"id": category_id, "name": "F2"}}, token=manager.token)
    customer = await identity.account("audit-shop", Role.USER)
    await gql(CREATE_CATEGORY, {"input": {"name": "Nope"}}, token=customer.token)
    admin = await identity.account("audit-shop", Role.TENANT_ADMIN)
    (update,) = await entries(runtime, action="updateCategory")

    async def actions(**filter: Any) -> list[tuple[str, str]]:
        result = await gql(AUDIT_LOG, {"filter": filter}, token=admin.token)
        return [(e["node"]["action"], e["node"]["outcome"]) for e in result.ok()["auditLog"]["edges"]]

    assert await actions(actor=str(customer.user_id), action="createCategory") == [
        ("createCategory", "FORBIDDEN")
    ]
    assert await actions(outcome="FORBIDDEN") == [("createCategory", "FORBIDDEN")]
    # The category's whole history: its creation names it too.
    assert await actions(targetType="Category", targetId=update.target_id) == [
        ("updateCategory", "SUCCESS"),
        ("createCategory", "SUCCESS"),
    ]
    when = update.created_at.isoformat()
    assert ("updateCategory", "SUCCESS") in await actions(**{"from": when})
    assert ("updateCategory", "SUCCESS") not in await actions(to=when)
    assert (await gql(AUDIT_LOG, {"filter": {"actor": "nope"}}, token=admin.token)).error_codes == [
        "BAD_USER_INPUT"
    ]


async def test_rest_shim_calls_are_recorded(http: httpx.AsyncClient, runtime: Runtime) -> None:
    refused = await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"X-Correlation-Id": "corr-rest-1"}
    )
    assert refused.status_code in (400, 401)
    (row,) = await entries(runtime, action="rest:POST /oauth/token")
    assert row.outcome in ("USER_ERROR", "UNAUTHENTICATED")
    assert (row.correlation_id, row.client_ip, row.actor_kind) == ("corr-rest-1", CLIENT_IP, "ANONYMOUS")
    missing = await http.get(f"/invoices/{uuid.uuid4()}/pdf")
    assert missing.status_code in (401, 404)
    (pdf,) = await entries(runtime, action="rest:GET /invoices/{id}/pdf")
    assert pdf.target_type == "Invoice" and pdf.outcome != "SUCCESS"
