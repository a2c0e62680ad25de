"""Usage metering and pricing rules (seed 000 /usage, /rating): recording single and batch,
idempotent by event id; who may record (staff, services with usage:write; not users, not keys
without the scope); reads (own vs tenant, filters, summary buckets, unbilled), tenant isolation,
statement counts; pricing rule CRUD and calculateRating values."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from core.permissions import Role
from core.scope import TenantScope
from demo import DEMO_PASSWORD, seed_demo
from models.catalog import Product, ProductStatus
from models.usage import UsageRecord
from server.runtime import Runtime
from services.billing.usage import period_of
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from tests.billing.support import raw_id
from tests.support.api_keys import create_client, create_key, token_of
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import Account, Identity, global_id, quick_account

ERRORS = "userErrors { field code message }"
RECORD_FIELDS = (
    "id eventId metric quantity occurredAt period dimensions billed billedAt customer { id } invoice { id }"
)
RECORD = f"""
mutation($input: RecordUsageInput!) {{
  recordUsage(input: $input) {{ usageRecord {{ {RECORD_FIELDS} }} replayed {ERRORS} }}
}}
"""
RECORD_BATCH = f"""
mutation($input: RecordUsageBatchInput!) {{
  recordUsageBatch(input: $input) {{ usageRecords {{ {RECORD_FIELDS} }} replayed {ERRORS} }}
}}
"""
LIST = f"""
query($filter: UsageFilterInput, $first: Int, $after: String) {{
  usageRecords(filter: $filter, first: $first, after: $after) {{
    totalCount nodes {{ {RECORD_FIELDS} customer {{ email }} }} pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""
SUMMARY = """
query($filter: UsageFilterInput!, $bucket: UsageBucket) {
  usageSummary(filter: $filter, bucket: $bucket) { metric bucket quantity records customer { email } }
}
"""
RULE_FIELDS = (
    "id metric model currency flatAmount { amount } unitPriceMicros tiers { upTo unitPriceMicros } active"
)
CREATE_RULE = f"""
mutation($input: CreatePricingRuleInput!) {{
  createPricingRule(input: $input) {{ pricingRule {{ {RULE_FIELDS} product {{ id }} }} {ERRORS} }}
}}
"""
UPDATE_RULE = f"""
mutation($input: UpdatePricingRuleInput!) {{
  updatePricingRule(input: $input) {{ pricingRule {{ {RULE_FIELDS} }} {ERRORS} }}
}}
"""
RULES = f"query($id: ID!) {{ pricingRules(productId: $id) {{ {RULE_FIELDS} }} }}"
RATING = """
query($customer: ID!, $period: String!) {
  calculateRating(customerId: $customer, period: $period) {
    period totals { amount currency } customer { id }
    metrics { metric quantity amount { amount currency } rule { model } }
  }
}
"""
TIERS = [{"upTo": 100, "unitPriceMicros": 10_000_000}, {"upTo": None, "unitPriceMicros": 5_000_000}]


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def make_product(runtime: Runtime, tenant_id: uuid.UUID, sku: str = "SV-METER") -> str:
    product_id = uuid.uuid4()
    async with runtime.db.transaction(TenantScope.of(tenant_id)) as session:
        session.add(
            Product(
                id=product_id,
                tenant_id=tenant_id,
                sku=sku,
                name="Metered API",
                base_price=0,
                currency="EUR",
                status=ProductStatus.ACTIVE,
                stock_quantity=None,
            )
        )
    return global_id("Product", product_id)


async def create_rule(
    gql: GraphQLClient, staff: Account, product: str, metric: str, **pricing: Any
) -> dict[str, Any]:
    variables = {"input": {"productId": product, "metric": metric, "pricing": {"currency": "EUR", **pricing}}}
    payload: dict[str, Any] = (await gql(CREATE_RULE, variables, token=staff.token)).ok()["createPricingRule"]
    return payload


async def priced_tenant(runtime: Runtime, gql: GraphQLClient, slug: str = "meter") -> tuple[Account, str]:
    """A billing manager of ``slug`` and a product pricing api_calls (TIERED), gb (PER_UNIT 0.5 cent)
    and support (FLAT 15.00)."""
    staff = await quick_account(runtime, slug, Role.MANAGER)
    product = await make_product(runtime, staff.tenant_id)
    for metric, pricing in (
        ("api_calls", {"model": "TIERED", "tiers": TIERS}),
        ("gb", {"model": "PER_UNIT", "unitPriceMicros": 500_000}),
        ("support", {"model": "FLAT", "flatAmount": 1500}),
    ):
        assert (await create_rule(gql, staff, product, metric, **pricing))["userErrors"] == []
    return staff, product


async def record(
    gql: GraphQLClient, token: str, customer: Account, event: str, **fields: Any
) -> dict[str, Any]:
    variables = {
        "input": {
            "eventId": event,
            "customerId": customer.gid,
            "metric": "api_calls",
            "quantity": 1,
            **fields,
        }
    }
    payload: dict[str, Any] = (await gql(RECORD, variables, token=token)).ok()["recordUsage"]
    return payload


async def service_token(
    gql: GraphQLClient, http: httpx.AsyncClient, runtime: Runtime, scopes: list[str]
) -> str:
    admin = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    secret, client = await create_client(gql, admin, scopes)
    return str((await token_of(http, client["clientId"], secret))["access_token"])


async def test_record_is_idempotent_by_event_id_and_a_changed_body_conflicts(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    staff, _ = await priced_tenant(runtime, gql)
    customer = await quick_account(runtime, "meter")
    at = (now() - timedelta(hours=1)).isoformat()
    first = await record(
        gql, staff.token, customer, "evt-1", quantity=40, occurredAt=at, dimensions={"region": "eu"}
    )
    assert first["userErrors"] == [] and first["replayed"] is False
    created = first["usageRecord"]
    assert (created["eventId"], created["metric"], created["quantity"]) == ("evt-1", "api_calls", 40)
    assert created["dimensions"] == {"region": "eu"} and created["billed"] is False
    assert created["period"] == period_of(now() - timedelta(hours=1))
    assert created["customer"] == {"id": customer.gid} and created["invoice"] is None

    again = await record(
        gql, staff.token, customer, "evt-1", quantity=40, occurredAt=at, dimensions={"region": "eu"}
    )
    assert again["replayed"] is True and again["usageRecord"]["id"] == created["id"]
    changed = await record(gql, staff.token, customer, "evt-1", quantity=41, occurredAt=at)
    assert changed["usageRecord"] is None
    assert changed["userErrors"] == [
        {
            "field": ["input", "eventId"],
            "code": "USAGE_EVENT_CONFLICT",
            "message": "This event id was recorded with other usage.",
        }
    ]
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        assert len(list(await session.scalars(select(UsageRecord)))) == 1


async def test_bad_input_is_refused_with_user_errors(runtime: Runtime, gql: GraphQLClient) -> None:
    staff, _ = await priced_tenant(runtime, gql)
    customer = await quick_account(runtime, "meter")
    cases = [
        ({"eventId": "has space"}, "eventId", "INVALID_EVENT_ID"),
        ({"metric": "Bad Metric"}, "metric", "INVALID_METRIC"),
        ({"metric": "unpriced"}, "metric", "UNKNOWN_METRIC"),
        ({"quantity": -1}, "quantity", "INVALID_USAGE_QUANTITY"),
        ({"occurredAt": (now() + timedelta(hours=1)).isoformat()}, "occurredAt", "INVALID_USAGE_TIME"),
        ({"dimensions": {f"k{i}": i for i in range(17)}}, "dimensions", "INVALID_DIMENSIONS"),
        ({"dimensions": {"nested": {"a": 1}}}, "dimensions", "INVALID_DIMENSIONS"),
    ]
    for fields, field, code in cases:
        payload = await record(gql, staff.token, customer, "evt-bad", **fields)
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", field], code)], fields
    too_many = {
        "input": {
            "records": [
                {"eventId": f"e{i}", "customerId": customer.gid, "metric": "gb", "quantity": 1}
                for i in range(101)
            ]
        }
    }
    result = (await gql(RECORD_BATCH, too_many, token=staff.token)).ok()["recordUsageBatch"]
    assert [e["code"] for e in result["userErrors"]] == ["TOO_MANY_RECORDS"]


async def test_batch_is_all_or_nothing_and_replays_known_events(runtime: Runtime, gql: GraphQLClient) -> None:
    staff, _ = await priced_tenant(runtime, gql)
    a = await quick_account(runtime, "meter")
    b = await quick_account(runtime, "meter")

    def item(event: str, customer: Account, metric: str, quantity: int) -> dict[str, Any]:
        return {"eventId": event, "customerId": customer.gid, "metric": metric, "quantity": quantity}

    bad = [item("b1", a, "gb", 3), item("b2", b, "nope", 1)]
    refused = (await gql(RECORD_BATCH, {"input": {"records": bad}}, token=staff.token)).ok()[
        "recordUsageBatch"
    ]
    assert refused["userErrors"] == [
        {
            "field": ["input", "records", "1", "metric"],
            "code": "UNKNOWN_METRIC",
            "message": "No active pricing rule prices this metric.",
        }
    ]
    listed = (await gql(LIST, {}, token=staff.token)).ok()["usageRecords"]
    assert listed["totalCount"] == 0  # nothing of the refused batch was kept

    good = [item("b1", a, "gb", 3), item("b2", b, "api_calls", 7), item("b3", a, "api_calls", 5)]
    done = (await gql(RECORD_BATCH, {"input": {"records": good}}, token=staff.token)).ok()["recordUsageBatch"]
    assert done["userErrors"] == [] and done["replayed"] == 0
    assert [(r["eventId"], r["quantity"]) for r in done["usageRecords"]] == [("b1", 3), ("b2", 7), ("b3", 5)]
    again = (
        await gql(RECORD_BATCH, {"input": {"records": [*good, item("b4", b, "gb", 1)]}}, token=staff.token)
    ).ok()["recordUsageBatch"]
    assert again["replayed"] == 3 and len(again["usageRecords"]) == 4
    assert [r["id"] for r in again["usageRecords"][:3]] == [r["id"] for r in done["usageRecords"]]
    twice = [item("d1", a, "gb", 1), item("d1", a, "gb", 1)]
    dup = (await gql(RECORD_BATCH, {"input": {"records": twice}}, token=staff.token)).ok()["recordUsageBatch"]
    assert [e["code"] for e in dup["userErrors"]] == ["USAGE_EVENT_CONFLICT"]


async def test_who_may_record(runtime: Runtime, gql: GraphQLClient, http: httpx.AsyncClient) -> None:
    await priced_tenant(runtime, gql)
    customer = await quick_account(runtime, "meter")
    other = await quick_account(runtime, "meter")
    for target in (other, customer):  # a USER records for nobody, not even themselves
        refused = await gql(
            RECORD,
            {"input": {"eventId": "u1", "customerId": target.gid, "metric": "gb", "quantity": 1}},
            token=customer.token,
        )
        assert refused.error_codes == ["FORBIDDEN"]

    admin = await quick_account(runtime, "meter", Role.TENANT_ADMIN)
    no_scope, _ = await create_key(gql, admin, scopes=["ORDERS_READ"])
    variables = {"input": {"eventId": "k1", "customerId": customer.gid, "metric": "gb", "quantity": 1}}
    refused_key = await gql(RECORD, variables, token=no_scope)
    assert refused_key.error_codes == ["FORBIDDEN"]
    assert refused_key.errors[0]["extensions"]["reason"] == "INSUFFICIENT_SCOPE"
    with_scope, _ = await create_key(gql, admin, scopes=["USAGE_WRITE"])
    by_key = (await gql(RECORD, variables, token=with_scope)).ok()["recordUsage"]
    assert by_key["userErrors"] == [] and by_key["usageRecord"]["quantity"] == 1

    reader = await service_token(gql, http, runtime, ["USAGE_READ"])
    refused_service = await gql(RECORD, {"input": {**variables["input"], "eventId": "s0"}}, token=reader)
    assert refused_service.error_codes == ["FORBIDDEN"]
    writer = await service_token(gql, http, runtime, ["USAGE_WRITE"])
    by_service = (
        await gql(RECORD, {"input": {**variables["input"], "eventId": "s1", "quantity": 9}}, token=writer)
    ).ok()["recordUsage"]
    assert by_service["userErrors"] == [] and by_service["usageRecord"]["customer"] == {"id": customer.gid}
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        row = await session.get(UsageRecord, raw_id(by_service["usageRecord"]["id"]))
    assert row is not None and row.tenant_id == customer.tenant_id and row.quantity == 9


async def test_reads_own_vs_tenant_filters_isolation_and_statement_counts(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    staff, _ = await priced_tenant(runtime, gql)
    a = await quick_account(runtime, "meter", email="a@meter.example")
    b = await quick_account(runtime, "meter", email="b@meter.example")
    day = now().replace(day=1, hour=12, minute=0, second=0)
    if day > now():
        day = now()
    for i in range(6):
        who = a if i % 2 == 0 else b
        await record(
            gql,
            staff.token,
            who,
            f"r{i}",
            quantity=10 * (i + 1),
            occurredAt=(day + timedelta(minutes=i)).isoformat(),
            metric="gb" if i < 4 else "api_calls",
        )

    mine = (await gql(LIST, {}, token=a.token)).ok()["usageRecords"]
    assert mine["totalCount"] == 3 and {n["customer"]["email"] for n in mine["nodes"]} == {"a@meter.example"}
    peek = (await gql(LIST, {"filter": {"customerId": b.gid}}, token=a.token)).ok()["usageRecords"]
    assert peek["totalCount"] == 0
    everything = (await gql(LIST, {}, token=staff.token)).ok()["usageRecords"]
    assert everything["totalCount"] == 6
    assert [n["eventId"] for n in everything["nodes"]] == ["r5", "r4", "r3", "r2", "r1", "r0"]  # newest first
    gb_of_b = (await gql(LIST, {"filter": {"customerId": b.gid, "metric": "gb"}}, token=staff.token)).ok()[
        "usageRecords"
    ]
    assert [n["quantity"] for n in gb_of_b["nodes"]] == [40, 20]
    ranged = {
        "occurredFrom": (day + timedelta(minutes=2)).isoformat(),
        "occurredTo": (day + timedelta(minutes=4)).isoformat(),
    }
    assert [
        n["eventId"]
        for n in (await gql(LIST, {"filter": ranged}, token=staff.token)).ok()["usageRecords"]["nodes"]
    ] == ["r3", "r2"]
    unbilled = (await gql(LIST, {"filter": {"billed": False}}, token=staff.token)).ok()["usageRecords"]
    assert unbilled["totalCount"] == 6
    billed = (await gql(LIST, {"filter": {"billed": True}}, token=staff.token)).ok()["usageRecords"]
    assert billed["totalCount"] == 0
    page = (await gql(LIST, {"first": 4}, token=staff.token)).ok()["usageRecords"]
    rest = (await gql(LIST, {"first": 4, "after": page["pageInfo"]["endCursor"]}, token=staff.token)).ok()[
        "usageRecords"
    ]
    assert len(page["nodes"]) == 4 and [n["eventId"] for n in rest["nodes"]] == ["r1", "r0"]

    await gql.warm(staff.token)
    with count_statements(runtime.db.engine) as counter:
        (await gql(LIST, {"first": 6}, token=staff.token)).ok()
    # the page, the total count, the customers (one batch); no statement per record
    assert counter.count <= 4, counter.count

    span = {
        "occurredFrom": day.replace(hour=0).isoformat(),
        "occurredTo": (day + timedelta(days=1)).isoformat(),
    }
    by_day = (await gql(SUMMARY, {"filter": span, "bucket": "DAY"}, token=staff.token)).ok()["usageSummary"]
    assert sorted((r["metric"], r["customer"]["email"], r["quantity"], r["records"]) for r in by_day) == [
        ("api_calls", "a@meter.example", 50, 1),
        ("api_calls", "b@meter.example", 60, 1),
        ("gb", "a@meter.example", 40, 2),
        ("gb", "b@meter.example", 60, 2),
    ]
    assert {r["bucket"] for r in by_day} == {day.strftime("%Y-%m-%d")}
    by_month = (await gql(SUMMARY, {"filter": span}, token=a.token)).ok()["usageSummary"]
    assert [(r["metric"], r["bucket"], r["quantity"]) for r in by_month] == [
        ("api_calls", period_of(day), 50),
        ("gb", period_of(day), 40),
    ]
    no_range = await gql(SUMMARY, {"filter": {}}, token=staff.token)
    assert no_range.error_codes == ["BAD_USER_INPUT"]

    foreign = await quick_account(runtime, "other-meter", Role.TENANT_ADMIN)
    assert (await gql(LIST, {}, token=foreign.token)).ok()["usageRecords"]["totalCount"] == 0
    refused = await gql(
        RECORD,
        {"input": {"eventId": "x1", "customerId": a.gid, "metric": "gb", "quantity": 1}},
        token=foreign.token,
    )
    assert refused.error_codes == ["NOT_FOUND"]
    rating = await gql(RATING, {"customer": a.gid, "period": period_of(day)}, token=foreign.token)
    assert rating.error_codes == ["NOT_FOUND"]


async def test_pricing_rules_crud_and_rating_values(runtime: Runtime, gql: GraphQLClient) -> None:
    staff, product = await priced_tenant(runtime, gql)
    customer = await quick_account(runtime, "meter")
    rules = (await gql(RULES, {"id": product}, token=customer.token)).ok()["pricingRules"]
    assert [(r["metric"], r["model"]) for r in rules] == [
        ("api_calls", "TIERED"),
        ("gb", "PER_UNIT"),
        ("support", "FLAT"),
    ]
    assert rules[0]["tiers"] == TIERS and rules[2]["flatAmount"] == {"amount": 1500}
    taken = await create_rule(gql, staff, product, "gb", model="PER_UNIT", unitPriceMicros=1)
    assert [e["code"] for e in taken["userErrors"]] == ["METRIC_TAKEN"]
    bad_tiers = await create_rule(
        gql, staff, product, "cpu", model="VOLUME", tiers=[{"upTo": 5, "unitPriceMicros": 1}]
    )
    assert bad_tiers["userErrors"][0]["code"] == "INVALID_PRICING_RULE"
    assert (
        await gql(
            CREATE_RULE,
            {"input": {"productId": product, "metric": "x", "pricing": {"model": "FLAT", "currency": "EUR"}}},
            token=customer.token,
        )
    ).error_codes == ["FORBIDDEN"]

    at = (now() - timedelta(minutes=5)).isoformat()
    for event, metric, quantity in (
        ("q1", "api_calls", 120),
        ("q2", "api_calls", 30),
        ("q3", "gb", 3),
        ("q4", "support", 1),
    ):
        assert (
            await record(gql, staff.token, customer, event, metric=metric, quantity=quantity, occurredAt=at)
        )["userErrors"] == []
    period = period_of(now() - timedelta(minutes=5))
    rating = (await gql(RATING, {"customer": customer.gid, "period": period}, token=customer.token)).ok()[
        "calculateRating"
    ]
    assert [
        (m["metric"], m["quantity"], m["amount"]["amount"], m["rule"]["model"]) for m in rating["metrics"]
    ] == [
        ("api_calls", 150, 100 * 10 + 50 * 5, "TIERED"),
        ("gb", 3, 2, "PER_UNIT"),  # 1.5 cents, half to even
        ("support", 1, 1500, "FLAT"),
    ]
    assert rating["totals"] == [{"amount": 1250 + 2 + 1500, "currency": "EUR"}] and rating["period"] == period

    volume = (
        await gql(
            UPDATE_RULE,
            {
                "input": {
                    "id": rules[0]["id"],
                    "pricing": {"model": "VOLUME", "currency": "EUR", "tiers": TIERS},
                }
            },
            token=staff.token,
        )
    ).ok()["updatePricingRule"]
    assert volume["userErrors"] == [] and volume["pricingRule"]["model"] == "VOLUME"
    rating = (await gql(RATING, {"customer": customer.gid, "period": period}, token=staff.token)).ok()[
        "calculateRating"
    ]
    assert rating["metrics"][0]["amount"]["amount"] == 150 * 5
    other = await quick_account(runtime, "meter")
    assert (
        await gql(RATING, {"customer": customer.gid, "period": period}, token=other.token)
    ).error_codes == ["NOT_FOUND"]
    future = await gql(RATING, {"customer": customer.gid, "period": "2999-01"}, token=staff.token)
    assert future.error_codes == ["BAD_USER_INPUT"]

    inactive = (
        await gql(UPDATE_RULE, {"input": {"id": rules[1]["id"], "active": False}}, token=staff.token)
    ).ok()["updatePricingRule"]
    assert inactive["pricingRule"]["active"] is False
    late = await record(gql, staff.token, customer, "q5", metric="gb")
    assert [e["code"] for e in late["userErrors"]] == ["UNKNOWN_METRIC"]


async def test_the_demo_shows_usage_and_its_rating(
    runtime: Runtime, gql: GraphQLClient, identity: Identity
) -> None:
    await seed_demo(runtime.db)
    await seed_demo(runtime.db)  # re-runnable: nothing twice
    login = await identity.login("acme", "user@acme.example", DEMO_PASSWORD)
    token = login.ok()["login"]["accessToken"]
    mine = (await gql(LIST, {}, token=token)).ok()["usageRecords"]
    assert sorted((n["metric"], n["quantity"]) for n in mine["nodes"]) == [
        ("api_calls", 700),
        ("api_calls", 800),
        ("storage_gb", 12),
    ]
    me = mine["nodes"][0]["customer"]["id"]
    rating = (await gql(RATING, {"customer": me, "period": period_of(now())}, token=token)).ok()[
        "calculateRating"
    ]
    assert [(m["metric"], m["quantity"], m["amount"]["amount"]) for m in rating["metrics"]] == [
        ("api_calls", 1500, 25),  # 1000 free, then 500 at 0.05 cent
        ("storage_gb", 12, 300),  # 25 cents each
    ]
