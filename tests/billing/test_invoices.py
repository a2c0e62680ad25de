"""Invoices against real PostgreSQL: creation from an order (lines, tax, totals), gapless numbers
under concurrency, the life cycle (issue, void, overdue), who sees what, lookup by number,
statistics, and the SQL statement count of the invoices connection."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from core.permissions import Role
from core.scope import TenantScope
from models.base import utcnow
from models.billing import Invoice, InvoiceStatus
from models.events import OutboxEvent
from models.orders import OrderStatus
from server.runtime import Runtime
from services.billing.invoices import LineSpec, mark_overdue_invoices, new_invoice
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from services.orders import pricing
from tests.billing.support import (
    CREATE_INVOICE,
    ISSUE_INVOICE,
    VOID_INVOICE,
    gid,
    invoice_for,
    make_order,
    pay,
    raw_id,
    rows,
)
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import quick_account

YEAR = datetime.now(UTC).year


async def test_an_invoice_copies_the_order_items_with_their_tax_discount_and_totals(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme", email="ada@acme.example")
    order = await make_order(
        runtime,
        buyer,
        [("KB-1", "Keyboard", 4999, 2), ("MS-2", "Mouse", 1999, 1)],
        discount=pricing.Discount(percent_bps=1000),
        tax_rate_bps=2000,
        shipping=500,
    )

    created = await gql(CREATE_INVOICE, {"input": {"orderId": order.gid}}, token=staff.token)
    invoice = created.ok()["createInvoiceForOrder"]["invoice"]

    assert invoice["number"] == f"INV-{YEAR}-000001"
    assert invoice["status"] == "DRAFT" and invoice["issuedAt"] is None
    assert invoice["customer"] == {"email": "ada@acme.example"}
    # 2 x 49.99 + 19.99 = 119.97; 10 % off = 11.997 -> 12.00 (half to even); tax 20 % of 107.97
    # = 21.594 -> 21.59; shipping 5.00; total 134.56 = the order's.
    assert (order.subtotal, order.discount, order.tax, order.total) == (11997, 1200, 2159, 13456)
    assert invoice["total"] == {"amount": 13456, "currency": "EUR"}
    assert invoice["subtotal"]["amount"] == 11997 - 1200 + 500
    assert invoice["taxTotal"]["amount"] == 2159
    assert invoice["amountDue"]["amount"] == 13456 and invoice["amountPaid"]["amount"] == 0
    lines = invoice["lines"]
    assert [(line["description"], line["quantity"], line["unitAmount"]["amount"]) for line in lines] == [
        ("Keyboard (KB-1)", 2, 4999),
        ("Mouse (MS-2)", 1, 1999),
        ("Shipping", 1, 500),
    ]
    assert [line["total"]["amount"] for line in lines[:2]] == list(order.item_totals)
    assert sum(line["discount"]["amount"] for line in lines) == 1200
    assert sum(line["tax"]["amount"] for line in lines) == 2159
    assert sum(line["total"]["amount"] for line in lines) == 13456
    assert invoice["pdfUrl"] == f"/invoices/{raw_id(invoice['id'])}/pdf"

    issued = (await gql(ISSUE_INVOICE, {"input": {"id": invoice["id"]}}, token=staff.token)).ok()
    opened = issued["issueInvoice"]["invoice"]
    assert opened["status"] == "OPEN" and opened["issuedAt"] is not None
    assert datetime.fromisoformat(opened["dueAt"]) > datetime.fromisoformat(opened["issuedAt"])
    again = (await gql(ISSUE_INVOICE, {"input": {"id": invoice["id"]}}, token=staff.token)).ok()
    assert [e["code"] for e in again["issueInvoice"]["userErrors"]] == ["INVALID_TRANSITION"]

    twice = (await gql(CREATE_INVOICE, {"input": {"orderId": order.gid}}, token=staff.token)).ok()
    assert twice["createInvoiceForOrder"]["userErrors"] == [
        {
            "field": ["input", "orderId"],
            "code": "ORDER_ALREADY_INVOICED",
            "message": f"This order already has invoice INV-{YEAR}-000001.",
        }
    ]
    events = await rows(
        runtime, OutboxEvent, OutboxEvent.topic == "invoice.status_changed", order_by=OutboxEvent.seq
    )
    assert [(e.payload["from"], e.payload["to"]) for e in events] == [(None, "DRAFT"), ("DRAFT", "OPEN")]


async def test_who_may_create_and_which_orders(runtime: Runtime, gql: GraphQLClient) -> None:
    staff = await quick_account(runtime, "acme", Role.SUPPORT_AGENT)
    buyer = await quick_account(runtime, "acme")
    order = await make_order(runtime, buyer)
    cancelled = await make_order(runtime, buyer, status=OrderStatus.CANCELLED)

    by_buyer = await gql(CREATE_INVOICE, {"input": {"orderId": order.gid}}, token=buyer.token)
    assert by_buyer.error_codes == ["FORBIDDEN"]
    result = (await gql(CREATE_INVOICE, {"input": {"orderId": cancelled.gid}}, token=staff.token)).ok()
    assert [e["code"] for e in result["createInvoiceForOrder"]["userErrors"]] == ["ORDER_CANCELLED"]
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    result = (
        await gql(CREATE_INVOICE, {"input": {"orderId": order.gid, "dueAt": past}}, token=staff.token)
    ).ok()
    assert [e["code"] for e in result["createInvoiceForOrder"]["userErrors"]] == ["INVALID_DUE_DATE"]
    unknown = await gql(CREATE_INVOICE, {"input": {"orderId": gid("Order", uuid.uuid4())}}, token=staff.token)
    assert unknown.error_codes == ["NOT_FOUND"]
    # Another tenant's staff cannot invoice this tenant's order: it does not exist for them.
    other_staff = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    foreign = await gql(CREATE_INVOICE, {"input": {"orderId": order.gid}}, token=other_staff.token)
    assert foreign.error_codes == ["NOT_FOUND"]
    assert await rows(runtime, Invoice) == []


async def test_twenty_concurrent_invoices_get_the_numbers_one_to_twenty(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    orders = [await make_order(runtime, buyer, [("S", "Thing", 100 + n, 1)]) for n in range(20)]

    results = await asyncio.gather(
        *(
            gql(CREATE_INVOICE, {"input": {"orderId": o.gid, "issue": True}}, token=staff.token)
            for o in orders
        )
    )

    numbers = [r.ok()["createInvoiceForOrder"]["invoice"]["number"] for r in results]
    assert sorted(numbers) == [f"INV-{YEAR}-{n:06d}" for n in range(1, 21)]
    assert all(r.ok()["createInvoiceForOrder"]["invoice"]["status"] == "OPEN" for r in results)
    # Each number went with its own order's amount.
    by_total = {r.ok()["createInvoiceForOrder"]["invoice"]["total"]["amount"] for r in results}
    assert by_total == {100 + n for n in range(20)}
    # Another tenant counts on its own.
    other_staff = await quick_account(runtime, "globex", Role.MANAGER)
    other_order = await make_order(runtime, await quick_account(runtime, "globex"))
    other = await invoice_for(gql, other_staff, other_order)
    assert other["number"] == f"INV-{YEAR}-000001"


async def test_void_is_service_only_and_never_for_paid_invoices(runtime: Runtime, gql: GraphQLClient) -> None:
    """Voiding is service-only (tests/identity/test_service_clients.py voids with a service token):
    platform admins may, tenant admins no longer stand in."""
    manager = await quick_account(runtime, "acme", Role.MANAGER)
    tenant_admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    admin = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    buyer = await quick_account(runtime, "acme")
    first = await invoice_for(gql, manager, await make_order(runtime, buyer))
    paid = await invoice_for(gql, manager, await make_order(runtime, buyer))

    for account in (manager, tenant_admin):
        refused_to_staff = await gql(VOID_INVOICE, {"input": {"id": first["id"]}}, token=account.token)
        assert refused_to_staff.error_codes == ["FORBIDDEN"]
    voided = (await gql(VOID_INVOICE, {"input": {"id": first["id"]}}, token=admin.token)).ok()["voidInvoice"]
    assert voided["invoice"]["status"] == "VOID" and voided["invoice"]["voidedAt"] is not None
    again = (await gql(VOID_INVOICE, {"input": {"id": first["id"]}}, token=admin.token)).ok()["voidInvoice"]
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_TRANSITION"]

    # Paid through the in-process provider of this (embedded-style) app.
    payment = await pay(gql, buyer, paid["id"])
    assert payment["status"] == "SUCCEEDED" and payment["invoice"]["status"] == "PAID"
    refused = (await gql(VOID_INVOICE, {"input": {"id": paid["id"]}}, token=admin.token)).ok()["voidInvoice"]
    assert refused["userErrors"][0]["code"] == "INVALID_TRANSITION"
    assert "refund it instead" in refused["userErrors"][0]["message"]
    (stored,) = await rows(runtime, Invoice, Invoice.id == raw_id(paid["id"]))
    assert stored.status == InvoiceStatus.PAID and stored.voided_at is None
    # A voided order invoice no longer blocks a new invoice for the order; its number is kept.
    (voided_row,) = await rows(runtime, Invoice, Invoice.id == raw_id(first["id"]))
    assert voided_row.number == f"INV-{YEAR}-000001"


OVERDUE = """
query { overdueInvoices(first: 10) { totalCount nodes { number status } } }
"""
MARK_OVERDUE = "mutation { markOverdueInvoices { count userErrors { code } } }"


async def test_overdue_invoices_and_the_job_that_marks_them(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    buyer = await quick_account(runtime, "acme")
    late = await invoice_for(gql, admin, await make_order(runtime, buyer))
    on_time = await invoice_for(gql, admin, await make_order(runtime, buyer))
    draft = await invoice_for(gql, admin, await make_order(runtime, buyer), issue=False)
    other_admin = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    foreign = await invoice_for(
        gql, other_admin, await make_order(runtime, await quick_account(runtime, "globex"))
    )
    yesterday = utcnow() - timedelta(days=1)
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        await session.execute(
            update(Invoice)
            .where(Invoice.id.in_([raw_id(late["id"]), raw_id(draft["id"]), raw_id(foreign["id"])]))
            .values(due_at=yesterday)
        )

    listed = (await gql(OVERDUE, token=admin.token)).ok()["overdueInvoices"]
    assert listed["totalCount"] == 1 and listed["nodes"][0]["number"] == late["number"]
    assert (await gql(OVERDUE, token=buyer.token)).ok()["overdueInvoices"]["totalCount"] == 1
    assert (await gql(MARK_OVERDUE, token=buyer.token)).error_codes == ["FORBIDDEN"]

    # The job (every tenant), seen from a moment after the due dates: only OPEN invoices move.
    assert await mark_overdue_invoices(runtime.db, now=utcnow()) == 2
    assert await mark_overdue_invoices(runtime.db, now=utcnow()) == 0
    statuses = {i.id: i.status for i in await rows(runtime, Invoice)}
    assert statuses == {
        raw_id(late["id"]): InvoiceStatus.OVERDUE,
        raw_id(on_time["id"]): InvoiceStatus.OPEN,
        raw_id(draft["id"]): InvoiceStatus.DRAFT,
        raw_id(foreign["id"]): InvoiceStatus.OVERDUE,
    }
    listed = (await gql(OVERDUE, token=admin.token)).ok()["overdueInvoices"]
    assert listed["nodes"] == [{"number": late["number"], "status": "OVERDUE"}]

    # The admin mutation: only the caller's tenant.
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        await session.execute(
            update(Invoice).where(Invoice.id == raw_id(on_time["id"])).values(due_at=yesterday)
        )
    marked = (await gql(MARK_OVERDUE, token=admin.token)).ok()["markOverdueInvoices"]
    assert marked["userErrors"] == [] and marked["count"] in (0, 1)  # the app's own job may be first
    (row,) = await rows(runtime, Invoice, Invoice.id == raw_id(on_time["id"]))
    assert row.status == InvoiceStatus.OVERDUE


INVOICES = """
query($filter: InvoiceFilterInput, $orderBy: InvoiceOrderInput, $first: Int, $after: String) {
  invoices(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id number status total { amount currency } customer { email } }
  }
}
"""
INVOICE = "query($id: ID!) { invoice(id: $id) { number customer { email } } }"
BY_NUMBER = "query($n: String!) { invoiceByNumber(number: $n) { id number } }"
NODE = "query($id: ID!) { node(id: $id) { ... on Invoice { number } } }"


async def test_owners_see_their_invoices_staff_see_all_others_nothing(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.SUPPORT_AGENT)
    ada = await quick_account(runtime, "acme", email="ada@acme.example")
    bob = await quick_account(runtime, "acme", email="bob@acme.example")
    adas = [
        await invoice_for(gql, staff, await make_order(runtime, ada, [("A", "A", 100 * n, 1)]))
        for n in (1, 2, 3)
    ]
    bobs = await invoice_for(gql, staff, await make_order(runtime, bob))
    stranger = await quick_account(runtime, "globex", Role.TENANT_ADMIN)

    mine = (await gql(INVOICES, {"first": 2}, token=ada.token)).ok()["invoices"]
    assert mine["totalCount"] == 3 and mine["pageInfo"]["hasNextPage"] is True
    rest = (await gql(INVOICES, {"first": 2, "after": mine["pageInfo"]["endCursor"]}, token=ada.token)).ok()
    assert [n["number"] for n in mine["nodes"] + rest["invoices"]["nodes"]] == [i["number"] for i in adas]
    everyone = (
        await gql(INVOICES, {"orderBy": {"field": "TOTAL", "direction": "DESC"}}, token=staff.token)
    ).ok()
    assert [n["total"]["amount"] for n in everyone["invoices"]["nodes"]] == [1000, 300, 200, 100]
    filtered = (await gql(INVOICES, {"filter": {"customerId": bob.gid}}, token=staff.token)).ok()["invoices"]
    assert [n["customer"]["email"] for n in filtered["nodes"]] == ["bob@acme.example"]
    assert (await gql(INVOICES, token=stranger.token)).ok()["invoices"]["totalCount"] == 0

    assert (await gql(INVOICE, {"id": adas[0]["id"]}, token=ada.token)).ok()["invoice"]["number"] == adas[0][
        "number"
    ]
    assert (await gql(INVOICE, {"id": bobs["id"]}, token=staff.token)).ok()["invoice"]["customer"] == {
        "email": "bob@acme.example"
    }
    hidden = await gql(INVOICE, {"id": bobs["id"]}, token=ada.token)
    random = await gql(INVOICE, {"id": gid("Invoice", uuid.uuid4())}, token=ada.token)
    foreign = await gql(INVOICE, {"id": bobs["id"]}, token=stranger.token)
    assert hidden.error_codes == random.error_codes == foreign.error_codes == ["NOT_FOUND"]
    assert hidden.errors[0]["message"] == random.errors[0]["message"] == foreign.errors[0]["message"]
    assert (await gql(NODE, {"id": bobs["id"]}, token=ada.token)).error_codes == ["NOT_FOUND"]
    assert (await gql(NODE, {"id": bobs["id"]}, token=bob.token)).ok()["node"]["number"] == bobs["number"]

    found = (await gql(BY_NUMBER, {"n": bobs["number"].lower()}, token=bob.token)).ok()["invoiceByNumber"]
    assert found == {"id": bobs["id"], "number": bobs["number"]}
    assert (await gql(BY_NUMBER, {"n": bobs["number"]}, token=ada.token)).error_codes == ["NOT_FOUND"]
    assert (await gql(BY_NUMBER, {"n": bobs["number"]}, token=stranger.token)).error_codes == ["NOT_FOUND"]
    assert (await gql(INVOICES)).error_codes == ["UNAUTHENTICATED"]


STATISTICS = """
query {
  invoiceStatistics {
    count byStatus { status currency count total { amount currency } amountPaid { amount } }
  }
}
"""


async def test_statistics_count_and_sum_per_status_and_currency(runtime: Runtime, gql: GraphQLClient) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    await invoice_for(gql, staff, await make_order(runtime, buyer, [("A", "A", 1000, 1)]))
    await invoice_for(gql, staff, await make_order(runtime, buyer, [("A", "A", 2500, 2)]))
    await invoice_for(gql, staff, await make_order(runtime, buyer, [("A", "A", 700, 1)], currency="USD"))
    paid = await invoice_for(
        gql, staff, await make_order(runtime, buyer, [("A", "A", 300, 1)], currency="USD")
    )
    await pay(gql, buyer, paid["id"])
    await invoice_for(gql, staff, await make_order(runtime, buyer, [("A", "A", 999, 1)]), issue=False)
    other = await quick_account(runtime, "globex", Role.MANAGER)
    await invoice_for(gql, other, await make_order(runtime, await quick_account(runtime, "globex")))

    stats = (await gql(STATISTICS, token=staff.token)).ok()["invoiceStatistics"]
    assert stats["count"] == 5
    assert stats["byStatus"] == [
        {
            "status": "DRAFT",
            "currency": "EUR",
            "count": 1,
            "total": {"amount": 999, "currency": "EUR"},
            "amountPaid": {"amount": 0},
        },
        {
            "status": "OPEN",
            "currency": "EUR",
            "count": 2,
            "total": {"amount": 6000, "currency": "EUR"},
            "amountPaid": {"amount": 0},
        },
        {
            "status": "OPEN",
            "currency": "USD",
            "count": 1,
            "total": {"amount": 700, "currency": "USD"},
            "amountPaid": {"amount": 0},
        },
        {
            "status": "PAID",
            "currency": "USD",
            "count": 1,
            "total": {"amount": 300, "currency": "USD"},
            "amountPaid": {"amount": 300},
        },
    ]
    assert (await gql(STATISTICS, token=buyer.token)).error_codes == ["FORBIDDEN"]


LIST_WITH_RELATIONS = """
query($first: Int) { invoices(first: $first) { nodes { number lines { description } customer { email } } } }
"""


async def test_the_invoices_connection_costs_the_same_statements_for_5_and_50_rows(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyers = [await quick_account(runtime, "acme", email=f"buyer{n}@acme.example") for n in range(5)]
    async with runtime.db.transaction(TenantScope.of(staff.tenant_id)) as session:
        for n in range(50):
            await new_invoice(
                session,
                tenant_id=staff.tenant_id,
                customer_id=buyers[n % 5].user_id,
                currency="EUR",
                lines=[LineSpec(f"Line {n}-{k}", 1, 100) for k in range(3)],
                issue=True,
            )

    counts = {}
    await gql.warm(staff.token)
    for first in (5, 50):
        with count_statements(runtime.db.engine) as counter:
            nodes = (await gql(LIST_WITH_RELATIONS, {"first": first}, token=staff.token)).ok()["invoices"][
                "nodes"
            ]
        assert len(nodes) == first
        assert all(
            len(n["lines"]) == 3 and re.match(r"buyer\d+@acme\.example", n["customer"]["email"])
            for n in nodes
        )
        counts[first] = counter.count
    assert counts[5] == counts[50], counts
    assert counts[5] <= 8, counts
