"""Usage billing (services/billing/usage_billing.py): unbilled usage becomes one invoice per
customer, period and currency through new_invoice, exactly once: re-runs and concurrent runs
(asyncio.gather against PostgreSQL) bill nothing twice; a billed period is closed; the billing job
bills ended periods; who may run billUsage; tenant isolation."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import func, select

from core.permissions import Role
from core.scope import TenantScope
from models.billing import Invoice, InvoiceLine, InvoiceStatus
from models.usage import UsageBill, UsageRecord
from server.runtime import Runtime
from services.billing.jobs import BillingJobs
from services.billing.usage import period_of
from services.billing.usage_billing import bill_usage
from tests.billing.test_usage import LIST, now, priced_tenant, record
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, quick_account

ALL = TenantScope.all_tenants()
BILL = """
mutation($input: BillUsageInput!) {
  billUsage(input: $input) {
    billedRecords userErrors { field code message }
    invoices {
      status currency total { amount } customer { id } lines { description quantity total { amount } }
    }
  }
}
"""


def last_month() -> datetime:
    return now().replace(day=1, hour=12, minute=0, second=0) - timedelta(days=3)


async def usage_of_last_month(
    runtime: Runtime, gql: GraphQLClient, slug: str = "meter"
) -> tuple[Account, list[Account]]:
    staff, _ = await priced_tenant(runtime, gql, slug)
    a = await quick_account(runtime, slug)
    b = await quick_account(runtime, slug)
    at = last_month()
    for event, who, metric, quantity in (
        ("a1", a, "api_calls", 120),
        ("a2", a, "api_calls", 30),
        ("a3", a, "gb", 3),
        ("b1", b, "support", 1),
        ("b2", b, "gb", 4),
    ):
        done = await record(
            gql,
            staff.token,
            who,
            f"{slug}-{event}",
            metric=metric,
            quantity=quantity,
            occurredAt=at.isoformat(),
        )
        assert done["userErrors"] == [], done
    # this month's usage is not billed by the job (its period has not ended)
    assert (await record(gql, staff.token, a, f"{slug}-now", metric="gb", quantity=1))["userErrors"] == []
    return staff, [a, b]


async def counts(runtime: Runtime) -> tuple[int, int, int]:
    async with runtime.db.session(ALL) as session:
        invoices = await session.scalar(select(func.count()).select_from(Invoice))
        bills = await session.scalar(select(func.count()).select_from(UsageBill))
        billed = await session.scalar(
            select(func.count()).select_from(UsageRecord).where(UsageRecord.invoice_id.is_not(None))
        )
    return int(invoices or 0), int(bills or 0), int(billed or 0)


async def test_bill_usage_makes_one_invoice_per_customer_once(runtime: Runtime, gql: GraphQLClient) -> None:
    staff, (a, b) = await usage_of_last_month(runtime, gql)
    admin = await quick_account(runtime, "meter", Role.TENANT_ADMIN)
    period = period_of(last_month())
    assert (await gql(BILL, {"input": {"period": period}}, token=staff.token)).error_codes == [
        "FORBIDDEN"
    ]  # a manager
    assert (await gql(BILL, {"input": {"period": period}}, token=a.token)).error_codes == ["FORBIDDEN"]

    done = (await gql(BILL, {"input": {"period": period}}, token=admin.token)).ok()["billUsage"]
    assert done["userErrors"] == [] and done["billedRecords"] == 5
    by_customer = {i["customer"]["id"]: i for i in done["invoices"]}
    of_a, of_b = by_customer[a.gid], by_customer[b.gid]
    assert of_a["status"] == "OPEN" and of_a["currency"] == "EUR"
    assert [(line["description"], line["total"]["amount"]) for line in of_a["lines"]] == [
        ("Usage api_calls: 150 units (TIERED)", 1250),
        ("Usage gb: 3 units (PER_UNIT)", 2),
    ]
    assert of_a["total"] == {"amount": 1252}
    assert [(line["description"], line["total"]["amount"]) for line in of_b["lines"]] == [
        ("Usage gb: 4 units (PER_UNIT)", 2),
        ("Usage support: 1 units (FLAT)", 1500),
    ]
    assert await counts(runtime) == (2, 2, 5)

    again = (await gql(BILL, {"input": {"period": period}}, token=admin.token)).ok()["billUsage"]
    assert again == {"billedRecords": 0, "userErrors": [], "invoices": []}
    assert await counts(runtime) == (2, 2, 5)

    listed = (await gql(LIST, {"filter": {"billed": True}}, token=a.token)).ok()["usageRecords"]
    assert listed["totalCount"] == 3 and all(n["billed"] and n["invoice"] for n in listed["nodes"])
    unbilled = (await gql(LIST, {"filter": {"billed": False}}, token=staff.token)).ok()["usageRecords"]
    assert [n["eventId"] for n in unbilled["nodes"]] == ["meter-now"]

    closed = await record(
        gql, staff.token, a, "late-1", metric="gb", quantity=1, occurredAt=last_month().isoformat()
    )
    assert [(e["field"], e["code"]) for e in closed["userErrors"]] == [
        (["input", "occurredAt"], "PERIOD_CLOSED")
    ]
    # a replay of an event billed already still answers its record
    replay = await record(
        gql, staff.token, a, "meter-a3", metric="gb", quantity=3, occurredAt=last_month().isoformat()
    )
    assert replay["replayed"] is True and replay["usageRecord"]["billed"] is True


async def test_concurrent_runs_bill_nothing_twice(runtime: Runtime, gql: GraphQLClient) -> None:
    await usage_of_last_month(runtime, gql, "meter")
    await usage_of_last_month(runtime, gql, "meter-two")
    results = await asyncio.gather(bill_usage(runtime.db), bill_usage(runtime.db), bill_usage(runtime.db))
    assert sum(len(r.invoices) for r in results) == 4
    assert sum(r.records for r in results) == 10
    assert await counts(runtime) == (4, 4, 10)
    async with runtime.db.session(ALL) as session:
        totals = list(
            await session.execute(
                select(Invoice.total, func.count()).group_by(Invoice.total).order_by(Invoice.total)
            )
        )
        lines = await session.scalar(select(func.count()).select_from(InvoiceLine))
        statuses = set(await session.scalars(select(Invoice.status)))
    assert [(t, n) for t, n in totals] == [(1252, 2), (1502, 2)] and lines == 8
    assert statuses == {InvoiceStatus.OPEN}
    assert (
        sum(len(r.invoices) for r in await asyncio.gather(bill_usage(runtime.db), bill_usage(runtime.db)))
        == 0
    )


async def test_the_billing_job_bills_ended_periods_of_every_tenant(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    await usage_of_last_month(runtime, gql, "meter")
    await usage_of_last_month(runtime, gql, "meter-two")
    jobs = BillingJobs(runtime.db, 0, runtime.payment_provider, runtime.settings)
    await asyncio.gather(jobs.run_once(), jobs.run_once())
    assert await counts(runtime) == (4, 4, 10)  # this month's two records wait for the month's end
    async with runtime.db.session(ALL) as session:
        waiting = list(
            await session.scalars(select(UsageRecord.event_id).where(UsageRecord.invoice_id.is_(None)))
        )
    assert sorted(waiting) == ["meter-now", "meter-two-now"]


async def test_bill_usage_stays_in_the_callers_tenant(runtime: Runtime, gql: GraphQLClient) -> None:
    await usage_of_last_month(runtime, gql, "meter")
    await usage_of_last_month(runtime, gql, "meter-two")
    admin = await quick_account(runtime, "meter-two", Role.TENANT_ADMIN)
    done = (await gql(BILL, {"input": {"period": period_of(last_month())}}, token=admin.token)).ok()[
        "billUsage"
    ]
    assert len(done["invoices"]) == 2 and done["billedRecords"] == 5
    async with runtime.db.session(ALL) as session:
        unbilled = list(
            await session.scalars(select(UsageRecord.event_id).where(UsageRecord.invoice_id.is_(None)))
        )
    assert sorted(unbilled) == [
        "meter-a1",
        "meter-a2",
        "meter-a3",
        "meter-b1",
        "meter-b2",
        "meter-now",
        "meter-two-now",
    ]
    bad = (await gql(BILL, {"input": {"period": "2026-13"}}, token=admin.token)).ok()["billUsage"]
    assert [e["code"] for e in bad["userErrors"]] == ["INVALID_PERIOD"]
