"""Refunds through the provider (the fake Stripe server): partial and full refunds moving the order
to PARTIALLY_REFUNDED and REFUNDED, the bound (never above what was paid minus refunded, even for
two requests at once), who may ask, refunds by order, and refunds the provider settles later."""

from __future__ import annotations

import asyncio
from typing import Any

from core.permissions import Role
from models.billing import Refund, RefundStatus
from models.events import OutboxEvent
from models.orders import Order, OrderStatus, OrderStatusChange
from server.runtime import Runtime
from tests.billing.support import (
    REQUEST_REFUND,
    PlacedOrder,
    invoice_for,
    make_order,
    pay,
    raw_id,
    rows,
    start_payment,
)
from tests.support.fake_stripe import FakeStripe
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, quick_account


async def paid_order(
    runtime: Runtime,
    gql: GraphQLClient,
    owner: Account,
    staff: Account,
    amount: int = 10000,
    card: str = "tok_visa",
) -> tuple[PlacedOrder, dict[str, Any]]:
    order = await make_order(runtime, owner, [("A", "Widget", amount, 1)])
    payment = await pay(gql, owner, (await invoice_for(gql, staff, order))["id"], card)
    assert payment["status"] == "SUCCEEDED" and payment["order"]["status"] == "PAID"
    return order, payment


async def refund(gql: GraphQLClient, account: Account, **input_: object) -> dict[str, Any]:
    return (await gql(REQUEST_REFUND, {"input": input_}, token=account.token)).ok()["requestRefund"]


