"""Inbound payment webhooks end to end, signed by hand with the secrets the app is configured with:
Stripe (HMAC-SHA256 over "t.body", 300 s tolerance) and Hyperswitch (HMAC-SHA512 of the body).
Success and failure of payments, refunds and disputes, replays and concurrent duplicates (acted on
once), and bad input (nothing stored)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx

from core.permissions import Role
from models.billing import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    WebhookEvent,
    WebhookOutcome,
)
from models.disputes import Dispute, DisputeStatus
from models.events import OutboxEvent
from models.orders import Order, OrderStatus, OrderStatusChange
from server.runtime import Runtime
from tests.billing.conftest import HYPERSWITCH_KEY, STRIPE_WEBHOOK_SECRET
from tests.billing.support import (
    REQUEST_REFUND,
    PlacedOrder,
    count_rows,
    hyperswitch_signature,
    invoice_for,
    make_order,
    pay,
    raw_id,
    rows,
    start_payment,
    stripe_event,
    stripe_signature,
)
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, quick_account


async def post_stripe(
    http: httpx.AsyncClient,
    body: bytes,
    *,
    secret: str = STRIPE_WEBHOOK_SECRET,
    timestamp: int | None = None,
    header: str | None = None,
) -> httpx.Response:
    signature = header if header is not None else stripe_signature(body, secret, timestamp)
    headers = {"Content-Type": "application/json"}
    if signature:
        headers["Stripe-Signature"] = signature
    return await http.post("/webhooks/stripe", content=body, headers=headers)


async def post_hyperswitch(
    http: httpx.AsyncClient, body: bytes, signature: str | None = None
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    headers["X-Hyperswitch-Signature"] = (
        hyperswitch_signature(body, HYPERSWITCH_KEY) if signature is None else signature
    )
    return await http.post("/webhooks/hyperswitch", content=body, headers=headers)


async def open_payment(
    runtime: Runtime, gql: GraphQLClient, slug: str = "acme", amount: int = 4200
) -> tuple[Account, PlacedOrder, dict[str, Any], dict[str, Any]]:
    staff = await quick_account(runtime, slug, Role.MANAGER)
    buyer = await quick_account(runtime, slug)
    order = await make_order(runtime, buyer, [("A", "Widget", amount, 1)])
    invoice = await invoice_for(gql, staff, order)
    payment = await start_payment(gql, buyer, invoice["id"])
    return buyer, order, invoice, payment


def succeeded(intent_id: str, amount: int, event_id: str | None = None) -> bytes:
    charge = {"id": "ch_1", "payment_method_details": {"card": {"brand": "visa", "last4": "1881"}}}
    obj = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": "eur",
        "status": "succeeded",
        "charges": {"data": [charge]},
    }
    return stripe_event("payment_intent.succeeded", obj, event_id)


async def test_payment_succeeded_pays_payment_invoice_and_order_once(
    runtime: Runtime, bgql: GraphQLClient, bhttp: httpx.AsyncClient
) -> None:
    buyer, order, _, payment = await open_payment(runtime, bgql)
    body = succeeded(payment["providerPaymentId"], 4200, "evt_paid_1")

    started = time.monotonic()
    response = await post_stripe(bhttp, body)
    assert time.monotonic() - started < 2
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False, "outcome": "PROCESSED"}

    (stored_payment,) = await rows(runtime, Payment)
    assert stored_payment.status == PaymentStatus.SUCCEEDED and stored_payment.card_last4 == "1881"
    (stored_invoice,) = await rows(runtime, Invoice)
    assert (stored_invoice.status, stored_invoice.amount_paid) == (InvoiceStatus.PAID, 4200)
    (stored_order,) = await rows(runtime, Order)
    assert stored_order.status == OrderStatus.PAID and stored_order.paid_at is not None
    (change,) = await rows(runtime, OrderStatusChange, OrderStatusChange.order_id == order.id)
    assert (change.from_status, change.to_status, change.actor, change.actor_user_id) == (
        OrderStatus.AWAITING_PAYMENT,
        OrderStatus.PAID,
        "webhook:stripe",
        None,
    )
    (event_row,) = await rows(runtime, WebhookEvent)
    assert (event_row.provider, event_row.provider_event_id, event_row.event_type) == (
        "stripe",
        "evt_paid_1",
        "payment_intent.succeeded",
    )
    assert event_row.outcome == WebhookOutcome.PROCESSED and event_row.tenant_id == buyer.tenant_id
    assert event_row.payload == json.loads(body)
    topics = [e.topic for e in await rows(runtime, OutboxEvent, order_by=OutboxEvent.seq)]
    # The paid order's notification (services/notifications) comes last, in the same transaction.
    assert topics[-4:] == [
        "invoice.status_changed",
        "order.status_changed",
        "payment.succeeded",
        "notification.changed",
    ]
    outbox_before = len(topics)

    # A replay (same event id, freshly signed) answers 200 and changes nothing.
    replay = await post_stripe(bhttp, body)
    assert replay.status_code == 200 and replay.json() == {"received": True, "duplicate": True}
    assert await count_rows(runtime, WebhookEvent) == 1
    assert await count_rows(runtime, OrderStatusChange) == 1
    assert await count_rows(runtime, OutboxEvent) == outbox_before
    # A second event for the already-paid intent is stored and changes nothing either.
    late = await post_stripe(bhttp, succeeded(payment["providerPaymentId"], 4200, "evt_paid_2"))
    assert late.json()["outcome"] == "PROCESSED"
    (_, second) = await rows(runtime, WebhookEvent, order_by=WebhookEvent.received_at)
    assert second.note == "payment had already succeeded"
    assert (await rows(runtime, Invoice))[0].amount_paid == 4200


async def test_the_same_event_delivered_twice_at_once_is_acted_on_once(
    runtime: Runtime, bgql: GraphQLClient, bhttp: httpx.AsyncClient
) -> None:
    _, order, _, payment = await open_payment(runtime, bgql)
    body = succeeded(payment["providerPaymentId"], 4200, f"evt_{uuid.uuid4().hex}")

    responses = await asyncio.gather(*(post_stripe(bhttp, body) for _ in range(4)))

    assert [r.status_code for r in responses] == [200] * 4
    assert sorted(r.json()["duplicate"] for r in responses) == [False, True, True, True]
    assert await count_rows(runtime, WebhookEvent) == 1
    assert await count_rows(runtime, OrderStatusChange, OrderStatusChange.order_id == order.id) == 1
    assert await count_rows(runtime, OutboxEvent, OutboxEvent.topic == "payment.succeeded") == 1
    assert (await rows(runtime, Invoice))[0].amount_paid == 4200


async def test_bad_signatures_stale_timestamps_and_malformed_bodies_are_400_and_store_nothing(
    runtime: Runtime, bgql: GraphQLClient, bhttp: httpx.AsyncClient
) -> None:
    _, _, _, payment = await open_payment(runtime, bgql)
    body = succeeded(payment["providerPaymentId"], 4200)
    now = int(time.time())

    cases = {
        "missing signature": await post_stripe(bhttp, body, header=""),
        "wrong secret": await post_stripe(bhttp, body, secret="whsec_someone_else"),
        "stale timestamp": await post_stripe(bhttp, body, timestamp=now - 301),
        "garbage header": await post_stripe(bhttp, body, header="nonsense"),
        "body changed after signing": await post_stripe(
            bhttp, body.replace(b"4200", b"1"), header=stripe_signature(body, STRIPE_WEBHOOK_SECRET)
        ),
        "malformed json": await post_stripe(bhttp, b'{"id": "evt_x", "type": '),
        "not an event": await post_stripe(bhttp, b'["evt_x"]'),
        "no event id": await post_stripe(bhttp, json.dumps({"type": "payment_intent.succeeded"}).encode()),
        "hyperswitch bad signature": await post_hyperswitch(bhttp, body, signature="00" * 64),
        "hyperswitch missing signature": await post_hyperswitch(bhttp, body, signature=""),
    }
    for name, response in cases.items():
        assert response.status_code == 400, name
        assert response.headers["content-type"] == "application/problem+json", name
        problem = response.json()
        assert problem["status"] == 400 and problem["type"] == "about:blank", name
    assert (
        cases["stale timestamp"]
        .json()["detail"]
        .startswith("Stripe-Signature: Timestamp outside the tolerance")
    )
    assert cases["malformed json"].json()["title"] == "Malformed webhook event"
    assert cases["wrong secret"].json()["title"] == "Webhook rejected"

    assert await count_rows(runtime, WebhookEvent) == 0
    assert (await rows(runtime, Payment))[0].status == PaymentStatus.REQUIRES_PAYMENT
    # Within the tolerance, the same event is accepted.
    accepted = await post_stripe(bhttp, body, timestamp=now - 290)
    assert accepted.status_code == 200 and accepted.json()["outcome"] == "PROCESSED"


async def test_unknown_event_types_are_ignored_and_unknown_payments_flagged(
    runtime: Runtime, bhttp: httpx.AsyncClient
) -> None:
    ignored = await post_stripe(bhttp, stripe_event("customer.created", {"id": "cus_1"}, "evt_ignored"))
    flagged = await post_stripe(bhttp, succeeded("pi_nobody_knows", 100, "evt_flagged"))
    no_ref = await post_stripe(bhttp, stripe_event("payment_intent.payment_failed", {}, "evt_no_ref"))

    assert [r.status_code for r in (ignored, flagged, no_ref)] == [200, 200, 200]
    assert ignored.json()["outcome"] == "IGNORED"
    assert flagged.json()["outcome"] == no_ref.json()["outcome"] == "FLAGGED"
    stored = {e.provider_event_id: e for e in await rows(runtime, WebhookEvent)}
    assert stored["evt_ignored"].outcome == WebhookOutcome.IGNORED
    assert stored["evt_ignored"].note == "event type customer.created is not handled"
    assert stored["evt_flagged"].outcome == WebhookOutcome.FLAGGED
    assert stored["evt_flagged"].note == "unknown payment 'pi_nobody_knows'"
    assert all(e.tenant_id is None for e in stored.values())
    replay = await post_stripe(bhttp, succeeded("pi_nobody_knows", 100, "evt_flagged"))
    assert replay.json()["duplicate"] is True and await count_rows(runtime, WebhookEvent) == 3


async def test_payment_failed_records_the_reason_and_leaves_the_order(
    runtime: Runtime, bgql: GraphQLClient, bhttp: httpx.AsyncClient
) -> None:
    _, order, _, payment = await open_payment(runtime, bgql)
    error = {
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds.",
        "payment_method": {"card": {"last4": "9995"}},
    }
    body = stripe_event(
        "payment_intent.payment_failed",
        {
            "id": payment["providerPaymentId"],
            "status": "requires_payment_method",
            "last_payment_error": error,
        },
    )

    response = await post_stripe(bhttp, body)

    assert response.json()["outcome"] == "PROCESSED"
    (stored,) = await rows(runtime, Payment)
    assert (stored.status, stored.failure_reason, stored.card_last4) == (
        PaymentStatus.FAILED,
        "Your card has insufficient funds.",
        "9995",
    )
    assert stored.failed_at is not None
    (stored_order,) = await rows(runtime, Order)
    assert stored_order.status == OrderStatus.AWAITING_PAYMENT
    assert await count_rows(runtime, OrderStatusChange, OrderStatusChange.order_id == order.id) == 0
    (event,) = await rows(runtime, OutboxEvent, OutboxEvent.topic == "payment.failed")
    assert event.payload["failureReason"] == "Your card has insufficient funds."
    assert event.payload["actor"] == "webhook:stripe"
    assert (await rows(runtime, Invoice))[0].status == InvoiceStatus.OPEN


async def test_refund_and_dispute_events_update_refunds(
    runtime: Runtime, bgql: GraphQLClient, bhttp: httpx.AsyncClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    order = await make_order(runtime, buyer, [("A", "Widget", 10000, 1)])
    payment = await pay(bgql, buyer, (await invoice_for(bgql, staff, order))["id"], "tok_refundFail")
    intent = payment["providerPaymentId"]
    requested = (
        await bgql(REQUEST_REFUND, {"input": {"paymentId": payment["id"], "amount": 4000}}, token=buyer.token)
    ).ok()["requestRefund"]["refund"]
    assert requested["status"] == "PROCESSING"
    refund_id = requested["providerRefundId"]

    # The provider reports that refund failed: FAILED, the amount is free again.
    failed = stripe_event(
        "refund.updated",
        {
            "id": refund_id,
            "object": "refund",
            "amount": 4000,
            "payment_intent": intent,
            "status": "failed",
            "failure_reason": "expired_or_canceled_card",
        },
    )
    assert (await post_stripe(bhttp, failed)).json()["outcome"] == "PROCESSED"
    (stored,) = await rows(runtime, Refund)
    assert (stored.status, stored.failure_reason) == (RefundStatus.FAILED, "expired_or_canceled_card")

    # charge.refunded naming a refund made at the provider's dashboard: recorded and applied.
    dashboard = stripe_event(
        "charge.refunded",
        {
            "id": "ch_1",
            "object": "charge",
            "payment_intent": intent,
            "amount_refunded": 2500,
            "refunds": {"data": [{"id": "re_dashboard_1", "amount": 2500, "status": "succeeded"}]},
        },
    )
    assert (await post_stripe(bhttp, dashboard)).json()["outcome"] == "PROCESSED"
    made = (await rows(runtime, Refund, Refund.provider_refund_id == "re_dashboard_1"))[0]
    assert (made.status, made.amount, made.order_id) == (RefundStatus.SUCCEEDED, 2500, order.id)
    (stored_payment,) = await rows(runtime, Payment)
    assert stored_payment.amount_refunded == 2500
    (stored_order,) = await rows(runtime, Order)
    assert (stored_order.status, stored_order.refunded_total) == (OrderStatus.PARTIALLY_REFUNDED, 2500)
    unknown = stripe_event(
        "refund.updated", {"id": "re_unknown", "payment_intent": intent, "status": "failed", "amount": 1}
    )
    assert (await post_stripe(bhttp, unknown)).json()["outcome"] == "FLAGGED"

    # A dispute: a Dispute row, its amount held by a refund with the dispute flag, under way.
    dispute = stripe_event(
        "charge.dispute.created",
        {"id": "du_1", "object": "dispute", "amount": 3000, "payment_intent": intent, "reason": "fraudulent"},
    )
    assert (await post_stripe(bhttp, dispute)).json()["outcome"] == "PROCESSED"
    (disputed,) = await rows(runtime, Refund, Refund.disputed.is_(True))
    assert (disputed.status, disputed.amount, disputed.reason, disputed.provider_refund_id) == (
        RefundStatus.PROCESSING,
        3000,
        "Dispute: fraudulent",
        None,
    )
    (recorded,) = await rows(runtime, Dispute)
    assert (recorded.provider_dispute_id, recorded.status, recorded.amount, recorded.refund_id) == (
        "du_1",
        DisputeStatus.OPEN,
        3000,
        disputed.id,
    )
    (event,) = await rows(runtime, OutboxEvent, OutboxEvent.topic == "dispute.opened")
    assert event.payload["amount"] == 3000 and event.payload["reason"] == "fraudulent"
    over = (
        await bgql(REQUEST_REFUND, {"input": {"paymentId": payment["id"], "amount": 4501}}, token=buyer.token)
    ).ok()["requestRefund"]
    assert over["userErrors"][0]["message"] == "At most 45.00 EUR of this payment can be refunded."


def hyperswitch_event(event_type: str, obj: dict[str, Any], event_id: str) -> bytes:
    return json.dumps(
        {
            "merchant_id": "merchant_1",
            "event_id": event_id,
            "event_type": event_type,
            "content": {"type": "payment_details", "object": obj},
            "timestamp": "2026-01-01T00:00:00Z",
        }
    ).encode()


async def test_hyperswitch_events_are_verified_and_processed_like_stripe_s(
    runtime: Runtime, bgql: GraphQLClient, bhttp: httpx.AsyncClient
) -> None:
    _, order, _, payment = await open_payment(runtime, bgql)
    body = hyperswitch_event(
        "payment_succeeded",
        {
            "payment_id": payment["providerPaymentId"],
            "status": "succeeded",
            "amount": 4200,
            "currency": "EUR",
        },
        "evt_hs_1",
    )

    response = await post_hyperswitch(bhttp, body)
    assert response.status_code == 200 and response.json()["outcome"] == "PROCESSED"
    (stored,) = await rows(runtime, Payment)
    assert stored.status == PaymentStatus.SUCCEEDED
    (change,) = await rows(runtime, OrderStatusChange, OrderStatusChange.order_id == order.id)
    assert (change.to_status, change.actor) == (OrderStatus.PAID, "webhook:hyperswitch")
    (event_row,) = await rows(runtime, WebhookEvent)
    assert (event_row.provider, event_row.provider_event_id) == ("hyperswitch", "evt_hs_1")
    assert (await post_hyperswitch(bhttp, body)).json()["duplicate"] is True
    # Signed with another key: refused, nothing stored.
    other = hyperswitch_event("payment_failed", {"payment_id": payment["providerPaymentId"]}, "evt_hs_2")
    forged = await post_hyperswitch(bhttp, other, signature=hyperswitch_signature(other, "not-the-key"))
    assert forged.status_code == 400 and await count_rows(runtime, WebhookEvent) == 1
    unknown = hyperswitch_event("mandate_active", {"mandate_id": "m_1"}, "evt_hs_3")
    assert (await post_hyperswitch(bhttp, unknown)).json()["outcome"] == "IGNORED"


async def test_webhooks_find_the_payment_in_whichever_tenant_it_lives(
    runtime: Runtime, bgql: GraphQLClient, bhttp: httpx.AsyncClient
) -> None:
    acme_buyer, acme_order, _, acme_payment = await open_payment(runtime, bgql, "acme")
    globex_buyer, globex_order, _, globex_payment = await open_payment(runtime, bgql, "globex", amount=999)

    response = await post_stripe(bhttp, succeeded(globex_payment["providerPaymentId"], 999))

    assert response.json()["outcome"] == "PROCESSED"
    statuses = {o.id: o.status for o in await rows(runtime, Order)}
    assert statuses == {acme_order.id: OrderStatus.AWAITING_PAYMENT, globex_order.id: OrderStatus.PAID}
    (event_row,) = await rows(runtime, WebhookEvent)
    assert event_row.tenant_id == globex_buyer.tenant_id != acme_buyer.tenant_id
    (change,) = await rows(runtime, OrderStatusChange)
    assert change.tenant_id == globex_buyer.tenant_id
    (paid_event,) = await rows(runtime, OutboxEvent, OutboxEvent.topic == "payment.succeeded")
    assert paid_event.tenant_id == globex_buyer.tenant_id
    payments = {p.id: p.status for p in await rows(runtime, Payment)}
    assert payments[raw_id(acme_payment["id"])] == PaymentStatus.REQUIRES_PAYMENT
    assert payments[raw_id(globex_payment["id"])] == PaymentStatus.SUCCEEDED
