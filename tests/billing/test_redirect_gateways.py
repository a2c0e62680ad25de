"""Redirect-style payment gateways against a fake ZarinPal over real HTTP: startGatewayPayment,
the payer's trip to the gateway's page, and GET /payments/callback/{provider} that verifies with
the gateway before anything is paid, pays once under concurrent callbacks, and sends the browser
on to the frontend with the outcome."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from core.permissions import Role
from core.settings import Settings
from models.base import utcnow
from models.billing import Invoice, InvoiceStatus, Payment, PaymentStatus, Refund
from models.events import OutboxEvent
from models.gateways import GatewayPayment
from models.orders import Order, OrderStatus
from server.app import create_app
from server.runtime import Runtime
from services.billing.gateway_payments import settle_abandoned_gateway_payments
from tests.billing.support import REQUEST_REFUND, PlacedOrder, gid, invoice_for, make_order, raw_id, rows
from tests.conftest import app_client, make_settings
from tests.harness.servers import PostgresServer, RedisServer
from tests.support.fake_gateway import CARD_PAN, FakeGateway
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, quick_account

RETURN_URL = "https://shop.example/checkout/result"
PUBLIC_URL = "https://api.shop.example"
START = """
mutation($input: StartGatewayPaymentInput!) {
  startGatewayPayment(input: $input) {
    redirectUrl authority
    payment { id status provider providerPaymentId amount { amount currency } }
    userErrors { field code message }
  }
}
"""


@pytest.fixture(scope="module")
def fake_gateway() -> Iterator[FakeGateway]:
    server = FakeGateway()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gateway_settings(
    settings: Settings, postgres: PostgresServer, redis_server: RedisServer, fake_gateway: FakeGateway
) -> Settings:
    # ``settings`` first: it has migrated the database.
    return make_settings(
        postgres.url,
        redis_server.url,
        zarinpal_url=fake_gateway.url,
        zarinpal_merchant_id=fake_gateway.merchant_id,
        gateway_return_url=RETURN_URL,
        public_url=PUBLIC_URL,
        billing_jobs_seconds=0,
    )


@pytest.fixture(scope="module")
async def gateway_app(app: Starlette, gateway_settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(gateway_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def ghttp(gateway_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(gateway_app, "203.0.113.21", "http://gateway-tests") as client:
        yield client


@pytest.fixture
def ggql(ghttp: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(ghttp)


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    """The payer's browser on the gateway's page (real HTTP; redirects looked at, not followed)."""
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as client:
        yield client


async def _start(gql: GraphQLClient, account: Account, **given: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (
        await gql(START, {"input": {"provider": "ZARINPAL", **given}}, token=account.token)
    ).ok()["startGatewayPayment"]
    return payload


async def _invoiced(
    runtime: Runtime, gql: GraphQLClient, amount: int = 250_000
) -> tuple[Account, dict, PlacedOrder]:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    order = await make_order(runtime, buyer, [("A", "Widget", amount, 2)], currency="IRR")
    return buyer, await invoice_for(gql, staff, order), order


async def _pay_at_gateway(browser: httpx.AsyncClient, redirect_url: str, pay: str = "ok") -> str:
    """The payer on the gateway's page; answers the callback path and query it sends them to."""
    answer = await browser.get(redirect_url, params={"pay": pay})
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}" == PUBLIC_URL
    return f"{location.path}?{location.query}"


