"""Service principals append entries: recordAuditEntry (@serviceOnly) and POST /audit-logs."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from core.permissions import Role
from core.scope import TenantScope
from models.audit import AuditEntry
from server.runtime import Runtime
from tests.support.api_keys import create_client, token_of
from tests.support.graphql import GraphQLClient
from tests.support.identity import Identity

RECORD = """
mutation($input: RecordAuditEntryInput!) {
  recordAuditEntry(input: $input) { entry { tenantId action actorKind actorId targetType targetId details } }
}
"""


async def entries(runtime: Runtime, action: str) -> list[AuditEntry]:
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


async def service_token(
    gql: GraphQLClient, http: httpx.AsyncClient, identity: Identity, scopes: list[str]
) -> str:
    admin = await identity.platform_admin()
    secret, client = await create_client(gql, admin, scopes)
    answer = await token_of(http, client["clientId"], secret)
    return str(answer["access_token"])


async def test_a_service_records_an_entry_by_graphql(
    gql: GraphQLClient, http: httpx.AsyncClient, runtime: Runtime, identity: Identity
) -> None:
    shop = await identity.account("append-shop", Role.USER)
    token = await service_token(gql, http, identity, ["AUDIT_WRITE"])
    variables = {
        "input": {
            "tenantId": str(shop.tenant_id),
            "action": "provisioning:started",
            "targetType": "ProvisioningRequest",
            "targetId": "req-1",
            "actorId": str(shop.user_id),
            "details": {"step": 1},
        }
    }
    entry = (await gql(RECORD, variables, token=token)).ok()["recordAuditEntry"]["entry"]
    assert entry["tenantId"] == str(shop.tenant_id)
    assert (entry["action"], entry["actorKind"], entry["actorId"]) == (
        "provisioning:started",
        "USER",
        str(shop.user_id),
    )
    assert entry["details"]["step"] == 1
    (row,) = await entries(runtime, "provisioning:started")
    assert row.details is not None and row.details["recordedBy"] is not None
    (call,) = await entries(runtime, "recordAuditEntry")  # the call itself, audited too
    assert (call.actor_kind, call.outcome) == ("SERVICE", "SUCCESS")

    user = await gql(RECORD, variables, token=shop.token)
    assert user.error_codes == ["FORBIDDEN"]
    no_scope = await service_token(gql, http, identity, ["ORDERS_READ"])
    assert (await gql(RECORD, variables, token=no_scope)).error_codes == ["FORBIDDEN"]
    assert len(await entries(runtime, "provisioning:started")) == 1


async def test_post_audit_logs(
    gql: GraphQLClient, http: httpx.AsyncClient, runtime: Runtime, identity: Identity
) -> None:
    shop = await identity.account("append-shop", Role.USER)
    token = await service_token(gql, http, identity, ["AUDIT_WRITE"])
    auth = {"Authorization": f"Bearer {token}"}
    body = {"tenantId": str(shop.tenant_id), "action": "notification:sent", "targetId": "n-1"}
    created = await http.post("/audit-logs", json=body, headers=auth)
    assert created.status_code == 201, created.text
    (row,) = await entries(runtime, "notification:sent")
    assert (str(row.id), row.tenant_id, row.target_id) == (created.json()["id"], shop.tenant_id, "n-1")
    rest = await entries(runtime, "rest:POST /audit-logs")
    assert [(r.outcome, r.actor_kind) for r in rest] == [("SUCCESS", "SERVICE")]

    bad = [
        ({"action": "x"}, "tenantId"),
        ({**body, "tenantId": "not-a-uuid"}, "tenantId"),
        ({**body, "action": ""}, "action"),
        ({**body, "outcome": "MAYBE"}, "outcome"),
        ({**body, "details": [1]}, "details"),
    ]
    for wrong, field in bad:
        refused = await http.post("/audit-logs", json=wrong, headers=auth)
        assert refused.status_code == 400, refused.text
        assert (refused.json()["code"], refused.json()["field"]) == ("BAD_USER_INPUT", field)
    not_json = await http.post("/audit-logs", content=b"{nope", headers=auth)
    assert (not_json.status_code, not_json.json()["code"]) == (400, "BAD_USER_INPUT")
    unknown = await http.post("/audit-logs", json={**body, "tenantId": str(uuid.uuid4())}, headers=auth)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "NOT_FOUND")
    anonymous = await http.post("/audit-logs", json=body)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "UNAUTHENTICATED")
    user = await http.post("/audit-logs", json=body, headers={"Authorization": f"Bearer {shop.token}"})
    assert (user.status_code, user.json()["code"]) == (403, "FORBIDDEN")

    assert len(await entries(runtime, "notification:sent")) == 1
    outcomes = [r.outcome for r in await entries(runtime, "rest:POST /audit-logs")]
    assert sorted(outcomes) == sorted(["SUCCESS"] + ["USER_ERROR"] * 7 + ["UNAUTHENTICATED", "FORBIDDEN"])
    # The service's refused bodies are its own: recorded with it as the actor, not as anonymous.
    failed = [r for r in await entries(runtime, "rest:POST /audit-logs") if r.outcome == "USER_ERROR"]
    assert {(r.actor_kind, r.actor_id is not None) for r in failed} == {("SERVICE", True)}
