"""Plans and billing subscriptions: plans by tenant admins, subscribing (the first period invoiced),
pause and resume, plan changes (a new invoiced period), cancelling at the period's end or now,
renewals by the billing job, and who sees and changes what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from core.permissions import Role
from core.scope import TenantScope
from models.billing import BillingSubscription, Invoice, InvoiceStatus, PlanInterval, SubscriptionStatus
from server.runtime import Runtime
from services.billing.plans import add_interval, renew_due_billing_subscriptions
from tests.billing.support import raw_id, rows
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, quick_account

CREATE_PLAN = """
mutation($input: CreatePlanInput!) {
  createPlan(input: $input) {
    plan { id code name price { amount currency } interval active } userErrors { field code }
  }
}
"""
SUBSCRIPTION_FIELDS = """
  subscription {
    id status cancelAtPeriodEnd currentPeriodStart currentPeriodEnd pausedAt cancelledAt
    plan { code } customer { email }
  }
  invoice { number status total { amount currency } lines { description } }
  userErrors { field code message }
"""


def _mutation(name: str, input_type: str) -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {SUBSCRIPTION_FIELDS} }} }}"


SUBSCRIBE = _mutation("subscribe", "SubscribeInput")
PAUSE = _mutation("pauseSubscription", "BillingSubscriptionIdInput")
RESUME = _mutation("resumeSubscription", "BillingSubscriptionIdInput")
CANCEL = _mutation("cancelSubscription", "CancelSubscriptionInput")
CHANGE = _mutation("changePlan", "ChangePlanInput")
SUBSCRIPTIONS = "query { billingSubscriptions(first: 10) { totalCount nodes { id status plan { code } } } }"
PLANS = "query($active: Boolean) { plans(active: $active, first: 10) { nodes { code active } } }"


async def create_plan(
    gql: GraphQLClient, admin: Account, code: str, amount: int, interval: str = "MONTH"
) -> str:
    data = await gql(
        CREATE_PLAN,
        {
            "input": {
                "code": code,
                "name": code.title(),
                "price": {"amount": amount, "currency": "EUR"},
                "interval": interval,
            }
        },
        token=admin.token,
    )
    payload = data.ok()["createPlan"]
    assert payload["userErrors"] == [], payload
    return payload["plan"]["id"]


async def call(gql: GraphQLClient, document: str, account: Account, **input_: Any) -> dict[str, Any]:
    data = (await gql(document, {"input": input_}, token=account.token)).ok()
    return next(iter(data.values()))


async def test_plans_are_created_by_tenant_admins(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    manager = await quick_account(runtime, "acme", Role.MANAGER)
    plan_input = {
        "code": "pro",
        "name": "Pro",
        "price": {"amount": 2900, "currency": "EUR"},
        "interval": "MONTH",
    }

    assert (await gql(CREATE_PLAN, {"input": plan_input}, token=manager.token)).error_codes == ["FORBIDDEN"]
    created = (await gql(CREATE_PLAN, {"input": plan_input}, token=admin.token)).ok()["createPlan"]["plan"]
    assert {k: v for k, v in created.items() if k != "id"} == {
        "code": "pro",
        "name": "Pro",
        "price": {"amount": 2900, "currency": "EUR"},
        "interval": "MONTH",
        "active": True,
    }
    taken = (await gql(CREATE_PLAN, {"input": plan_input}, token=admin.token)).ok()["createPlan"]
    assert taken["userErrors"] == [{"field": ["input", "code"], "code": "PLAN_CODE_TAKEN"}]
    bad = {**plan_input, "code": "Bad Code!", "price": {"amount": 0, "currency": "eur"}}
    invalid = (await gql(CREATE_PLAN, {"input": bad}, token=admin.token)).ok()["createPlan"]
    assert sorted(e["code"] for e in invalid["userErrors"]) == [
        "INVALID_AMOUNT",
        "INVALID_CODE",
        "INVALID_CURRENCY",
    ]
    # Another tenant may use the same code.
    other = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    assert (await gql(CREATE_PLAN, {"input": plan_input}, token=other.token)).ok()["createPlan"][
        "userErrors"
    ] == []
    assert (await gql(PLANS, token=manager.token)).ok()["plans"]["nodes"] == [{"code": "pro", "active": True}]


async def test_a_subscription_s_life_with_its_invoices(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    buyer = await quick_account(runtime, "acme", email="ada@acme.example")
    basic = await create_plan(gql, admin, "basic", 900)
    pro = await create_plan(gql, admin, "pro", 2900)

    subscribed = await call(gql, SUBSCRIBE, buyer, planId=basic)
    sub = subscribed["subscription"]
    assert (
        sub["status"] == "ACTIVE"
        and sub["plan"] == {"code": "basic"}
        and sub["customer"]["email"] == "ada@acme.example"
    )
    start = datetime.fromisoformat(sub["currentPeriodStart"])
    assert datetime.fromisoformat(sub["currentPeriodEnd"]) == add_interval(start, PlanInterval.MONTH)
    first_invoice = subscribed["invoice"]
    assert first_invoice["status"] == "OPEN" and first_invoice["total"] == {"amount": 900, "currency": "EUR"}
    assert first_invoice["lines"] == [
        {"description": f"Basic: {start:%Y-%m-%d} to {add_interval(start, PlanInterval.MONTH):%Y-%m-%d}"}
    ]
    again = await call(gql, SUBSCRIBE, buyer, planId=basic)
    assert [e["code"] for e in again["userErrors"]] == ["ALREADY_SUBSCRIBED"]

    paused = await call(gql, PAUSE, buyer, id=sub["id"])
    assert paused["subscription"]["status"] == "PAUSED" and paused["subscription"]["pausedAt"]
    assert [e["code"] for e in (await call(gql, PAUSE, buyer, id=sub["id"]))["userErrors"]] == [
        "INVALID_TRANSITION"
    ]
    changed_while_paused = await call(gql, CHANGE, buyer, id=sub["id"], planId=pro)
    assert [e["code"] for e in changed_while_paused["userErrors"]] == ["INVALID_TRANSITION"]
    resumed = await call(gql, RESUME, buyer, id=sub["id"])
    assert resumed["subscription"]["status"] == "ACTIVE" and resumed["invoice"] is None

    changed = await call(gql, CHANGE, buyer, id=sub["id"], planId=pro)
    assert changed["subscription"]["plan"] == {"code": "pro"}
    assert changed["invoice"]["total"]["amount"] == 2900 and changed["invoice"]["status"] == "OPEN"
    assert changed["invoice"]["number"] != first_invoice["number"]
    same = await call(gql, CHANGE, buyer, id=sub["id"], planId=pro)
    assert [e["code"] for e in same["userErrors"]] == ["SAME_PLAN"]

    at_end = await call(gql, CANCEL, buyer, id=sub["id"])
    assert (
        at_end["subscription"]["status"] == "ACTIVE" and at_end["subscription"]["cancelAtPeriodEnd"] is True
    )
    # The renewal job, once the period is over, ends it instead of renewing.
    period_end = datetime.fromisoformat(changed["subscription"]["currentPeriodEnd"])
    assert await renew_due_billing_subscriptions(runtime.db, now=period_end + timedelta(seconds=1)) == 1
    (stored,) = await rows(runtime, BillingSubscription)
    assert stored.status == SubscriptionStatus.CANCELLED and stored.cancelled_at is not None
    invoices = await rows(runtime, Invoice, Invoice.subscription_id == stored.id)
    assert sorted(i.total for i in invoices) == [900, 2900]
    listing = (await gql(SUBSCRIPTIONS, token=buyer.token)).ok()["billingSubscriptions"]
    assert listing["nodes"] == [{"id": sub["id"], "status": "CANCELLED", "plan": {"code": "pro"}}]
    cancelled_again = await call(gql, CANCEL, buyer, id=sub["id"], atPeriodEnd=False)
    assert [e["code"] for e in cancelled_again["userErrors"]] == ["INVALID_TRANSITION"]


async def test_renewals_invoice_each_new_period_and_cancel_now_ends_at_once(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    buyer = await quick_account(runtime, "acme")
    monthly = await create_plan(gql, admin, "monthly", 1000)
    yearly = await create_plan(gql, admin, "yearly", 10000, "YEAR")
    month_sub = (await call(gql, SUBSCRIBE, buyer, planId=monthly))["subscription"]
    year_sub = (await call(gql, SUBSCRIBE, buyer, planId=yearly))["subscription"]
    # Moved back in time: the monthly subscription's period ended 40 days ago.
    began = datetime(2026, 1, 31, 12, tzinfo=UTC)
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        await session.execute(
            update(BillingSubscription)
            .where(BillingSubscription.id == raw_id(month_sub["id"]))
            .values(current_period_start=began, current_period_end=add_interval(began, PlanInterval.MONTH))
        )

    renewed = await renew_due_billing_subscriptions(runtime.db, now=datetime(2026, 4, 10, tzinfo=UTC))
    assert renewed == 1
    (stored,) = await rows(runtime, BillingSubscription, BillingSubscription.id == raw_id(month_sub["id"]))
    # Jan 31 -> Feb 28 -> Mar 28 -> Apr 28: two periods caught up, each invoiced.
    assert (stored.current_period_start, stored.current_period_end) == (
        datetime(2026, 3, 28, 12, tzinfo=UTC),
        datetime(2026, 4, 28, 12, tzinfo=UTC),
    )
    invoices = await rows(runtime, Invoice, Invoice.subscription_id == stored.id, order_by=Invoice.number)
    assert [i.total for i in invoices] == [1000, 1000, 1000]
    assert all(i.status == InvoiceStatus.OPEN for i in invoices)
    assert await renew_due_billing_subscriptions(runtime.db, now=datetime(2026, 4, 10, tzinfo=UTC)) == 0

    stranger = await quick_account(runtime, "acme")
    assert (await gql(CANCEL, {"input": {"id": year_sub["id"]}}, token=stranger.token)).error_codes == [
        "NOT_FOUND"
    ]
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    assert (await gql(CANCEL, {"input": {"id": year_sub["id"]}}, token=staff.token)).error_codes == [
        "FORBIDDEN"
    ]
    assert (await gql(SUBSCRIPTIONS, token=staff.token)).ok()["billingSubscriptions"]["totalCount"] == 2
    assert (await gql(SUBSCRIPTIONS, token=stranger.token)).ok()["billingSubscriptions"]["totalCount"] == 0
    now = await call(gql, CANCEL, admin, id=year_sub["id"], atPeriodEnd=False)
    assert now["subscription"]["status"] == "CANCELLED" and now["subscription"]["cancelledAt"]


def test_intervals_add_calendar_months_and_years() -> None:
    assert add_interval(datetime(2026, 1, 31, tzinfo=UTC), PlanInterval.MONTH) == datetime(
        2026, 2, 28, tzinfo=UTC
    )
    assert add_interval(datetime(2026, 12, 15, tzinfo=UTC), PlanInterval.MONTH) == datetime(
        2027, 1, 15, tzinfo=UTC
    )
    assert add_interval(datetime(2028, 2, 29, tzinfo=UTC), PlanInterval.YEAR) == datetime(
        2029, 2, 28, tzinfo=UTC
    )
