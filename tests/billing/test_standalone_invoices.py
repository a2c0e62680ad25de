"""Standalone invoices (createInvoice) against real PostgreSQL: lines and totals, validation as
userErrors before any write, who may create, tenant isolation and idempotency."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from core.permissions import Role
from core.scope import TenantScope
from models.base import utcnow
from models.billing import Invoice, InvoiceStatus
from server.runtime import Runtime
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from tests.billing.support import INVOICE_FIELDS, invoice_for, make_order
from tests.support.api_keys import create_client, token_of
from tests.support.graphql import GraphQLClient
from tests.support.identity import quick_account

CREATE = f"""
mutation($input: CreateInvoiceInput!) {{
  createInvoice(input: $input) {{ invoice {{ {INVOICE_FIELDS} }} userErrors {{ field code message }} }}
}}
"""

LINES = [
    {"description": "Consulting", "quantity": 3, "unitAmount": 15000, "taxAmount": 9000},
    {"description": "Travel", "quantity": 1, "unitAmount": 4250},
]


async def invoice_count(runtime: Runtime) -> int:
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        return int(await session.scalar(select(func.count()).select_from(Invoice)) or 0)


def new_input(customer_gid: str, **fields: Any) -> dict[str, Any]:
    return {"input": {"customerId": customer_gid, "currency": "EUR", "lines": LINES, **fields}}


async def test_staff_create_an_issued_invoice_with_lines_and_totals(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme", email="bea@acme.example")
    due = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    data = (
        await gql(CREATE, new_input(buyer.gid, dueAt=due.isoformat(), issue=True), token=staff.token)
    ).ok()
    payload = data["createInvoice"]
    assert payload["userErrors"] == []
    invoice = payload["invoice"]
    assert invoice["status"] == "OPEN" and invoice["issuedAt"] is not None
    assert invoice["customer"] == {"email": "bea@acme.example"}
    assert invoice["subtotal"] == {"amount": 3 * 15000 + 4250, "currency": "EUR"}
    assert invoice["taxTotal"] == {"amount": 9000}
    assert invoice["total"] == {"amount": 45000 + 4250 + 9000, "currency": "EUR"}
    assert invoice["amountDue"] == {"amount": 58250} and invoice["amountPaid"] == {"amount": 0}
    assert invoice["dueAt"].startswith(due.isoformat()[:19])
    assert [
        (x["position"], x["description"], x["quantity"], x["total"]["amount"]) for x in invoice["lines"]
    ] == [
        (1, "Consulting", 3, 54000),
        (2, "Travel", 1, 4250),
    ]

    draft = (await gql(CREATE, new_input(buyer.gid), token=staff.token)).ok()["createInvoice"]["invoice"]
    assert draft["status"] == "DRAFT" and draft["number"] != invoice["number"]


async def test_bad_input_is_reported_as_user_errors_and_nothing_is_written(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    buyer = await quick_account(runtime, "acme")
    past = (utcnow() - timedelta(days=1)).isoformat()
    cases: list[tuple[dict[str, Any], list[tuple[list[str], str]]]] = [
        ({"lines": []}, [(["input", "lines"], "INVALID_LINES")]),
        ({"lines": [LINES[1]] * 101}, [(["input", "lines"], "INVALID_LINES")]),
        (
            {"lines": [{"description": " ", "quantity": 0, "unitAmount": -1, "taxAmount": 10**12 + 1}]},
            [
                (["input", "lines", "0", "description"], "INVALID_LINE_DESCRIPTION"),
                (["input", "lines", "0", "quantity"], "INVALID_LINE_QUANTITY"),
                (["input", "lines", "0", "unitAmount"], "INVALID_LINE_AMOUNT"),
                (["input", "lines", "0", "taxAmount"], "INVALID_LINE_AMOUNT"),
            ],
        ),
        (
            {"lines": [{"description": "x" * 501, "quantity": 10**6 + 1, "unitAmount": 1}]},
            [
                (["input", "lines", "0", "description"], "INVALID_LINE_DESCRIPTION"),
                (["input", "lines", "0", "quantity"], "INVALID_LINE_QUANTITY"),
            ],
        ),
        ({"currency": "XYZ"}, [(["input", "currency"], "INVALID_CURRENCY")]),
        ({"dueAt": past}, [(["input", "dueAt"], "INVALID_DUE_DATE")]),
    ]
    for fields, expected in cases:
        payload = (await gql(CREATE, new_input(buyer.gid, **fields), token=staff.token)).ok()["createInvoice"]
        assert payload["invoice"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == expected, fields
    assert await invoice_count(runtime) == 0


async def test_a_user_is_refused_and_another_tenants_customer_is_not_found(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    stranger = await quick_account(runtime, "globex")

    refused = await gql(CREATE, new_input(buyer.gid), token=buyer.token)
    assert refused.error_codes == ["FORBIDDEN"]

    other = (await gql(CREATE, new_input(stranger.gid), token=staff.token)).ok()["createInvoice"]
    assert other["invoice"] is None
    assert [(e["field"], e["code"]) for e in other["userErrors"]] == [
        (["input", "customerId"], "CUSTOMER_NOT_FOUND")
    ]
    assert await invoice_count(runtime) == 0


async def test_the_idempotency_key_creates_once_and_a_changed_request_conflicts(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    first = (await gql(CREATE, new_input(buyer.gid, idempotencyKey="inv-1"), token=staff.token)).ok()
    again = (await gql(CREATE, new_input(buyer.gid, idempotencyKey="inv-1"), token=staff.token)).ok()
    assert first["createInvoice"]["invoice"]["id"] == again["createInvoice"]["invoice"]["id"]
    assert await invoice_count(runtime) == 1
    changed = await gql(CREATE, new_input(buyer.gid, idempotencyKey="inv-1", issue=True), token=staff.token)
    assert changed.error_codes == ["CONFLICT"] or changed.data["createInvoice"]["userErrors"]
    assert await invoice_count(runtime) == 1


async def test_a_service_principal_needs_the_invoices_write_scope(
    runtime: Runtime, gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    buyer = await quick_account(runtime, "acme")
    admin = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    acting = {"X-Tenant-Id": str(buyer.tenant_id)}
    tokens = {}
    for scopes in (["INVOICES_WRITE"], ["INVOICES_READ"]):
        secret, client = await create_client(gql, admin, scopes)
        tokens[scopes[0]] = str((await token_of(http, client["clientId"], secret))["access_token"])

    created = (
        await gql(CREATE, new_input(buyer.gid, issue=True), token=tokens["INVOICES_WRITE"], headers=acting)
    ).ok()["createInvoice"]
    assert created["userErrors"] == [] and created["invoice"]["total"]["amount"] == 58250

    refused = await gql(CREATE, new_input(buyer.gid), token=tokens["INVOICES_READ"], headers=acting)
    assert refused.error_codes == ["FORBIDDEN"]
    assert await invoice_count(runtime) == 1


BY_ORDER = "query($id: ID!) { invoiceByOrder(orderId: $id) { id number status total { amount } } }"


async def test_invoice_by_order_is_the_latest_non_void_one_for_owner_and_staff_only(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    other_buyer = await quick_account(runtime, "acme")
    stranger_staff = await quick_account(runtime, "globex", Role.MANAGER)
    order = await make_order(runtime, buyer, [("KB-1", "Keyboard", 4999, 2)])

    none_yet = (await gql(BY_ORDER, {"id": order.gid}, token=buyer.token)).ok()
    assert none_yet["invoiceByOrder"] is None

    invoice = await invoice_for(gql, staff, order)
    for account in (buyer, staff):
        found = (await gql(BY_ORDER, {"id": order.gid}, token=account.token)).ok()["invoiceByOrder"]
        assert found == {
            "id": invoice["id"],
            "number": invoice["number"],
            "status": "OPEN",
            "total": {"amount": 9998},
        }
    for account in (other_buyer, stranger_staff):
        hidden = await gql(BY_ORDER, {"id": order.gid}, token=account.token)
        assert hidden.error_codes == ["NOT_FOUND"]

    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        await session.execute(update(Invoice).values(status=InvoiceStatus.VOID))
    voided = (await gql(BY_ORDER, {"id": order.gid}, token=staff.token)).ok()
    assert voided["invoiceByOrder"] is None
