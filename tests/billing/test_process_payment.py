"""processInvoicePayment against real PostgreSQL and the fake Stripe: a service principal charges the
amount due once (even under concurrent calls with different keys), a declined card is recorded as a
FAILED payment with a userError, and users or services without payments:process are refused."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from core.permissions import Role
from models.billing import Payment
from server.runtime import Runtime
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from tests.billing.support import add_card, invoice_for, make_order, raw_id, rows
from tests.support.api_keys import create_client, token_of
from tests.support.fake_stripe import FakeStripe
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, quick_account

PROCESS = """
mutation($input: ProcessInvoicePaymentInput!) {
  processInvoicePayment(input: $input) {
    payment { id status amount { amount currency } cardLast4 failureReason
      invoice { id status amountPaid { amount } } order { status } }
    userErrors { field code message }
  }
}
"""


async def service_token(
    gql: GraphQLClient, http: httpx.AsyncClient, runtime: Runtime, scopes: list[str]
) -> str:
    admin = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    secret, client = await create_client(gql, admin, scopes)
    return str((await token_of(http, client["clientId"], secret))["access_token"])


def charges_of(fake_stripe: FakeStripe, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    invoice_id = str(raw_id(invoice["id"]))
    return [i for i in fake_stripe.intents.values() if i.get("metadata", {}).get("invoice_id") == invoice_id]


async def setup(
    runtime: Runtime, bgql: GraphQLClient, card: str = "tok_visa"
) -> tuple[Account, dict[str, Any]]:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    order = await make_order(runtime, buyer, [("KB-1", "Keyboard", 2500, 3)])
    invoice = await invoice_for(bgql, staff, order)
    await add_card(bgql, buyer, card)
    return buyer, invoice


async def test_a_service_charges_the_amount_due_once_and_pays_invoice_and_order(
    runtime: Runtime, bgql: GraphQLClient, bhttp: httpx.AsyncClient, fake_stripe: FakeStripe
) -> None:
    buyer, invoice = await setup(runtime, bgql)
    token = await service_token(bgql, bhttp, runtime, ["PAYMENTS_PROCESS"])
    acting = {"X-Tenant-Id": str(buyer.tenant_id)}
    variables = {"input": {"invoiceId": invoice["id"], "idempotencyKey": f"pay-{uuid.uuid4()}"}}

    payload = (await bgql(PROCESS, variables, token=token, headers=acting)).ok()["processInvoicePayment"]
    assert payload["userErrors"] == []
    payment = payload["payment"]
    assert payment["status"] == "SUCCEEDED" and payment["cardLast4"] == "4242"
    assert payment["amount"] == {"amount": 7500, "currency": "EUR"}
    assert payment["invoice"] == {"id": invoice["id"], "status": "PAID", "amountPaid": {"amount": 7500}}
    assert payment["order"] == {"status": "PAID"}

    again = (await bgql(PROCESS, variables, token=token, headers=acting)).ok()["processInvoicePayment"]
    assert again["payment"]["id"] == payment["id"]
    other_key = {"input": {"invoiceId": invoice["id"], "idempotencyKey": f"pay-{uuid.uuid4()}"}}
    paid = (await bgql(PROCESS, other_key, token=token, headers=acting)).ok()["processInvoicePayment"]
    assert [e["code"] for e in paid["userErrors"]] == ["INVOICE_NOT_PAYABLE"]
    assert len(charges_of(fake_stripe, invoice)) == 1


async def test_two_concurrent_calls_with_different_keys_charge_once(
    runtime: Runtime, bgql: GraphQLClient, bhttp: httpx.AsyncClient, fake_stripe: FakeStripe
) -> None:
    buyer, invoice = await setup(runtime, bgql)
    token = await service_token(bgql, bhttp, runtime, ["PAYMENTS_PROCESS"])
    acting = {"X-Tenant-Id": str(buyer.tenant_id)}
    results = await asyncio.gather(
        *(
            bgql(
                PROCESS,
                {"input": {"invoiceId": invoice["id"], "idempotencyKey": key}},
                token=token,
                headers=acting,
            )
            for key in (uuid.uuid4().hex, uuid.uuid4().hex)
        )
    )
    payloads = [r.ok()["processInvoicePayment"] for r in results]
    assert sorted(bool(p["userErrors"]) for p in payloads) == [False, True]
    charged = [i for i in charges_of(fake_stripe, invoice) if i["status"] == "succeeded"]
    assert len(charged) == 1 and charged[0]["amount"] == 7500
    payments = await rows(runtime, Payment, Payment.invoice_id == raw_id(invoice["id"]))
    assert [(p.status.value, p.amount) for p in payments] == [("SUCCEEDED", 7500)]


async def test_a_declined_card_fails_the_payment_with_a_user_error(
    runtime: Runtime, bgql: GraphQLClient, bhttp: httpx.AsyncClient
) -> None:
    buyer, invoice = await setup(runtime, bgql, "tok_chargeDeclined")
    token = await service_token(bgql, bhttp, runtime, ["PAYMENTS_PROCESS"])
    acting = {"X-Tenant-Id": str(buyer.tenant_id)}
    result = (await bgql(PROCESS, {"input": {"invoiceId": invoice["id"]}}, token=token, headers=acting)).ok()
    payload = result["processInvoicePayment"]
    assert payload["payment"]["status"] == "FAILED"
    assert payload["payment"]["invoice"]["status"] == "OPEN"
    assert [e["code"] for e in payload["userErrors"]] == ["CARD_REJECTED"]
    (payment,) = await rows(runtime, Payment, Payment.invoice_id == raw_id(invoice["id"]))
    assert payment.failure_reason == "Your card was declined."


async def test_users_and_services_without_the_scope_are_refused(
    runtime: Runtime, bgql: GraphQLClient, bhttp: httpx.AsyncClient, fake_stripe: FakeStripe
) -> None:
    buyer, invoice = await setup(runtime, bgql)
    staff = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    variables = {"input": {"invoiceId": invoice["id"]}}
    for account in (buyer, staff):
        assert (await bgql(PROCESS, variables, token=account.token)).error_codes == ["FORBIDDEN"]
    token = await service_token(bgql, bhttp, runtime, ["PAYMENTS_WRITE"])
    refused = await bgql(PROCESS, variables, token=token, headers={"X-Tenant-Id": str(buyer.tenant_id)})
    assert refused.error_codes == ["FORBIDDEN"]
    assert charges_of(fake_stripe, invoice) == []
