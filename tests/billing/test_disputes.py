"""Disputes (chargebacks) end to end, through GraphQL, the fake Stripe and signed webhooks: opened by
``charge.dispute.created`` (once per dispute id) or by operation, evidence sent to the provider,
closed LOST (the holding refund SUCCEEDED, payment and order refunded) or WON (refund FAILED,
nothing refunded) by ``charge.dispute.closed`` or by operation; each step's outbox event; and the
refusals (buyers, amounts, closed disputes, another tenant's dispute, provider errors)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from core.permissions import Role
from models.billing import Invoice, InvoiceStatus, Payment, Refund, RefundStatus
from models.disputes import Dispute, DisputeStatus
from models.events import OutboxEvent
from models.orders import Order, OrderStatus
from server.runtime import Runtime
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from tests.billing.support import (
    REQUEST_REFUND,
    PlacedOrder,
    gid,
    invoice_for,
    make_order,
    pay,
    raw_id,
    rows,
    stripe_event,
)
from tests.billing.test_webhooks import post_stripe
from tests.support.api_keys import create_client, token_of
from tests.support.fake_stripe import FakeStripe
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, quick_account

DISPUTE_FIELDS = """
  id status amount { amount currency } reason provider providerDisputeId evidence evidenceSubmittedAt
  dueBy closedAt
  refund { status disputed amount { amount } failureReason }
  payment { id amountRefunded { amount } invoice { status amountPaid { amount } amountRefunded { amount } } }
  order { id status refundedTotal { amount } }