async def test_partial_then_full_refund_moves_the_order_and_the_amounts(
    runtime: Runtime, bgql: GraphQLClient, fake_stripe: FakeStripe
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    order, payment = await paid_order(runtime, bgql, buyer, staff)

    first = await refund(bgql, buyer, paymentId=payment["id"], amount=3000, reason="Broken box")
    assert first["userErrors"] == []
    partial = first["refund"]
    assert partial["status"] == "SUCCEEDED" and partial["amount"] == {"amount": 3000, "currency": "EUR"}
    assert partial["reason"] == "Broken box" and partial["disputed"] is False
    assert partial["payment"]["amountRefunded"] == {"amount": 3000}
    assert partial["order"] == {
        "id": order.gid,
        "status": "PARTIALLY_REFUNDED",
        "refundedTotal": {"amount": 3000},
    }
    provider_refund = fake_stripe.refunds[partial["providerRefundId"]]
    assert provider_refund["amount"] == 3000 and provider_refund["metadata"] == {"reason": "Broken box"}
    (call,) = [
        c
        for c in fake_stripe.calls_to("/v1/refunds")
        if c.idempotency_key == f"refund-{raw_id(partial['id'])}"
    ]
    assert call.form["payment_intent"] == payment["providerPaymentId"]

    too_much = await refund(bgql, buyer, paymentId=payment["id"], amount=7001)
    assert too_much["refund"] is None
    assert too_much["userErrors"] == [
        {
            "field": ["input", "amount"],
            "code": "REFUND_EXCEEDS_PAYMENT",
            "message": "At most 70.00 EUR of this payment can be refunded.",
        }
    ]
    rest = await refund(bgql, staff, paymentId=payment["id"])  # the remainder, by staff
    assert rest["refund"]["amount"]["amount"] == 7000 and rest["refund"]["status"] == "SUCCEEDED"
    assert rest["refund"]["order"]["status"] == "REFUNDED"
    assert rest["refund"]["order"]["refundedTotal"]["amount"] == 10000
    assert rest["refund"]["payment"]["amountRefunded"]["amount"] == 10000
    nothing_left = await refund(bgql, buyer, paymentId=payment["id"], amount=1)
    assert [e["code"] for e in nothing_left["userErrors"]] == ["REFUND_EXCEEDS_PAYMENT"]

    changes = await rows(
        runtime,
        OrderStatusChange,
        OrderStatusChange.order_id == order.id,
        order_by=OrderStatusChange.created_at,
    )
    assert [(c.to_status, c.actor) for c in changes][-2:] == [
        (OrderStatus.PARTIALLY_REFUNDED, "refund"),
        (OrderStatus.REFUNDED, "refund"),
    ]
    events = await rows(runtime, OutboxEvent, OutboxEvent.topic == "refund.updated", order_by=OutboxEvent.seq)
    assert [(e.payload["status"], e.payload["amount"]) for e in events] == [
        ("REQUESTED", 3000),
        ("SUCCEEDED", 3000),
        ("REQUESTED", 7000),
        ("SUCCEEDED", 7000),
    ]
    assert len(await rows(runtime, Refund)) == 2


async def test_only_succeeded_payments_of_your_own_or_as_staff_are_refunded(
    runtime: Runtime, bgql: GraphQLClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.SUPPORT_AGENT)
    buyer = await quick_account(runtime, "acme")
    stranger = await quick_account(runtime, "acme")
    foreign_admin = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    order, payment = await paid_order(runtime, bgql, buyer, staff, amount=5000)
    unpaid_invoice = await invoice_for(bgql, staff, await make_order(runtime, buyer))
    pending = await start_payment(bgql, buyer, unpaid_invoice["id"])

    for account in (stranger, foreign_admin):
        result = await bgql(REQUEST_REFUND, {"input": {"paymentId": payment["id"]}}, token=account.token)
        assert result.error_codes == ["NOT_FOUND"]
        by_order = await bgql(REQUEST_REFUND, {"input": {"orderId": order.gid}}, token=account.token)
        assert by_order.error_codes == ["NOT_FOUND"]
    not_paid = await refund(bgql, buyer, paymentId=pending["id"])
    assert not_paid["userErrors"] == [
        {
            "field": ["input", "paymentId"],
            "code": "PAYMENT_NOT_REFUNDABLE",
            "message": "A REQUIRES_PAYMENT payment cannot be refunded.",
        }
    ]
    both = await refund(bgql, buyer, paymentId=payment["id"], orderId=order.gid)
    assert [e["code"] for e in both["userErrors"]] == ["PAYMENT_OR_ORDER_REQUIRED"]
    zero = await refund(bgql, buyer, paymentId=payment["id"], amount=0)
    assert [e["code"] for e in zero["userErrors"]] == ["INVALID_AMOUNT"]
    assert await rows(runtime, Refund) == []

    by_order = await refund(bgql, buyer, orderId=order.gid, amount=1250, reason="Late")
    assert by_order["refund"]["payment"]["id"] == payment["id"]
    assert by_order["refund"]["order"]["status"] == "PARTIALLY_REFUNDED"
    unpaid_order = await make_order(runtime, buyer)
    no_payment = await refund(bgql, staff, orderId=unpaid_order.gid)
    assert [e["code"] for e in no_payment["userErrors"]] == ["PAYMENT_NOT_REFUNDABLE"]


async def test_two_refunds_at_once_cannot_overrun_the_payment(runtime: Runtime, bgql: GraphQLClient) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    order, payment = await paid_order(runtime, bgql, buyer, staff, amount=1000)

    results = await asyncio.gather(
        *(
            bgql(REQUEST_REFUND, {"input": {"paymentId": payment["id"], "amount": 600}}, token=who.token)
            for who in (buyer, staff)
        )
    )
    payloads = [r.ok()["requestRefund"] for r in results]
    succeeded = [p for p in payloads if p["refund"]]
    refused = [p for p in payloads if p["userErrors"]]
    assert len(succeeded) == 1 and len(refused) == 1
    assert refused[0]["userErrors"][0]["code"] == "REFUND_EXCEEDS_PAYMENT"
    assert succeeded[0]["refund"]["status"] == "SUCCEEDED"
    (stored_order,) = await rows(runtime, Order, Order.id == order.id)
    assert (stored_order.refunded_total, stored_order.status) == (600, OrderStatus.PARTIALLY_REFUNDED)
    assert [r.amount for r in await rows(runtime, Refund)] == [600]


async def test_a_refund_the_provider_keeps_pending_is_processing_and_reserves_its_amount(
    runtime: Runtime, bgql: GraphQLClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    _, payment = await paid_order(runtime, bgql, buyer, staff, amount=2000, card="tok_refundFail")

    pending = await refund(bgql, buyer, paymentId=payment["id"], amount=1500)
    assert pending["refund"]["status"] == "PROCESSING"
    assert pending["refund"]["payment"]["amountRefunded"]["amount"] == 0
    assert pending["refund"]["order"]["status"] == "PAID"
    # The pending 15.00 counts against the bound until the provider settles it.
    over = await refund(bgql, buyer, paymentId=payment["id"], amount=501)
    assert over["userErrors"][0]["message"] == "At most 5.00 EUR of this payment can be refunded."
    (stored,) = await rows(runtime, Refund)
    assert stored.status == RefundStatus.PROCESSING and stored.provider_refund_id.startswith("re_")


REFUNDS = """
query($filter: RefundFilterInput) {
  refunds(filter: $filter, orderBy: {field: CREATED_AT, direction: ASC}) {
    totalCount nodes { amount { amount } reason disputed }
  }
}
"""


async def test_refund_list_shows_buyers_their_own_and_staff_the_tenants(
    runtime: Runtime, bgql: GraphQLClient, fake_stripe: FakeStripe
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    ann = await quick_account(runtime, "acme")
    bob = await quick_account(runtime, "acme")
    outsider = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    _, ann_payment = await paid_order(runtime, bgql, ann, staff)
    _, bob_payment = await paid_order(runtime, bgql, bob, staff)
    await refund(bgql, ann, paymentId=ann_payment["id"], amount=1000, reason="ann")
    await refund(bgql, bob, paymentId=bob_payment["id"], amount=2000, reason="bob")

    async def listed(account: Account, **filter_: object) -> dict[str, Any]:
        result = await bgql(REFUNDS, {"filter": filter_ or None}, token=account.token)
        return result.ok()["refunds"]

    assert (await listed(ann))["nodes"] == [{"amount": {"amount": 1000}, "reason": "ann", "disputed": False}]
    assert [n["reason"] for n in (await listed(staff))["nodes"]] == ["ann", "bob"]
    assert (await listed(staff, paymentId=bob_payment["id"]))["nodes"][0]["reason"] == "bob"
    assert (await listed(staff, disputed=True))["totalCount"] == 0
    assert (await listed(outsider))["totalCount"] == 0
