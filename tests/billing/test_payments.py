"""Payments through the Stripe-compatible HTTP provider (the fake Stripe server), and through the
in-process provider of the embedded run: payment intents, server-side confirmation (success and
decline), idempotency keys, the payments connection, and payment methods with one default."""

from __future__ import annotations

import asyncio
import uuid

from core.permissions import Role
from models.billing import Payment, PaymentMethod, ProviderCustomer
from models.events import OutboxEvent
from models.orders import Order, OrderStatus, OrderStatusChange
from server.runtime import Runtime
from tests.billing.support import (
    ADD_CARD,
    CONFIRM_INTENT,
    CREATE_INTENT,
    add_card,
    gid,
    invoice_for,
    make_order,
    pay,
    raw_id,
    rows,
    start_payment,
)
from tests.support.fake_stripe import FakeStripe
from tests.support.graphql import GraphQLClient
from tests.support.identity import quick_account


async def test_a_payment_intent_then_a_confirmation_pays_the_invoice_and_the_order(
    runtime: Runtime, bgql: GraphQLClient, fake_stripe: FakeStripe
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    order = await make_order(runtime, buyer, [("A", "Widget", 2500, 3)])
    invoice = await invoice_for(bgql, staff, order)
    card = await add_card(bgql, buyer, "tok_visa")

    created = (await bgql(CREATE_INTENT, {"input": {"invoiceId": invoice["id"]}}, token=buyer.token)).ok()
    payload = created["createPaymentIntent"]
    payment = payload["payment"]
    assert payment["status"] == "REQUIRES_PAYMENT" and payment["provider"] == "stripe"
    assert payment["amount"] == {"amount": 7500, "currency": "EUR"}
    assert payload["clientSecret"] == payment["clientSecret"]
    assert payment["clientSecret"].startswith(payment["providerPaymentId"] + "_secret_")
    intent = fake_stripe.intents[payment["providerPaymentId"]]
    assert (intent["amount"], intent["currency"], intent["status"]) == (
        7500,
        "eur",
        "requires_payment_method",
    )
    assert intent["metadata"]["invoice_number"] == invoice["number"]
    assert intent["metadata"]["payment_id"] == str(raw_id(payment["id"]))
    (call,) = [c for c in fake_stripe.calls_to("/v1/payment_intents") if c.form.get("amount") == "7500"]
    assert call.idempotency_key == f"pi-{raw_id(payment['id'])}"

    confirmed = (
        await bgql(
            CONFIRM_INTENT,
            {"input": {"paymentId": payment["id"], "paymentMethodId": card["id"]}},
            token=buyer.token,
        )
    ).ok()["confirmPaymentIntent"]
    assert confirmed["userErrors"] == []
    paid = confirmed["payment"]
    assert paid["status"] == "SUCCEEDED" and paid["cardLast4"] == "4242" and paid["succeededAt"]
    assert paid["invoice"] == {"id": invoice["id"], "status": "PAID", "amountPaid": {"amount": 7500}}
    assert paid["order"]["status"] == "PAID"
    assert fake_stripe.intents[payment["providerPaymentId"]]["status"] == "succeeded"
    (change,) = await rows(runtime, OrderStatusChange, OrderStatusChange.to_status == OrderStatus.PAID)
    assert (change.actor, change.actor_user_id, change.from_status) == (
        "payment",
        buyer.user_id,
        OrderStatus.AWAITING_PAYMENT,
    )
    (event,) = await rows(runtime, OutboxEvent, OutboxEvent.topic == "payment.succeeded")
    assert event.payload["paymentId"] == str(raw_id(payment["id"])) and event.payload["amount"] == 7500

    again = (await bgql(CONFIRM_INTENT, {"input": {"paymentId": payment["id"]}}, token=buyer.token)).ok()
    assert [e["code"] for e in again["confirmPaymentIntent"]["userErrors"]] == ["INVALID_TRANSITION"]
    nothing_due = (await bgql(CREATE_INTENT, {"input": {"invoiceId": invoice["id"]}}, token=buyer.token)).ok()
    assert [e["code"] for e in nothing_due["createPaymentIntent"]["userErrors"]] == ["INVOICE_NOT_PAYABLE"]


async def test_a_declined_card_fails_the_payment_and_leaves_the_order_alone(
    runtime: Runtime, bgql: GraphQLClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    order = await make_order(runtime, buyer)
    invoice = await invoice_for(bgql, staff, order)
    await add_card(bgql, buyer, "tok_chargeDeclined")  # the first card is the default
    payment = await start_payment(bgql, buyer, invoice["id"])

    result = (await bgql(CONFIRM_INTENT, {"input": {"paymentId": payment["id"]}}, token=buyer.token)).ok()
    failed = result["confirmPaymentIntent"]["payment"]
    assert failed["status"] == "FAILED"
    assert failed["failureReason"] == "Your card was declined."
    assert failed["cardLast4"] == "0002"
    assert failed["invoice"]["status"] == "OPEN" and failed["order"]["status"] == "AWAITING_PAYMENT"
    (stored,) = await rows(runtime, Order, Order.id == order.id)
    assert stored.status == OrderStatus.AWAITING_PAYMENT and stored.paid_at is None
    (event,) = await rows(runtime, OutboxEvent, OutboxEvent.topic == "payment.failed")
    assert event.payload["failureReason"] == "Your card was declined."

    # Another card, and the same payment goes through.
    visa = await add_card(bgql, buyer, "tok_visa")
    retried = (
        await bgql(
            CONFIRM_INTENT,
            {"input": {"paymentId": payment["id"], "paymentMethodId": visa["id"]}},
            token=buyer.token,
        )
    ).ok()["confirmPaymentIntent"]["payment"]
    assert (
        retried["status"] == "SUCCEEDED"
        and retried["failureReason"] is None
        and retried["cardLast4"] == "4242"
    )


async def test_who_may_pay_which_invoice(runtime: Runtime, bgql: GraphQLClient) -> None:
    staff = await quick_account(runtime, "acme", Role.SUPPORT_AGENT)
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    buyer = await quick_account(runtime, "acme")
    stranger = await quick_account(runtime, "acme")
    foreign = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    invoice = await invoice_for(bgql, staff, await make_order(runtime, buyer))
    draft = await invoice_for(bgql, staff, await make_order(runtime, buyer), issue=False)

    for account, code in ((stranger, "NOT_FOUND"), (foreign, "NOT_FOUND"), (staff, "FORBIDDEN")):
        result = await bgql(CREATE_INTENT, {"input": {"invoiceId": invoice["id"]}}, token=account.token)
        assert result.error_codes == [code], account
    not_open = (await bgql(CREATE_INTENT, {"input": {"invoiceId": draft["id"]}}, token=buyer.token)).ok()
    assert not_open["createPaymentIntent"]["userErrors"] == [
        {
            "field": ["input", "invoiceId"],
            "code": "INVOICE_NOT_PAYABLE",
            "message": "A DRAFT invoice has nothing to pay.",
        }
    ]
    by_admin = (await bgql(CREATE_INTENT, {"input": {"invoiceId": invoice["id"]}}, token=admin.token)).ok()
    payment = by_admin["createPaymentIntent"]["payment"]
    assert payment["status"] == "REQUIRES_PAYMENT"
    assert payment["clientSecret"] is None  # the secret is for the payer's browser only
    no_card = (await bgql(CONFIRM_INTENT, {"input": {"paymentId": payment["id"]}}, token=buyer.token)).ok()
    assert [e["code"] for e in no_card["confirmPaymentIntent"]["userErrors"]] == ["PAYMENT_METHOD_REQUIRED"]
    assert (
        await bgql(CONFIRM_INTENT, {"input": {"paymentId": payment["id"]}}, token=stranger.token)
    ).error_codes == ["NOT_FOUND"]
    assert await rows(runtime, Payment, Payment.user_id == buyer.user_id) != []


async def test_an_idempotency_key_makes_one_intent_even_when_sent_twice_at_once(
    runtime: Runtime, bgql: GraphQLClient, fake_stripe: FakeStripe
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    invoice = await invoice_for(bgql, staff, await make_order(runtime, buyer, [("A", "A", 4321, 1)]))
    key = f"key-{uuid.uuid4()}"
    before = len(fake_stripe.calls_to("/v1/payment_intents"))

    first, second = await asyncio.gather(
        *(
            bgql(
                CREATE_INTENT,
                {"input": {"invoiceId": invoice["id"]}},
                token=buyer.token,
                headers={"Idempotency-Key": key},
            )
            for _ in range(2)
        )
    )
    a, b = first.ok()["createPaymentIntent"]["payment"], second.ok()["createPaymentIntent"]["payment"]
    assert a["id"] == b["id"] and a["providerPaymentId"] == b["providerPaymentId"]
    assert len(await rows(runtime, Payment)) == 1
    assert len(fake_stripe.calls_to("/v1/payment_intents")) == before + 1
    other_body = await bgql(
        CREATE_INTENT,
        {"input": {"invoiceId": invoice["id"], "paymentMethodId": gid("PaymentMethod", uuid.uuid4())}},
        token=buyer.token,
        headers={"Idempotency-Key": key},
    )
    assert other_body.error_codes == ["CONFLICT"]


PAYMENTS = """
query($filter: PaymentFilterInput) {
  payments(filter: $filter, first: 10) { totalCount nodes { id status amount { amount } customer { email } } }
}
"""
PAYMENT = "query($id: ID!) { payment(id: $id) { id status invoice { number } refunds { id } } }"


async def test_the_payments_connection_shows_owners_their_own_and_staff_all(
    runtime: Runtime, bgql: GraphQLClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    ada = await quick_account(runtime, "acme", email="ada@acme.example")
    bob = await quick_account(runtime, "acme", email="bob@acme.example")
    ada_paid = await pay(bgql, ada, (await invoice_for(bgql, staff, await make_order(runtime, ada)))["id"])
    ada_open = await start_payment(
        bgql, ada, (await invoice_for(bgql, staff, await make_order(runtime, ada)))["id"]
    )
    bob_paid = await pay(bgql, bob, (await invoice_for(bgql, staff, await make_order(runtime, bob)))["id"])
    stranger = await quick_account(runtime, "globex", Role.MANAGER)

    mine = (await bgql(PAYMENTS, token=ada.token)).ok()["payments"]
    assert mine["totalCount"] == 2 and {n["id"] for n in mine["nodes"]} == {ada_paid["id"], ada_open["id"]}
    succeeded = (await bgql(PAYMENTS, {"filter": {"status": "SUCCEEDED"}}, token=staff.token)).ok()[
        "payments"
    ]
    assert {n["customer"]["email"] for n in succeeded["nodes"]} == {"ada@acme.example", "bob@acme.example"}
    assert (await bgql(PAYMENTS, token=staff.token)).ok()["payments"]["totalCount"] == 3
    assert (await bgql(PAYMENTS, token=stranger.token)).ok()["payments"]["totalCount"] == 0
    assert (await bgql(PAYMENT, {"id": bob_paid["id"]}, token=ada.token)).error_codes == ["NOT_FOUND"]
    assert (await bgql(PAYMENT, {"id": bob_paid["id"]}, token=stranger.token)).error_codes == ["NOT_FOUND"]
    assert (await bgql(PAYMENT, {"id": bob_paid["id"]}, token=bob.token)).ok()["payment"][
        "status"
    ] == "SUCCEEDED"


async def test_the_in_process_provider_of_the_embedded_run_behaves_the_same(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    invoice = await invoice_for(gql, staff, await make_order(runtime, buyer, [("A", "A", 990, 1)]))
    declined_card = await add_card(gql, buyer, "tok_chargeDeclined")
    payment = await start_payment(gql, buyer, invoice["id"])
    assert payment["providerPaymentId"].startswith("pi_") and "_secret_" in payment["clientSecret"]
    declined = (
        await gql(
            CONFIRM_INTENT,
            {"input": {"paymentId": payment["id"], "paymentMethodId": declined_card["id"]}},
            token=buyer.token,
        )
    ).ok()["confirmPaymentIntent"]["payment"]
    assert (declined["status"], declined["failureReason"]) == ("FAILED", "Your card was declined.")
    paid = await pay(gql, buyer, invoice["id"], "tok_mastercard")
    assert paid["status"] == "SUCCEEDED" and paid["cardLast4"] == "4444"
    assert paid["invoice"]["status"] == "PAID" and paid["order"]["status"] == "PAID"
    rejected = (await gql(ADD_CARD, {"input": {"cardToken": "tok_nonsense"}}, token=buyer.token)).ok()
    assert [e["code"] for e in rejected["addPaymentMethod"]["userErrors"]] == ["CARD_REJECTED"]


METHODS = "query { paymentMethods(first: 10) { totalCount nodes { id brand last4 isDefault } } }"
SET_DEFAULT = """
mutation($input: PaymentMethodIdInput!) {
  setDefaultPaymentMethod(input: $input) { paymentMethod { id isDefault } userErrors { code } }
}
"""
REMOVE = """
mutation($input: PaymentMethodIdInput!) {
  removePaymentMethod(input: $input) { removedId userErrors { code } }
}
"""


async def test_payment_methods_keep_exactly_one_default(
    runtime: Runtime, bgql: GraphQLClient, fake_stripe: FakeStripe
) -> None:
    buyer = await quick_account(runtime, "acme")
    other = await quick_account(runtime, "acme")

    visa = await add_card(bgql, buyer, "tok_visa")
    assert (visa["brand"], visa["last4"], visa["expMonth"], visa["expYear"], visa["isDefault"]) == (
        "visa",
        "4242",
        12,
        2034,
        True,
    )
    provider_id = (await rows(runtime, PaymentMethod, PaymentMethod.id == raw_id(visa["id"])))[
        0
    ].provider_method_id
    (customer,) = await rows(runtime, ProviderCustomer, ProviderCustomer.user_id == buyer.user_id)
    assert fake_stripe.methods[provider_id]["customer"] == customer.provider_customer_id
    master = await add_card(bgql, buyer, "tok_mastercard")
    assert master["isDefault"] is False
    made_default = await bgql(
        ADD_CARD, {"input": {"cardToken": "tok_visa", "makeDefault": True}}, token=buyer.token
    )
    third = made_default.ok()["addPaymentMethod"]["paymentMethod"]

    def defaults(listing: dict) -> list[str]:
        return [n["id"] for n in listing["paymentMethods"]["nodes"] if n["isDefault"]]

    listing = (await bgql(METHODS, token=buyer.token)).ok()
    assert listing["paymentMethods"]["totalCount"] == 3 and defaults(listing) == [third["id"]]

    switched = (await bgql(SET_DEFAULT, {"input": {"id": master["id"]}}, token=buyer.token)).ok()
    assert switched["setDefaultPaymentMethod"]["paymentMethod"] == {"id": master["id"], "isDefault": True}
    assert defaults((await bgql(METHODS, token=buyer.token)).ok()) == [master["id"]]

    # Concurrent switches still leave one default.
    await asyncio.gather(
        *(
            bgql(SET_DEFAULT, {"input": {"id": m["id"]}}, token=buyer.token)
            for m in (visa, third, master, visa)
        )
    )
    assert len(defaults((await bgql(METHODS, token=buyer.token)).ok())) == 1

    assert (await bgql(SET_DEFAULT, {"input": {"id": master["id"]}}, token=other.token)).error_codes == [
        "NOT_FOUND"
    ]
    assert (await bgql(REMOVE, {"input": {"id": master["id"]}}, token=other.token)).error_codes == [
        "NOT_FOUND"
    ]
    assert (await bgql(METHODS, token=other.token)).ok()["paymentMethods"]["totalCount"] == 0

    current = defaults((await bgql(METHODS, token=buyer.token)).ok())[0]
    removed = (await bgql(REMOVE, {"input": {"id": current}}, token=buyer.token)).ok()["removePaymentMethod"]
    assert removed == {"removedId": current, "userErrors": []}
    after = (await bgql(METHODS, token=buyer.token)).ok()
    assert after["paymentMethods"]["totalCount"] == 2 and len(defaults(after)) == 1
    assert [c.path for c in fake_stripe.calls_to("/v1/payment_methods/") if c.path.endswith("/detach")] != []
    for node in after["paymentMethods"]["nodes"]:
        await bgql(REMOVE, {"input": {"id": node["id"]}}, token=buyer.token)
    assert (await bgql(METHODS, token=buyer.token)).ok()["paymentMethods"]["totalCount"] == 0
