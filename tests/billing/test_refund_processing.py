"""Refunds as separate steps against the fake Stripe server: requested now and processed later
(seed 000 ``/refunds/:id/process``), sent once however often it is processed, retried by the
billing job through a provider outage until it succeeds or ends FAILED, refunded to the buyer's
wallet balance without a provider call (seed 002 ``refund_to``), and the refund's details."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.permissions import Role
from core.scope import TenantScope
from models.base import utcnow
from models.billing import BillingSubscription, Invoice, InvoiceStatus, Refund, RefundStatus
from models.identity.wallet import Wallet, WalletEntry
from server.runtime import Runtime
from services.billing import refund_processing
from services.billing.plans import renew_due_billing_subscriptions
from services.billing.retries import MAX_ATTEMPTS
from tests.billing.support import invoice_for, make_order, pay, raw_id, rows
from tests.billing.test_plans import CANCEL, SUBSCRIBE, call, create_plan
from tests.support.fake_stripe import FakeStripe
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, quick_account

REFUND_FIELDS = """
  id status amount { amount } refundTo details reason retryCount lastError nextRetryAt providerRefundId
  payment { amountRefunded { amount } } order { status }
"""
REQUEST = f"""
mutation($input: RequestRefundInput!) {{
  requestRefund(input: $input) {{ refund {{ {REFUND_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
PROCESS = f"""
mutation($id: ID!) {{
  processRefund(input: {{id: $id}}) {{ refund {{ {REFUND_FIELDS} }} userErrors {{ field code }} }}
}}
"""


async def paid(runtime: Runtime, gql: GraphQLClient, amount: int = 10000) -> tuple[Account, Account, str]:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    order = await make_order(runtime, buyer, [("A", "Widget", amount, 1)])
    payment = await pay(gql, buyer, (await invoice_for(gql, staff, order))["id"])
    assert payment["status"] == "SUCCEEDED"
    return buyer, staff, payment["id"]


async def request(gql: GraphQLClient, account: Account, **given: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql(REQUEST, {"input": given}, token=account.token)).ok()[
        "requestRefund"
    ]
    return payload


async def process(gql: GraphQLClient, account: Account, refund_id: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql(PROCESS, {"id": refund_id}, token=account.token)).ok()[
        "processRefund"
    ]
    return payload


def refund_calls(fake_stripe: FakeStripe, refund_id: str) -> int:
    return sum(
        1
        for c in fake_stripe.calls_to("/v1/refunds")
        if (c.idempotency_key or "").startswith(f"refund-{raw_id(refund_id)}")
    )


async def test_a_requested_refund_is_processed_later_and_once(
    runtime: Runtime, bgql: GraphQLClient, fake_stripe: FakeStripe
) -> None:
    buyer, staff, payment = await paid(runtime, bgql)
    asked = await request(
        bgql, buyer, paymentId=payment, amount=4000, details="Arrived broken", process=False
    )
    refund = asked["refund"]
    assert (refund["status"], refund["details"], refund["refundTo"], refund["providerRefundId"]) == (
        "REQUESTED",
        "Arrived broken",
        "ORIGINAL_METHOD",
        None,
    )
    assert refund_calls(fake_stripe, refund["id"]) == 0
    # Its amount is reserved while it waits.
    over = await request(bgql, buyer, paymentId=payment, amount=6001)
    assert [e["code"] for e in over["userErrors"]] == ["REFUND_EXCEEDS_PAYMENT"]

    denied = await bgql(PROCESS, {"id": refund["id"]}, token=buyer.token)
    assert denied.error_codes == ["FORBIDDEN"]
    done = await process(bgql, staff, refund["id"])
    assert done["userErrors"] == []
    assert (done["refund"]["status"], done["refund"]["payment"]["amountRefunded"]["amount"]) == (
        "SUCCEEDED",
        4000,
    )
    assert done["refund"]["order"]["status"] == "PARTIALLY_REFUNDED"
    again = await process(bgql, staff, refund["id"])
    assert again["refund"]["status"] == "SUCCEEDED"
    assert refund_calls(fake_stripe, refund["id"]) == 1
    (stored,) = await rows(runtime, Refund)
    assert (stored.processed_by, stored.requested_by) == (staff.user_id, buyer.user_id)


async def test_the_billing_job_retries_through_an_outage(
    runtime: Runtime, billing_runtime: Runtime, bgql: GraphQLClient, fake_stripe: FakeStripe
) -> None:
    buyer, _, payment = await paid(runtime, bgql)
    fake_stripe.outages["/v1/refunds"] = 2
    first = (await request(bgql, buyer, paymentId=payment, amount=2500))["refund"]
    assert (first["status"], first["retryCount"], first["payment"]["amountRefunded"]["amount"]) == (
        "REQUESTED",
        1,
        0,
    )
    assert "api_error" in first["lastError"] or "connection to Stripe" in first["lastError"]
    assert first["nextRetryAt"] is not None

    async def retry(after: timedelta) -> int:
        (row,) = await rows(runtime, Refund)
        assert row.next_retry_at is not None
        return await refund_processing.retry_due_refunds(
            billing_runtime.db,
            billing_runtime.payment_provider,
            billing_runtime.settings,
            row.next_retry_at + after,
        )

    assert await retry(-timedelta(seconds=1)) == 0  # not due yet
    assert await retry(timedelta(seconds=1)) == 1  # the outage's second answer
    (row,) = await rows(runtime, Refund)
    assert (row.status, row.retry_count) == (RefundStatus.REQUESTED, 2)
    assert await retry(timedelta(seconds=1)) == 1
    (row,) = await rows(runtime, Refund)
    assert (row.status, row.retry_count, row.next_retry_at, row.last_error) == (
        RefundStatus.SUCCEEDED,
        2,
        None,
        None,
    )
    # One refund at the provider: every attempt carried the same idempotency key.
    keys = [
        c.idempotency_key
        for c in fake_stripe.calls_to("/v1/refunds")
        if str(row.id) in (c.idempotency_key or "")
    ]
    assert keys == [f"refund-{row.id}"] * 3
    assert row.provider_refund_id in fake_stripe.refunds

    # An outage that outlasts every attempt ends FAILED, its amount freed.
    fake_stripe.outages["/v1/refunds"] = MAX_ATTEMPTS
    second = (await request(bgql, buyer, paymentId=payment, amount=7500))["refund"]
    assert second["status"] == "REQUESTED"
    for _ in range(MAX_ATTEMPTS - 1):
        (row,) = await rows(runtime, Refund, Refund.id == raw_id(second["id"]))
        assert (
            await refund_processing.retry_due_refunds(
                billing_runtime.db,
                billing_runtime.payment_provider,
                billing_runtime.settings,
                row.next_retry_at + timedelta(seconds=1),
            )
            == 1
        )
    (row,) = await rows(runtime, Refund, Refund.id == raw_id(second["id"]))
    assert (row.status, row.retry_count) == (RefundStatus.FAILED, MAX_ATTEMPTS)
    left = await request(bgql, buyer, paymentId=payment)
    assert (left["refund"]["amount"]["amount"], left["refund"]["status"]) == (7500, "SUCCEEDED")


async def test_a_balance_refund_credits_the_wallet_without_the_provider(
    runtime: Runtime, bgql: GraphQLClient, fake_stripe: FakeStripe
) -> None:
    buyer, staff, payment = await paid(runtime, bgql)
    calls = len(fake_stripe.calls_to("/v1/refunds"))
    done = await request(bgql, staff, paymentId=payment, amount=3000, refundTo="BALANCE", reason="Goodwill")
    assert done["userErrors"] == []
    assert (done["refund"]["status"], done["refund"]["refundTo"], done["refund"]["providerRefundId"]) == (
        "SUCCEEDED",
        "BALANCE",
        None,
    )
    assert done["refund"]["order"]["status"] == "PARTIALLY_REFUNDED"
    assert len(fake_stripe.calls_to("/v1/refunds")) == calls
    (wallet,) = await rows(runtime, Wallet, Wallet.user_id == buyer.user_id)
    (entry,) = await rows(runtime, WalletEntry, WalletEntry.user_id == buyer.user_id)
    assert (wallet.balance_minor, entry.amount_minor, entry.balance_after_minor) == (3000, 3000, 3000)
    assert (entry.reference, entry.posted_by) == (f"refund:{raw_id(done['refund']['id'])}", staff.user_id)

    # Processed later, it is credited once, however often it is processed.
    later = (await request(bgql, buyer, paymentId=payment, amount=1000, refundTo="BALANCE", process=False))[
        "refund"
    ]
    assert later["status"] == "REQUESTED"
    for _ in range(2):
        assert (await process(bgql, staff, later["id"]))["refund"]["status"] == "SUCCEEDED"
    (wallet,) = await rows(runtime, Wallet, Wallet.user_id == buyer.user_id)
    assert wallet.balance_minor == 4000
    assert len(await rows(runtime, WalletEntry, WalletEntry.user_id == buyer.user_id)) == 2


async def test_a_plan_credit_refund_is_taken_off_the_next_periods(
    runtime: Runtime, bgql: GraphQLClient, fake_stripe: FakeStripe
) -> None:
    buyer, staff, payment = await paid(runtime, bgql)
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    plan = await create_plan(bgql, admin, "pro", 2900)
    nobody = await request(bgql, staff, paymentId=payment, amount=100, refundTo="PLAN_CREDIT")
    assert [(e["field"], e["code"]) for e in nobody["userErrors"]] == [
        (["input", "refundTo"], "REFUND_DESTINATION_UNAVAILABLE")
    ]
    subscription = (await call(bgql, SUBSCRIBE, buyer, planId=plan))["subscription"]
    calls = len(fake_stripe.calls_to("/v1/refunds"))
    done = await request(bgql, staff, paymentId=payment, amount=4000, refundTo="PLAN_CREDIT")
    assert (done["refund"]["status"], done["refund"]["refundTo"]) == ("SUCCEEDED", "PLAN_CREDIT")
    assert done["refund"]["payment"]["amountRefunded"]["amount"] == 4000
    assert len(fake_stripe.calls_to("/v1/refunds")) == calls
    credit = "query { billingSubscriptions { nodes { credit { amount currency } } } }"
    assert (await bgql(credit, token=buyer.token)).ok()["billingSubscriptions"]["nodes"] == [
        {"credit": {"amount": 4000, "currency": "EUR"}}
    ]

    async def renew() -> Invoice:
        async with runtime.db.transaction(TenantScope.all_tenants()) as session:
            row = await session.get(BillingSubscription, raw_id(subscription["id"]))
            assert row is not None
            row.current_period_end = utcnow() - timedelta(seconds=1)
        assert await renew_due_billing_subscriptions(runtime.db) == 1
        invoices = await rows(runtime, Invoice, Invoice.subscription_id == raw_id(subscription["id"]))
        return max(invoices, key=lambda i: i.number)

    first = await renew()  # 29.00 of the 40.00 credit: nothing due
    assert (first.total, first.status) == (0, InvoiceStatus.PAID)
    second = await renew()  # the 11.00 left
    assert (second.total, second.status) == (1800, InvoiceStatus.OPEN)
    (row,) = await rows(runtime, BillingSubscription, BillingSubscription.id == raw_id(subscription["id"]))
    assert row.credit_minor == 0

    # Asked for later, and the subscription cancelled meanwhile: FAILED, with the reason, nothing lost.
    later = (
        await request(bgql, staff, paymentId=payment, amount=1000, refundTo="PLAN_CREDIT", process=False)
    )["refund"]
    cancelled = await call(bgql, CANCEL, buyer, id=subscription["id"], atPeriodEnd=False)
    assert cancelled["userErrors"] == []
    failed = (await process(bgql, staff, later["id"]))["refund"]
    assert failed["status"] == "FAILED" and failed["payment"]["amountRefunded"]["amount"] == 4000
    (stored,) = await rows(runtime, Refund, Refund.id == raw_id(later["id"]))
    assert stored.failure_reason == refund_processing.NO_PLAN_TO_CREDIT
