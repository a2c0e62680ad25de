"""Promotion codes for plans (seed 002 discounts on a plan purchase): a code names the plans whose
first period it discounts, `validatePromotionCode(planId:)` prices it, `subscribe(promotionCode:)`
takes it under its row lock (never beyond maxUses, even at once), a 100 % code leaves nothing due,
and a plan-only code discounts no order."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from core.permissions import Role
from core.scope import TenantScope
from models.billing import BillingSubscription, Invoice, InvoiceStatus
from models.catalog import Product, ProductStatus
from models.promotions import PromotionCodeUse
from server.runtime import Runtime
from tests.billing.support import gid, raw_id, rows
from tests.billing.test_plans import SUBSCRIBE, call, create_plan
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, quick_account

CREATE_CODE = """
mutation($input: CreatePromotionCodeInput!) {
  createPromotionCode(input: $input) {
    promotionCode { id code eligiblePlans { code } } userErrors { field code }
  }
}
"""
VALIDATE = """
query($code: String!, $planId: ID) {
  validatePromotionCode(code: $code, planId: $planId) {
    valid discount { amount currency } userErrors { field code }
  }
}
"""
ORDER = """
mutation($input: CreateOrderInput!) { createOrder(input: $input) { order { id } userErrors { field code } } }
"""


async def code(gql: GraphQLClient, admin: Account, **fields: Any) -> dict[str, Any]:
    payload = (await gql(CREATE_CODE, {"input": fields}, token=admin.token)).ok()["createPromotionCode"]
    assert payload["userErrors"] == [], payload
    created: dict[str, Any] = payload["promotionCode"]
    return created


async def test_a_plan_code_discounts_the_first_period(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    buyer, late = await quick_account(runtime, "acme"), await quick_account(runtime, "acme")
    pro = await create_plan(gql, admin, "pro", 2900)
    basic = await create_plan(gql, admin, "basic", 1000)
    created = await code(gql, admin, code="plan20", kind="PERCENT", percentBps=2000, planIds=[pro], maxUses=1)
    assert created["eligiblePlans"] == [{"code": "pro"}]
    await code(gql, admin, code="FREE", kind="PERCENT", percentBps=10000, planIds=[basic])

    checked = (await gql(VALIDATE, {"code": "Plan20", "planId": pro}, token=buyer.token)).ok()
    assert checked["validatePromotionCode"] == {
        "valid": True,
        "discount": {"amount": 580, "currency": "EUR"},
        "userErrors": [],
    }
    other_plan = (await gql(VALIDATE, {"code": "PLAN20", "planId": basic}, token=buyer.token)).ok()
    assert other_plan["validatePromotionCode"]["userErrors"] == [
        {"field": ["input", "code"], "code": "PROMOTION_CODE_NOT_ELIGIBLE"}
    ]

    subscribed = await call(gql, SUBSCRIBE, buyer, planId=pro, promotionCode="plan20")
    assert subscribed["userErrors"] == []
    assert (subscribed["invoice"]["status"], subscribed["invoice"]["total"]) == (
        "OPEN",
        {"amount": 2320, "currency": "EUR"},
    )
    (use,) = await rows(runtime, PromotionCodeUse)
    assert (use.subscription_id, use.order_id, use.user_id, use.amount) == (
        raw_id(subscribed["subscription"]["id"]),
        None,
        buyer.user_id,
        580,
    )
    # Used up: the next subscriber is refused and nothing is written.
    before = (len(await rows(runtime, BillingSubscription)), len(await rows(runtime, Invoice)))
    refused = await call(gql, SUBSCRIBE, late, planId=pro, promotionCode="PLAN20")
    assert refused["subscription"] is None
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        (["input", "promotionCode"], "PROMOTION_CODE_USED_UP")
    ]
    assert (len(await rows(runtime, BillingSubscription)), len(await rows(runtime, Invoice))) == before

    # A 100 % code leaves nothing due: the invoice is settled as it is issued, never overdue.
    free = await call(gql, SUBSCRIBE, late, planId=basic, promotionCode="FREE")
    assert (free["invoice"]["status"], free["invoice"]["total"]["amount"]) == ("PAID", 0)
    (stored,) = await rows(runtime, Invoice, Invoice.number == free["invoice"]["number"])
    assert stored.status == InvoiceStatus.PAID and stored.paid_at is not None

    # A plan-only code discounts no order.
    product = uuid.uuid4()
    async with runtime.db.transaction(TenantScope.of(buyer.tenant_id)) as session:
        session.add(
            Product(
                id=product,
                sku=f"P-{product.hex[:8]}",
                name="Mug",
                base_price=1000,
                currency="EUR",
                status=ProductStatus.ACTIVE,
                is_digital=True,
                attributes={},
                image_urls=[],
            )
        )
    ordered = (
        await gql(
            ORDER,
            {
                "input": {
                    "items": [{"productId": gid("Product", product), "quantity": 1}],
                    "promotionCodes": ["FREE"],
                }
            },
            token=buyer.token,
        )
    ).ok()["createOrder"]
    assert ordered["userErrors"] == [
        {"field": ["input", "promotionCodes", "0"], "code": "PROMOTION_CODE_NOT_ELIGIBLE"}
    ]


async def test_concurrent_subscribers_take_a_code_at_most_max_uses_times(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    buyers = [await quick_account(runtime, "acme") for _ in range(6)]
    pro = await create_plan(gql, admin, "pro", 2900)
    await code(
        gql,
        admin,
        code="TWICE",
        kind="FIXED",
        amount={"amount": 900, "currency": "EUR"},
        planIds=[pro],
        maxUses=2,
    )
    results = await asyncio.gather(
        *(call(gql, SUBSCRIBE, b, planId=pro, promotionCode="TWICE") for b in buyers)
    )
    taken = [r for r in results if r["userErrors"] == []]
    refused = [r for r in results if r["userErrors"]]
    assert len(taken) == 2 and {r["invoice"]["total"]["amount"] for r in taken} == {2000}
    assert {e["code"] for r in refused for e in r["userErrors"]} == {"PROMOTION_CODE_USED_UP"}
    assert len(await rows(runtime, PromotionCodeUse)) == 2
    assert len(await rows(runtime, BillingSubscription)) == 2