def _outcome(response: httpx.Response) -> dict[str, list[str]]:
    assert response.status_code == 303, response.text
    target = urlsplit(response.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == RETURN_URL
    return parse_qs(target.query)


async def test_the_full_flow_pays_the_invoice_and_the_order_and_returns_to_the_frontend(
    runtime: Runtime,
    ggql: GraphQLClient,
    ghttp: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    fake_gateway: FakeGateway,
) -> None:
    buyer, invoice, order = await _invoiced(runtime, ggql)

    started = await _start(ggql, buyer, invoiceId=invoice["id"])
    assert started["userErrors"] == []
    payment, authority = started["payment"], started["authority"]
    assert started["redirectUrl"] == f"{fake_gateway.url}/pg/StartPay/{authority}"
    assert payment["status"] == "REQUIRES_PAYMENT" and payment["provider"] == "zarinpal"
    assert payment["providerPaymentId"] == authority
    assert payment["amount"] == {"amount": 500_000, "currency": "IRR"}
    at_gateway = fake_gateway.payments[authority]
    assert (at_gateway.amount, at_gateway.currency) == (500_000, "IRR")
    assert at_gateway.callback_url == f"{PUBLIC_URL}/payments/callback/zarinpal"
    assert at_gateway.description == f"Invoice {invoice['number']}"
    assert at_gateway.metadata["payment_id"] == str(raw_id(payment["id"]))

    callback = await _pay_at_gateway(browser, started["redirectUrl"])
    assert callback == f"/payments/callback/zarinpal?Authority={authority}&Status=OK"
    outcome = _outcome(await ghttp.get(callback))
    assert outcome == {"status": ["paid"], "payment": [payment["id"]]}

    (stored,) = await rows(runtime, Payment)
    assert (stored.status, stored.card_last4, stored.tenant_id) == (
        PaymentStatus.SUCCEEDED,
        "5995",
        buyer.tenant_id,
    )
    (row,) = await rows(runtime, GatewayPayment)
    assert (row.verify_code, row.card_pan, row.ref_id) == (100, CARD_PAN, str(at_gateway.ref_id))
    assert row.tenant_id == buyer.tenant_id and row.verified_at is not None and row.callbacks == 1
    (paid,) = await rows(runtime, Invoice)
    assert (paid.status, paid.amount_paid) == (InvoiceStatus.PAID, 500_000)
    (stored_order,) = await rows(runtime, Order, Order.id == order.id)
    assert stored_order.status == OrderStatus.PAID
    (event,) = await rows(runtime, OutboxEvent, OutboxEvent.topic == "payment.succeeded")
    assert event.payload["paymentId"] == str(stored.id) and event.payload["actor"] == "gateway:zarinpal"
    (verify,) = fake_gateway.calls_to("/verify.json")[-1:]
    assert verify.body == {"merchant_id": fake_gateway.merchant_id, "amount": 500_000, "authority": authority}


async def test_an_order_without_an_invoice_is_paid_directly(
    runtime: Runtime, ggql: GraphQLClient, ghttp: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    buyer = await quick_account(runtime, "acme")
    order = await make_order(runtime, buyer, [("A", "Widget", 120_000, 1)], currency="IRR")

    started = await _start(ggql, buyer, orderId=order.gid)
    assert started["userErrors"] == [] and started["payment"]["amount"]["amount"] == 120_000
    outcome = _outcome(await ghttp.get(await _pay_at_gateway(browser, started["redirectUrl"])))
    assert outcome["status"] == ["paid"]
    (stored,) = await rows(runtime, Payment)
    assert (stored.invoice_id, stored.order_id, stored.status) == (None, order.id, PaymentStatus.SUCCEEDED)
    (stored_order,) = await rows(runtime, Order)
    assert stored_order.status == OrderStatus.PAID

    again = await _start(ggql, buyer, orderId=order.gid)
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [
        (["input", "orderId"], "ORDER_NOT_PAYABLE")
    ]
    # The gateway takes no refunds through an API: back to the card is refused, with its reason;
    # the wallet keeps EUR, so a refund to the balance is refused too.
    for destination, error in (
        ("ORIGINAL_METHOD", "REFUND_DESTINATION_UNAVAILABLE"),
        ("BALANCE", "REFUND_CURRENCY_MISMATCH"),
    ):
        refused = (
            await ggql(
                REQUEST_REFUND, {"input": {"orderId": order.gid, "refundTo": destination}}, token=buyer.token
            )
        ).ok()["requestRefund"]
        assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [(["input", "refundTo"], error)]
    assert await rows(runtime, Refund) == []


async def test_a_forged_ok_callback_is_not_paid_until_the_gateway_verifies(
    runtime: Runtime,
    ggql: GraphQLClient,
    ghttp: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    fake_gateway: FakeGateway,
) -> None:
    buyer, invoice, _ = await _invoiced(runtime, ggql)
    started = await _start(ggql, buyer, invoiceId=invoice["id"])
    authority = started["authority"]

    forged = await ghttp.get("/payments/callback/zarinpal", params={"Authority": authority, "Status": "OK"})
    assert _outcome(forged) == {"status": ["failed"], "payment": [started["payment"]["id"]]}
    (stored,) = await rows(runtime, Payment)
    assert stored.status == PaymentStatus.FAILED and "(-51)" in (stored.failure_reason or "")
    (unpaid,) = await rows(runtime, Invoice)
    assert (unpaid.status, unpaid.amount_paid) == (InvoiceStatus.OPEN, 0)
    assert await rows(runtime, OutboxEvent, OutboxEvent.topic == "payment.succeeded") == []

    # The payer then really pays: the gateway's verification decides, and it is paid.
    outcome = _outcome(await ghttp.get(await _pay_at_gateway(browser, started["redirectUrl"])))
    assert outcome["status"] == ["paid"]
    (paid,) = await rows(runtime, Invoice)
    assert (paid.status, paid.amount_paid) == (InvoiceStatus.PAID, 500_000)


async def test_an_amount_the_gateway_did_not_charge_is_refused(
    runtime: Runtime,
    ggql: GraphQLClient,
    ghttp: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    fake_gateway: FakeGateway,
) -> None:
    buyer, invoice, order = await _invoiced(runtime, ggql)
    started = await _start(ggql, buyer, invoiceId=invoice["id"])
    fake_gateway.payments[started["authority"]].charged = 1_000  # a tampered payment page charged less

    outcome = _outcome(await ghttp.get(await _pay_at_gateway(browser, started["redirectUrl"])))
    assert outcome["status"] == ["failed"]
    assert fake_gateway.calls_to("/verify.json")[-1].body["amount"] == 500_000
    (stored,) = await rows(runtime, Payment)
    assert stored.status == PaymentStatus.FAILED and "(-50)" in (stored.failure_reason or "")
    (row,) = await rows(runtime, GatewayPayment)
    assert (row.verify_code, row.ref_id) == (-50, None)
    (unpaid,) = await rows(runtime, Invoice)
    assert (unpaid.status, unpaid.amount_paid) == (InvoiceStatus.OPEN, 0)
    (stored_order,) = await rows(runtime, Order, Order.id == order.id)
    assert stored_order.status == OrderStatus.AWAITING_PAYMENT


async def test_concurrent_and_repeated_callbacks_pay_once(
    runtime: Runtime,
    ggql: GraphQLClient,
    ghttp: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    fake_gateway: FakeGateway,
) -> None:
    buyer, invoice, order = await _invoiced(runtime, ggql)
    started = await _start(ggql, buyer, invoiceId=invoice["id"])
    callback = await _pay_at_gateway(browser, started["redirectUrl"])
    verifications_before = len(fake_gateway.calls_to("/verify.json"))

    answers = await asyncio.gather(*(ghttp.get(callback) for _ in range(6)))
    assert [_outcome(a)["status"] for a in answers] == [["paid"]] * 6
    assert _outcome(await ghttp.get(callback))["status"] == ["paid"]  # and once more, later

    (stored,) = await rows(runtime, Payment)
    assert stored.status == PaymentStatus.SUCCEEDED
    (paid,) = await rows(runtime, Invoice)
    assert (paid.status, paid.amount_paid) == (InvoiceStatus.PAID, 500_000)
    assert len(await rows(runtime, OutboxEvent, OutboxEvent.topic == "payment.succeeded")) == 1
    (row,) = await rows(runtime, GatewayPayment)
    assert row.callbacks == 7
    # Verified with the gateway once: the callbacks behind the lock found it paid.
    assert len(fake_gateway.calls_to("/verify.json")) == verifications_before + 1
    (stored_order,) = await rows(runtime, Order, Order.id == order.id)
    assert stored_order.status == OrderStatus.PAID


async def test_a_cancelled_payment_comes_back_nok_and_is_not_verified(
    runtime: Runtime,
    ggql: GraphQLClient,
    ghttp: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    fake_gateway: FakeGateway,
) -> None:
    buyer, invoice, _ = await _invoiced(runtime, ggql)
    started = await _start(ggql, buyer, invoiceId=invoice["id"])
    verifications_before = len(fake_gateway.calls_to("/verify.json"))

    callback = await _pay_at_gateway(browser, started["redirectUrl"], pay="cancel")
    assert callback.endswith("&Status=NOK")
    assert _outcome(await ghttp.get(callback)) == {
        "status": ["cancelled"],
        "payment": [started["payment"]["id"]],
    }
    (stored,) = await rows(runtime, Payment)
    assert stored.status == PaymentStatus.FAILED
    assert stored.failure_reason == "Cancelled by the payer at zarinpal."
    assert len(fake_gateway.calls_to("/verify.json")) == verifications_before
    (unpaid,) = await rows(runtime, Invoice)
    assert unpaid.status == InvoiceStatus.OPEN
    (event,) = await rows(runtime, OutboxEvent, OutboxEvent.topic == "payment.failed")
    assert event.payload["paymentId"] == str(stored.id)


async def test_unknown_authorities_providers_and_malformed_callbacks(
    runtime: Runtime, ghttp: httpx.AsyncClient
) -> None:
    unknown = await ghttp.get(
        "/payments/callback/zarinpal", params={"Authority": "A" + "0" * 35, "Status": "OK"}
    )
    assert _outcome(unknown) == {"status": ["unknown"]}

    no_gateway = await ghttp.get("/payments/callback/idpay", params={"Authority": "x", "Status": "OK"})
    assert no_gateway.status_code == 404
    assert no_gateway.headers["content-type"] == "application/problem+json"
    assert no_gateway.json()["title"] == "Unknown payment gateway"

    missing = await ghttp.get("/payments/callback/zarinpal", params={"Status": "OK"})
    assert (missing.status_code, missing.json()["status"]) == (400, 400)
    assert await rows(runtime, Payment) == []


async def test_a_gateway_outage_during_verification_leaves_the_payment_pending(
    runtime: Runtime,
    ggql: GraphQLClient,
    ghttp: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    fake_gateway: FakeGateway,
) -> None:
    buyer, invoice, _ = await _invoiced(runtime, ggql)
    started = await _start(ggql, buyer, invoiceId=invoice["id"])
    callback = await _pay_at_gateway(browser, started["redirectUrl"])

    fake_gateway.fail_verify = True
    try:
        assert _outcome(await ghttp.get(callback))["status"] == ["pending"]
    finally:
        fake_gateway.fail_verify = False
    (stored,) = await rows(runtime, Payment)
    assert stored.status == PaymentStatus.REQUIRES_PAYMENT
    assert _outcome(await ghttp.get(callback))["status"] == ["paid"]


async def test_another_tenants_invoice_or_order_cannot_be_started(
    runtime: Runtime, ggql: GraphQLClient, fake_gateway: FakeGateway
) -> None:
    buyer, invoice, order = await _invoiced(runtime, ggql)
    foreign = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    stranger = await quick_account(runtime, "acme")
    requests_before = len(fake_gateway.calls_to("/request.json"))

    for account in (foreign, stranger):
        for given in ({"invoiceId": invoice["id"]}, {"orderId": order.gid}):
            result = await ggql(START, {"input": {"provider": "ZARINPAL", **given}}, token=account.token)
            assert result.error_codes == ["NOT_FOUND"], (account, given)
    assert len(fake_gateway.calls_to("/request.json")) == requests_before
    assert await rows(runtime, Payment) == [] and await rows(runtime, GatewayPayment) == []
    assert buyer.tenant_id != foreign.tenant_id


async def test_an_idempotency_key_starts_one_payment_even_when_sent_twice_at_once(
    runtime: Runtime, ggql: GraphQLClient, fake_gateway: FakeGateway
) -> None:
    buyer, invoice, _ = await _invoiced(runtime, ggql)
    key = f"gw-{uuid.uuid4()}"
    requests_before = len(fake_gateway.calls_to("/request.json"))

    first, second = await asyncio.gather(
        *(
            ggql(
                START,
                {"input": {"provider": "ZARINPAL", "invoiceId": invoice["id"], "idempotencyKey": key}},
                token=buyer.token,
            )
            for _ in range(2)
        )
    )
    a, b = first.ok()["startGatewayPayment"], second.ok()["startGatewayPayment"]
    assert a["payment"]["id"] == b["payment"]["id"] and a["authority"] == b["authority"]
    assert a["redirectUrl"] == b["redirectUrl"]
    assert len(await rows(runtime, Payment)) == 1 and len(await rows(runtime, GatewayPayment)) == 1
    assert len(fake_gateway.calls_to("/request.json")) == requests_before + 1

    without_key = await _start(ggql, buyer, invoiceId=invoice["id"])
    assert without_key["payment"]["id"] != a["payment"]["id"]


async def test_bad_starts_answer_user_errors(runtime: Runtime, ggql: GraphQLClient) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    euro = await invoice_for(
        ggql, staff, await make_order(runtime, buyer, [("A", "A", 5000, 1)], currency="EUR")
    )
    draft = await invoice_for(
        ggql, staff, await make_order(runtime, buyer, [("A", "A", 5000, 1)], currency="IRR"), issue=False
    )

    def codes(payload: dict[str, Any]) -> list[tuple[list[str], str]]:
        return [(e["field"], e["code"]) for e in payload["userErrors"]]

    assert codes(await _start(ggql, buyer, invoiceId=euro["id"])) == [
        (["input", "provider"], "GATEWAY_CURRENCY_UNSUPPORTED")
    ]
    assert codes(await _start(ggql, buyer, invoiceId=draft["id"])) == [
        (["input", "invoiceId"], "INVOICE_NOT_PAYABLE")
    ]
    assert codes(await _start(ggql, buyer)) == [(["input", "invoiceId"], "INVOICE_OR_ORDER_REQUIRED")]
    both = await _start(ggql, buyer, invoiceId=euro["id"], orderId=gid("Order", uuid.uuid4()))
    assert codes(both) == [(["input", "invoiceId"], "INVOICE_OR_ORDER_REQUIRED")]
    assert await rows(runtime, Payment) == []


async def test_without_a_configured_gateway_the_embedded_run_answers_a_clear_user_error(
    runtime: Runtime, gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    invoice = await invoice_for(gql, staff, await make_order(runtime, buyer, currency="IRR"))

    payload = await _start(gql, buyer, invoiceId=invoice["id"])
    assert payload["userErrors"] == [
        {
            "field": ["input", "provider"],
            "code": "GATEWAY_NOT_CONFIGURED",
            "message": "The zarinpal gateway is not configured.",
        }
    ]
    assert payload["payment"] is None and payload["redirectUrl"] is None
    callback = await http.get("/payments/callback/zarinpal", params={"Authority": "A1", "Status": "OK"})
    assert callback.status_code == 404 and callback.headers["content-type"] == "application/problem+json"


async def test_the_billing_job_asks_the_gateway_about_payments_the_payer_never_came_back_from(
    runtime: Runtime,
    ggql: GraphQLClient,
    browser: httpx.AsyncClient,
    gateway_settings: Settings,
    fake_gateway: FakeGateway,
) -> None:
    buyer, invoice, order = await _invoiced(runtime, ggql)
    paid_there = await _start(ggql, buyer, invoiceId=invoice["id"])
    await _pay_at_gateway(browser, paid_there["redirectUrl"])  # the callback never arrives
    other_buyer, other_invoice, _ = await _invoiced(runtime, ggql)
    abandoned = await _start(ggql, other_buyer, invoiceId=other_invoice["id"])  # never even visited
    expired = utcnow() + timedelta(seconds=gateway_settings.gateway_payment_expiry_seconds + 5)

    async def statuses() -> dict[str, PaymentStatus]:
        return {p.provider_payment_id: p.status for p in await rows(runtime, Payment)}

    assert await settle_abandoned_gateway_payments(runtime.db, gateway_settings) == 0  # not yet due
    fake_gateway.fail_verify = True
    try:  # the gateway cannot be asked: nothing changes, the next round asks again
        assert await settle_abandoned_gateway_payments(runtime.db, gateway_settings, now=expired) == 0
    finally:
        fake_gateway.fail_verify = False
    assert set((await statuses()).values()) == {PaymentStatus.REQUIRES_PAYMENT}

    assert await settle_abandoned_gateway_payments(runtime.db, gateway_settings, now=expired) == 2
    assert await statuses() == {
        paid_there["authority"]: PaymentStatus.SUCCEEDED,
        abandoned["authority"]: PaymentStatus.FAILED,
    }
    (stored_order,) = await rows(runtime, Order, Order.id == order.id)
    assert stored_order.status == OrderStatus.PAID
    (failed,) = await rows(runtime, Payment, Payment.status == PaymentStatus.FAILED)
    assert failed.failure_reason is not None and "(-51)" in failed.failure_reason
    assert await settle_abandoned_gateway_payments(runtime.db, gateway_settings, now=expired) == 0
