"""Service clients against real PostgreSQL and Redis: platform admins create (secret shown once,
stored hashed), list, revoke and delete them; POST /oauth/token runs the RFC 6749 section 4.4
client-credentials grant and answers section 5.2 errors for every bad request; the token acts as a
service principal on the service-only operations (void an invoice, confirm an order's payment,
confirm someone else's payment), which tenant admins no longer may do."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import jwt
from sqlalchemy import select

from core.permissions import Role
from core.scope import TenantScope
from models.identity.api_keys import ServiceClient
from models.orders import OrderStatus, OrderStatusChange
from server.runtime import Runtime
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from tests.billing.support import (
    CONFIRM_INTENT,
    VOID_INVOICE,
    add_card,
    invoice_for,
    make_order,
    rows,
    start_payment,
)
from tests.conftest import own_app
from tests.harness.servers import PostgresServer
from tests.support.api_keys import basic, create_client, create_key, refusal, token_of
from tests.support.graphql import GraphQLClient
from tests.support.identity import quick_account

LIST_CLIENTS = """
query($includeRevoked: Boolean!) {
  serviceClients(includeRevoked: $includeRevoked, first: 10) { totalCount nodes { clientId name revokedAt } }
}
"""
REVOKE_CLIENT = """
mutation($input: RevokeServiceClientInput!) {
  revokeServiceClient(input: $input) { serviceClient { revokedAt revokeReason } userErrors { code } }
}
"""
DELETE_CLIENT = """
mutation($input: DeleteServiceClientInput!) {
  deleteServiceClient(input: $input) { deletedId userErrors { code } }
}
"""
CONFIRM_ORDER_PAYMENT = """
mutation($input: OrderTransitionInput!) {
  confirmPayment(input: $input) { order { status } userErrors { code } }
}
"""


async def post_token(
    http: httpx.AsyncClient, form: dict[str, str] | str, headers: dict[str, str] | None = None
) -> httpx.Response:
    if isinstance(form, str):
        headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return await http.post("/oauth/token", content=form, headers=headers)
    return await http.post("/oauth/token", data=form, headers=headers)


def oauth_error(response: httpx.Response) -> tuple[int, str]:
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "error_description"}, body
    assert response.headers["cache-control"] == "no-store"
    return response.status_code, body["error"]


async def test_platform_admins_create_clients_whose_secret_is_shown_once(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    secret, client = await create_client(gql, admin, ["INVOICES_VOID", "PAYMENTS_PROCESS"])
    assert secret.startswith("tgs_") and client["clientId"].startswith("tgc_")
    assert client["scopes"] == ["INVOICES_VOID", "PAYMENTS_PROCESS"] and client["lastTokenAt"] is None
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        (row,) = list(await session.scalars(select(ServiceClient)))
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in repr(vars(row))
    # Tenant admins, and API keys even of a platform admin, do not manage clients.
    tenant_admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    assert (await gql(LIST_CLIENTS, {"includeRevoked": False}, token=tenant_admin.token)).error_codes == [
        "FORBIDDEN"
    ]
    key, _ = await create_key(gql, admin, scopes=["USERS_READ"])
    by_key = await gql(LIST_CLIENTS, {"includeRevoked": False}, token=key)
    assert refusal(by_key) == (200, "FORBIDDEN", "SESSION_REQUIRED")
    bad = await gql(
        'mutation { createServiceClient(input: {name: " ", scopes: []}) { userErrors { field code } } }',
        token=admin.token,
    )
    assert sorted(e["code"] for e in bad.ok()["createServiceClient"]["userErrors"]) == [
        "REQUIRED",
        "REQUIRED",
    ]


async def test_the_client_credentials_grant(
    runtime: Runtime, gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    admin = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    secret, client = await create_client(gql, admin, ["INVOICES_VOID", "PAYMENTS_PROCESS"])
    answer = await token_of(http, client["clientId"], secret)
    assert set(answer) == {"access_token", "token_type", "expires_in", "scope"}
    assert (answer["token_type"], answer["expires_in"], answer["scope"]) == (
        "Bearer",
        3600,
        "invoices:void payments:process",
    )
    claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
    assert claims["kind"] == "SERVICE" and claims["client_id"] == client["clientId"] and claims["roles"] == []
    # Credentials in the body work too, and a narrower scope is granted as asked.
    form = {
        "grant_type": "client_credentials",
        "client_id": client["clientId"],
        "client_secret": secret,
        "scope": "invoices:void",
    }
    narrowed = await post_token(http, form)
    assert narrowed.status_code == 200 and narrowed.json()["scope"] == "invoices:void"
    assert narrowed.headers["cache-control"] == "no-store" and narrowed.headers["pragma"] == "no-cache"
    listed = (await gql(LIST_CLIENTS, {"includeRevoked": False}, token=admin.token)).ok()["serviceClients"]
    assert listed["totalCount"] == 1 and listed["nodes"][0]["clientId"] == client["clientId"]


async def test_every_bad_token_request_gets_its_rfc_6749_error(
    runtime: Runtime, gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    admin = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    secret, client = await create_client(gql, admin, ["INVOICES_VOID"])
    cid = client["clientId"]
    grant = {"grant_type": "client_credentials"}
    cases: list[tuple[dict[str, str] | str, dict[str, str] | None, tuple[int, str]]] = [
        ({"grant_type": "password"}, basic(cid, secret), (400, "unsupported_grant_type")),
        ({}, basic(cid, secret), (400, "invalid_request")),
        (grant, basic(cid, "tgs_wrong"), (401, "invalid_client")),
        (grant, basic("tgc_nobody", secret), (401, "invalid_client")),
        (grant, None, (401, "invalid_client")),
        ({**grant, "client_id": cid}, None, (401, "invalid_client")),
        ({**grant, "scope": "invoices:void payments:process"}, basic(cid, secret), (400, "invalid_scope")),
        ({**grant, "scope": "nonsense"}, basic(cid, secret), (400, "invalid_scope")),
        ({**grant, "client_id": cid, "client_secret": secret}, basic(cid, secret), (400, "invalid_request")),
        ({**grant, "username": "x"}, basic(cid, secret), (400, "invalid_request")),
        (
            "grant_type=client_credentials&grant_type=client_credentials",
            basic(cid, secret),
            (400, "invalid_request"),
        ),
        ("grant_type=client_credentials&%ff=1", basic(cid, secret), (400, "invalid_request")),
        ("\u00e9=1", basic(cid, secret), (400, "invalid_request")),
        (grant, {"Authorization": "Basic !!!"}, (401, "invalid_client")),
        (
            grant,
            {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
            (401, "invalid_client"),
        ),
        (grant, {"Authorization": "Bearer something"}, (401, "invalid_client")),
    ]
    for form, headers, expected in cases:
        response = await post_token(http, form, headers)
        assert oauth_error(response) == expected, (form, headers, response.text)
        if expected[0] == 401:
            assert response.headers["www-authenticate"] == 'Basic realm="tenantgraph"'
    as_json = await http.post("/oauth/token", json=grant, headers=basic(cid, secret))
    assert oauth_error(as_json) == (400, "invalid_request")
    too_big = await post_token(http, "grant_type=client_credentials&x=" + "a" * 5000, basic(cid, secret))
    assert oauth_error(too_big) == (400, "invalid_request")
    assert (await http.get("/oauth/token")).status_code == 405


async def test_too_many_token_attempts_are_slowed_down(postgres: PostgresServer) -> None:
    async with own_app(postgres.url, auth_rate_limit_per_account=2) as (_, http):
        for _ in range(2):
            response = await post_token(http, {"grant_type": "client_credentials"}, basic("tgc_x", "tgs_y"))
            assert oauth_error(response) == (401, "invalid_client")
        limited = await post_token(http, {"grant_type": "client_credentials"}, basic("tgc_x", "tgs_y"))
        assert oauth_error(limited) == (429, "slow_down") and int(limited.headers["retry-after"]) > 0


async def test_service_tokens_run_the_service_only_operations(
    runtime: Runtime, gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    tenant_admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    manager = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    secret, client = await create_client(
        gql, platform, ["INVOICES_VOID", "PAYMENTS_PROCESS", "PAYMENTS_WRITE"]
    )
    token = (await token_of(http, client["clientId"], secret))["access_token"]
    void_only = (await token_of(http, client["clientId"], secret, "invoices:void"))["access_token"]

    invoice = await invoice_for(gql, manager, await make_order(runtime, buyer))
    by_admin = await gql(VOID_INVOICE, {"input": {"id": invoice["id"]}}, token=tenant_admin.token)
    assert refusal(by_admin) == (200, "FORBIDDEN", "SERVICE_ONLY")
    voided = (await gql(VOID_INVOICE, {"input": {"id": invoice["id"]}}, token=void_only)).ok()["voidInvoice"]
    assert voided["invoice"]["status"] == "VOID"

    order = await make_order(runtime, buyer)
    confirm = {"input": {"id": order.gid}}
    assert refusal(await gql(CONFIRM_ORDER_PAYMENT, confirm, token=tenant_admin.token))[1:] == (
        "FORBIDDEN",
        "SERVICE_ONLY",
    )
    no_scope = await gql(CONFIRM_ORDER_PAYMENT, confirm, token=void_only)
    assert refusal(no_scope) == (200, "FORBIDDEN", "INSUFFICIENT_SCOPE")
    paid = (await gql(CONFIRM_ORDER_PAYMENT, confirm, token=token)).ok()["confirmPayment"]
    assert paid["order"]["status"] == "PAID"
    (change,) = await rows(runtime, OrderStatusChange, OrderStatusChange.to_status == OrderStatus.PAID)
    assert (change.actor, change.actor_user_id) == ("service", None)
    # Platform admins still may (acting in the tenant or across tenants).
    other = await make_order(runtime, buyer)
    assert (await gql(CONFIRM_ORDER_PAYMENT, {"input": {"id": other.gid}}, token=platform.token)).ok()[
        "confirmPayment"
    ]["order"]["status"] == "PAID"

    # Someone else's payment: confirmed by a service principal, no longer by a tenant admin.
    payable = await invoice_for(gql, manager, await make_order(runtime, buyer))
    await add_card(gql, buyer)
    payment = await start_payment(gql, buyer, payable["id"])
    refused = await gql(CONFIRM_INTENT, {"input": {"paymentId": payment["id"]}}, token=tenant_admin.token)
    assert refused.error_codes == ["FORBIDDEN"]
    confirmed = (await gql(CONFIRM_INTENT, {"input": {"paymentId": payment["id"]}}, token=token)).ok()
    assert confirmed["confirmPaymentIntent"]["payment"]["status"] == "SUCCEEDED"
    # Fields without @hasScope or @serviceOnly stay closed to service tokens.
    assert refusal(await gql("{ me { email } }", token=token)) == (200, "FORBIDDEN", "INSUFFICIENT_SCOPE")
    assert refusal(await gql("{ apiKeys { totalCount } }", token=token))[2] == "SESSION_REQUIRED"


async def test_a_revoked_or_deleted_client_is_refused_from_the_next_request_on(
    runtime: Runtime, gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    manager = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    invoice = await invoice_for(gql, manager, await make_order(runtime, buyer))
    void = {"input": {"id": invoice["id"]}}
    listing = "{ invoices(first: 1) { totalCount } }"
    secret, client = await create_client(gql, platform, ["INVOICES_VOID", "INVOICES_READ"])
    token = (await token_of(http, client["clientId"], secret))["access_token"]
    (await gql(listing, token=token)).ok()

    revoked = (
        await gql(REVOKE_CLIENT, {"input": {"id": client["id"], "reason": "rotated"}}, token=platform.token)
    ).ok()["revokeServiceClient"]
    assert revoked["serviceClient"]["revokeReason"] == "rotated"
    refused = await gql(VOID_INVOICE, void, token=token)
    assert refusal(refused) == (401, "UNAUTHENTICATED", "SERVICE_CLIENT_REVOKED")
    again = (await gql(REVOKE_CLIENT, {"input": {"id": client["id"]}}, token=platform.token)).ok()
    assert [e["code"] for e in again["revokeServiceClient"]["userErrors"]] == ["ALREADY_REVOKED"]
    response = await post_token(http, {"grant_type": "client_credentials"}, basic(client["clientId"], secret))
    assert oauth_error(response) == (401, "invalid_client")
    listed = (await gql(LIST_CLIENTS, {"includeRevoked": False}, token=platform.token)).ok()
    assert listed["serviceClients"]["totalCount"] == 0
    with_revoked = (await gql(LIST_CLIENTS, {"includeRevoked": True}, token=platform.token)).ok()
    assert with_revoked["serviceClients"]["totalCount"] == 1

    secret, other = await create_client(gql, platform, ["INVOICES_READ"])
    token = (await token_of(http, other["clientId"], secret))["access_token"]
    (await gql(listing, token=token)).ok()
    deleted = (await gql(DELETE_CLIENT, {"input": {"id": other["id"]}}, token=platform.token)).ok()
    assert deleted["deleteServiceClient"]["deletedId"] == other["id"]
    assert refusal(await gql(listing, token=token)) == (401, "UNAUTHENTICATED", "SERVICE_CLIENT_REVOKED")
    gone = await gql(DELETE_CLIENT, {"input": {"id": other["id"]}}, token=platform.token)
    assert gone.error_codes == ["NOT_FOUND"]