"""
DISPUTES = f"""
query($filter: DisputeFilterInput) {{
  disputes(filter: $filter) {{ totalCount nodes {{ {DISPUTE_FIELDS} }} }}
}}
"""
DISPUTE = f"query($id: ID!) {{ dispute(id: $id) {{ {DISPUTE_FIELDS} }} }}"
OPEN = f"""
mutation($input: OpenDisputeInput!) {{
  openDispute(input: $input) {{ dispute {{ {DISPUTE_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
EVIDENCE = f"""
mutation($input: SubmitDisputeEvidenceInput!) {{
  submitDisputeEvidence(input: $input) {{
    dispute {{ {DISPUTE_FIELDS} }} userErrors {{ field code message }}
  }}
}}
"""
CLOSE = f"""
mutation($input: CloseDisputeInput!) {{
  closeDispute(input: $input) {{ dispute {{ {DISPUTE_FIELDS} }} userErrors {{ field code message }} }}
}}
"""


async def paid_order(
    runtime: Runtime, gql: GraphQLClient, slug: str = "acme", amount: int = 10000
) -> tuple[Account, Account, PlacedOrder, dict[str, Any]]:
    staff = await quick_account(runtime, slug, Role.MANAGER)
    buyer = await quick_account(runtime, slug)
    order = await make_order(runtime, buyer, [("A", "Widget", amount, 1)])
    payment = await pay(gql, buyer, (await invoice_for(gql, staff, order))["id"])
    assert payment["status"] == "SUCCEEDED" and payment["order"]["status"] == "PAID"
    return staff, buyer, order, payment


def dispute_event(event_type: str, dispute: dict[str, Any], **changes: Any) -> bytes:
    return stripe_event(event_type, {**dispute, **changes})


async def mutate(gql: GraphQLClient, document: str, token: str, **input_: Any) -> dict[str, Any]:
    data = (await gql(document, {"input": input_}, token=token)).ok()
    (payload,) = data.values()
    return dict(payload)


async def topics(runtime: Runtime) -> list[str]:
    events = await rows(runtime, OutboxEvent, OutboxEvent.topic.like("dispute.%"), order_by=OutboxEvent.seq)
    return [e.topic for e in events]


async def test_a_webhook_dispute_gets_evidence_and_is_lost_refunding_payment_and_order(
    runtime: Runtime, bgql: GraphQLClient, bhttp: httpx.AsyncClient, fake_stripe: FakeStripe
) -> None:
    staff, buyer, order, payment = await paid_order(runtime, bgql)
    intent = payment["providerPaymentId"]
    at_stripe = fake_stripe.open_dispute(intent, 4000)
    du = at_stripe["id"]

    opened = dispute_event("charge.dispute.created", at_stripe)
    assert (await post_stripe(bhttp, opened)).json()["outcome"] == "PROCESSED"
    # The same dispute in another event (Stripe retries with new ids too): recorded once.
    again = dispute_event("charge.dispute.created", at_stripe)
    assert (await post_stripe(bhttp, again)).json()["outcome"] == "PROCESSED"

    (stored,) = await rows(runtime, Dispute)
    assert (stored.status, stored.amount, stored.currency, stored.reason) == (
        DisputeStatus.OPEN,
        4000,
        "EUR",
        "fraudulent",
    )
    assert (stored.payment_id, stored.order_id, stored.provider_dispute_id) == (
        raw_id(payment["id"]),
        order.id,
        du,
    )
    assert stored.due_by == datetime.fromtimestamp(at_stripe["evidence_details"]["due_by"], UTC)
    (holding,) = await rows(runtime, Refund, Refund.disputed.is_(True))
    assert (holding.id, holding.status, holding.amount) == (stored.refund_id, RefundStatus.PROCESSING, 4000)
    (event,) = await rows(runtime, OutboxEvent, OutboxEvent.topic == "dispute.opened")
    assert event.tenant_id == buyer.tenant_id
    assert event.payload == {
        "disputeId": str(stored.id),
        "paymentId": str(stored.payment_id),
        "orderId": str(order.id),
        "refundId": str(holding.id),
        "status": "OPEN",
        "amount": 4000,
        "currency": "EUR",
        "reason": "fraudulent",
        "actor": "webhook:stripe",
    }
    listed = (await bgql(DISPUTES, token=staff.token)).ok()["disputes"]
    assert listed["totalCount"] == 1
    (node,) = listed["nodes"]
    assert (node["status"], node["providerDisputeId"], node["amount"]) == (
        "OPEN",
        du,
        {"amount": 4000, "currency": "EUR"},
    )
    assert node["refund"] == {
        "status": "PROCESSING",
        "disputed": True,
        "amount": {"amount": 4000},
        "failureReason": None,
    }
    assert node["order"]["id"] == order.gid and node["payment"]["id"] == payment["id"]

    submitted = await mutate(
        bgql,
        EVIDENCE,
        staff.token,
        disputeId=node["id"],
        evidence={
            "productDescription": "A blue widget",
            "customerName": "Ann Buyer",
            "uncategorizedText": "Delivered and signed for.",
        },
    )
    assert submitted["userErrors"] == []
    assert submitted["dispute"]["status"] == "UNDER_REVIEW"
    assert submitted["dispute"]["evidenceSubmittedAt"] is not None
    assert submitted["dispute"]["evidence"] == {
        "product_description": "A blue widget",
        "customer_name": "Ann Buyer",
        "uncategorized_text": "Delivered and signed for.",
    }
    (call,) = fake_stripe.calls_to(f"/v1/disputes/{du}")
    assert call.form == {
        "evidence[product_description]": "A blue widget",
        "evidence[customer_name]": "Ann Buyer",
        "evidence[uncategorized_text]": "Delivered and signed for.",
        "submit": "true",
    }
    assert call.idempotency_key is not None and call.idempotency_key.startswith("dispute-evidence-")
    assert fake_stripe.disputes[du]["status"] == "under_review"
    twice = await mutate(bgql, EVIDENCE, staff.token, disputeId=node["id"], evidence={"customerName": "Ann"})
    assert [e["code"] for e in twice["userErrors"]] == ["DISPUTE_NOT_OPEN"]
    assert len(fake_stripe.calls_to(f"/v1/disputes/{du}")) == 1

    lost = dispute_event("charge.dispute.closed", at_stripe, status="lost")
    assert (await post_stripe(bhttp, lost)).json()["outcome"] == "PROCESSED"

    closed = (await bgql(DISPUTE, {"id": node["id"]}, token=staff.token)).ok()["dispute"]
    assert closed["status"] == "LOST" and closed["closedAt"] is not None
    assert closed["refund"]["status"] == "SUCCEEDED"
    assert closed["payment"]["amountRefunded"] == {"amount": 4000}
    # The invoice stays paid; what went back shows as its refunded amount.
    assert closed["payment"]["invoice"] == {
        "status": "PAID",
        "amountPaid": {"amount": 10000},
        "amountRefunded": {"amount": 4000},
    }
    assert closed["order"] == {
        "id": order.gid,
        "status": "PARTIALLY_REFUNDED",
        "refundedTotal": {"amount": 4000},
    }
    (stored_order,) = await rows(runtime, Order)
    assert (stored_order.status, stored_order.refunded_total) == (OrderStatus.PARTIALLY_REFUNDED, 4000)
    (closed_event,) = await rows(runtime, OutboxEvent, OutboxEvent.topic == "dispute.closed")
    assert (closed_event.payload["status"], closed_event.payload["actor"]) == ("LOST", "webhook:stripe")
    assert await topics(runtime) == ["dispute.opened", "dispute.evidence_submitted", "dispute.closed"]

    # Closed once: by operation it is refused, the webhook again changes nothing.
    refused = await mutate(bgql, CLOSE, staff.token, disputeId=node["id"], outcome="WON")
    assert [e["code"] for e in refused["userErrors"]] == ["DISPUTE_CLOSED"]
    replay = dispute_event("charge.dispute.closed", at_stripe, status="won")
    assert (await post_stripe(bhttp, replay)).json()["outcome"] == "PROCESSED"
    assert (await rows(runtime, Dispute))[0].status == DisputeStatus.LOST
    (stored_payment,) = await rows(runtime, Payment)
    assert stored_payment.amount_refunded == 4000
    over = await mutate(bgql, REQUEST_REFUND, buyer.token, paymentId=payment["id"], amount=6001)
    assert over["userErrors"][0]["message"] == "At most 60.00 EUR of this payment can be refunded."


async def test_a_dispute_won_by_webhook_fails_its_refund_and_frees_the_amount(
    runtime: Runtime, bgql: GraphQLClient, bhttp: httpx.AsyncClient, fake_stripe: FakeStripe
) -> None:
    _, buyer, _, payment = await paid_order(runtime, bgql)
    at_stripe = fake_stripe.open_dispute(payment["providerPaymentId"], 10000, reason="product_not_received")
    assert (await post_stripe(bhttp, dispute_event("charge.dispute.created", at_stripe))).json()[
        "outcome"
    ] == "PROCESSED"
    held = await mutate(bgql, REQUEST_REFUND, buyer.token, paymentId=payment["id"], amount=1)
    assert held["userErrors"][0]["message"] == "At most 0.00 EUR of this payment can be refunded."

    won = dispute_event("charge.dispute.closed", at_stripe, status="won")
    assert (await post_stripe(bhttp, won)).json()["outcome"] == "PROCESSED"

    (stored,) = await rows(runtime, Dispute)
    assert stored.status == DisputeStatus.WON and stored.closed_at is not None
    (refund,) = await rows(runtime, Refund)
    assert (refund.status, refund.failure_reason) == (RefundStatus.FAILED, "Dispute won")
    (stored_payment,) = await rows(runtime, Payment)
    assert stored_payment.amount_refunded == 0
    (stored_order,) = await rows(runtime, Order)
    assert (stored_order.status, stored_order.refunded_total) == (OrderStatus.PAID, 0)
    (invoice,) = await rows(runtime, Invoice)
    assert (invoice.status, invoice.amount_paid) == (InvoiceStatus.PAID, 10000)
    (event,) = await rows(runtime, OutboxEvent, OutboxEvent.topic == "dispute.closed")
    assert event.payload["status"] == "WON" and event.tenant_id == buyer.tenant_id
    # The money stayed: all of it may be refunded again.
    free = await mutate(bgql, REQUEST_REFUND, buyer.token, paymentId=payment["id"], amount=10001)
    assert free["userErrors"][0]["message"] == "At most 100.00 EUR of this payment can be refunded."
    # A close of a dispute never recorded here is flagged, nothing changes.
    unknown = dispute_event("charge.dispute.closed", {**at_stripe, "id": "du_never_seen"}, status="lost")
    assert (await post_stripe(bhttp, unknown)).json()["outcome"] == "FLAGGED"
    assert (await rows(runtime, Order))[0].refunded_total == 0


async def test_disputes_opened_and_closed_by_operation_by_staff_and_services(
    runtime: Runtime, bgql: GraphQLClient, bhttp: httpx.AsyncClient, fake_stripe: FakeStripe
) -> None:
    staff, buyer, order, payment = await paid_order(runtime, bgql)
    due = "2030-01-31T12:00:00+00:00"

    opened = await mutate(
        bgql, OPEN, staff.token, paymentId=payment["id"], amount=2500, reason="Bank letter 42", dueBy=due
    )
    assert opened["userErrors"] == []
    first = opened["dispute"]
    assert (first["status"], first["amount"], first["reason"], first["providerDisputeId"]) == (
        "OPEN",
        {"amount": 2500, "currency": "EUR"},
        "Bank letter 42",
        None,
    )
    assert first["dueBy"] == due and first["provider"] == "stripe"
    assert first["refund"]["status"] == "PROCESSING" and first["refund"]["disputed"] is True
    (stored,) = await rows(runtime, Dispute)
    assert stored.opened_by == staff.user_id and stored.order_id == order.id
    # Without the provider's id the evidence is kept here: nothing is sent.
    calls = len(fake_stripe.calls_to("/v1/disputes/"))
    submitted = await mutate(
        bgql, EVIDENCE, staff.token, disputeId=first["id"], evidence={"shippingTrackingNumber": "TRK-1"}
    )
    assert submitted["dispute"]["status"] == "UNDER_REVIEW"
    assert submitted["dispute"]["evidence"] == {"shipping_tracking_number": "TRK-1"}
    assert len(fake_stripe.calls_to("/v1/disputes/")) == calls

    lost = await mutate(bgql, CLOSE, staff.token, disputeId=first["id"], outcome="LOST")
    assert lost["userErrors"] == []
    assert lost["dispute"]["status"] == "LOST" and lost["dispute"]["refund"]["status"] == "SUCCEEDED"
    assert lost["dispute"]["payment"]["amountRefunded"] == {"amount": 2500}
    assert lost["dispute"]["order"]["status"] == "PARTIALLY_REFUNDED"
    assert lost["dispute"]["order"]["refundedTotal"] == {"amount": 2500}

    # A service principal (payments:process, acting in the tenant): default amount, all that is left.
    admin = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    secret, client = await create_client(bgql, admin, ["PAYMENTS_PROCESS"])
    token = str((await token_of(bhttp, client["clientId"], secret))["access_token"])
    acting = {"X-Tenant-Id": str(buyer.tenant_id)}
    data = (
        await bgql(
            OPEN, {"input": {"paymentId": payment["id"], "reason": "fraudulent"}}, token=token, headers=acting
        )
    ).ok()
    second = data["openDispute"]["dispute"]
    assert data["openDispute"]["userErrors"] == [] and second["amount"] == {"amount": 7500, "currency": "EUR"}
    close = {"input": {"disputeId": second["id"], "outcome": "WON"}}
    won = (await bgql(CLOSE, close, token=token, headers=acting)).ok()["closeDispute"]["dispute"]
    assert won["status"] == "WON" and won["refund"]["status"] == "FAILED"
    assert won["payment"]["amountRefunded"] == {"amount": 2500}
    assert won["order"]["refundedTotal"] == {"amount": 2500}
    assert (await rows(runtime, Dispute, Dispute.id == raw_id(second["id"])))[0].opened_by is None
    assert await topics(runtime) == [
        "dispute.opened",
        "dispute.evidence_submitted",
        "dispute.closed",
        "dispute.opened",
        "dispute.closed",
    ]
    # Listed newest first, and by status.
    listed = (await bgql(DISPUTES, token=staff.token)).ok()["disputes"]
    assert [n["id"] for n in listed["nodes"]] == [second["id"], first["id"]]
    only_lost = (await bgql(DISPUTES, {"filter": {"status": "LOST"}}, token=staff.token)).ok()["disputes"]
    assert [n["id"] for n in only_lost["nodes"]] == [first["id"]]


async def test_disputes_refuse_buyers_bad_amounts_closed_disputes_and_other_tenants(
    runtime: Runtime, bgql: GraphQLClient, bhttp: httpx.AsyncClient, fake_stripe: FakeStripe
) -> None:
    staff, buyer, _, payment = await paid_order(runtime, bgql)
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)

    as_buyer = await bgql(OPEN, {"input": {"paymentId": payment["id"]}}, token=buyer.token)
    assert as_buyer.error_codes == ["FORBIDDEN"]
    too_much = await mutate(bgql, OPEN, staff.token, paymentId=payment["id"], amount=10001)
    assert too_much["userErrors"] == [
        {
            "field": ["input", "amount"],
            "code": "REFUND_EXCEEDS_PAYMENT",
            "message": "At most 100.00 EUR of this payment can be disputed.",
        }
    ]
    zero = await mutate(bgql, OPEN, staff.token, paymentId=payment["id"], amount=0)
    assert [e["code"] for e in zero["userErrors"]] == ["INVALID_AMOUNT"]
    assert await rows(runtime, Dispute) == []

    # A provider id the provider does not know: recorded, but its evidence is refused there.
    opened = await mutate(
        bgql, OPEN, admin.token, paymentId=payment["id"], amount=3000, providerDisputeId="du_unknown_here"
    )
    assert opened["userErrors"] == []
    dispute_id = opened["dispute"]["id"]
    duplicate = await mutate(
        bgql, OPEN, staff.token, paymentId=payment["id"], amount=100, providerDisputeId="du_unknown_here"
    )
    assert [e["code"] for e in duplicate["userErrors"]] == ["DISPUTE_ALREADY_RECORDED"]
    empty = await mutate(bgql, EVIDENCE, staff.token, disputeId=dispute_id, evidence={"customerName": "  "})
    assert [e["code"] for e in empty["userErrors"]] == ["INVALID_EVIDENCE"]
    refused = await mutate(
        bgql, EVIDENCE, staff.token, disputeId=dispute_id, evidence={"customerName": "Ann"}
    )
    (error,) = refused["userErrors"]
    assert error["code"] == "PAYMENT_PROVIDER_ERROR" and "No such dispute" in error["message"]
    assert (await rows(runtime, Dispute))[0].status == DisputeStatus.OPEN
    by_buyer = await bgql(CLOSE, {"input": {"disputeId": dispute_id, "outcome": "WON"}}, token=buyer.token)
    assert by_buyer.error_codes == ["FORBIDDEN"]
    evidence_by_buyer = await bgql(
        EVIDENCE, {"input": {"disputeId": dispute_id, "evidence": {"customerName": "Me"}}}, token=buyer.token
    )
    assert evidence_by_buyer.error_codes == ["FORBIDDEN"]
    # The buyer sees the dispute of their payment; nothing more.
    seen = (await bgql(DISPUTE, {"id": dispute_id}, token=buyer.token)).ok()["dispute"]
    assert seen["status"] == "OPEN" and seen["amount"] == {"amount": 3000, "currency": "EUR"}

    # Another tenant's staff: the dispute does not exist for them.
    other = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    close = {"input": {"disputeId": dispute_id, "outcome": "LOST"}}
    assert (await bgql(CLOSE, close, token=other.token)).error_codes == ["NOT_FOUND"]
    assert (await bgql(DISPUTE, {"id": dispute_id}, token=other.token)).error_codes == ["NOT_FOUND"]
    assert (await bgql(DISPUTES, token=other.token)).ok()["disputes"]["totalCount"] == 0
    foreign_payment = await bgql(OPEN, {"input": {"paymentId": payment["id"]}}, token=other.token)
    assert foreign_payment.error_codes == ["NOT_FOUND"]
    missing = {"input": {"disputeId": gid("Dispute", uuid.uuid4()), "outcome": "LOST"}}
    assert (await bgql(CLOSE, missing, token=staff.token)).error_codes == ["NOT_FOUND"]

    # Closing twice: the second is refused and moves no money.
    first = await mutate(bgql, CLOSE, staff.token, disputeId=dispute_id, outcome="LOST")
    assert first["userErrors"] == [] and first["dispute"]["status"] == "LOST"
    second = await mutate(bgql, CLOSE, admin.token, disputeId=dispute_id, outcome="LOST")
    assert second["userErrors"] == [
        {"field": None, "code": "DISPUTE_CLOSED", "message": "The dispute was closed LOST."}
    ]
    (stored_payment,) = await rows(runtime, Payment)
    assert stored_payment.amount_refunded == 3000
    assert (await rows(runtime, Order))[0].refunded_total == 3000
    late = await mutate(bgql, EVIDENCE, staff.token, disputeId=dispute_id, evidence={"customerName": "Ann"})
    assert [e["code"] for e in late["userErrors"]] == ["DISPUTE_CLOSED"]
