"""The provider's customer of each buyer, against the fake Stripe server: created once with the
first card (an idempotency key per tenant and user), stored per tenant, and the customer every
later card is attached to; a customer the provider does not know is refused as a card error."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from core.scope import TenantScope
from models.billing import PaymentMethod, ProviderCustomer
from server.runtime import Runtime
from tests.billing.support import ADD_CARD, add_card, raw_id, rows
from tests.support.fake_stripe import Call, FakeStripe
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, quick_account


def customer_calls(fake_stripe: FakeStripe, buyer: Account) -> list[Call]:
    return [
        c
        for c in fake_stripe.calls_to("/v1/customers")
        if c.form.get("metadata[tenantgraph_user]") == str(buyer.user_id)
    ]


async def attached_customer(runtime: Runtime, fake_stripe: FakeStripe, card: dict) -> str:
    (method,) = await rows(runtime, PaymentMethod, PaymentMethod.id == raw_id(card["id"]))
    return str(fake_stripe.methods[method.provider_method_id]["customer"])


async def test_the_first_card_creates_one_customer_and_the_next_card_reuses_it(
    runtime: Runtime, bgql: GraphQLClient, fake_stripe: FakeStripe
) -> None:
    buyer = await quick_account(runtime, "acme")

    visa = await add_card(bgql, buyer, "tok_visa")
    (call,) = customer_calls(fake_stripe, buyer)
    assert (call.method, call.form, call.idempotency_key) == (
        "POST",
        {"email": buyer.email, "metadata[tenantgraph_user]": str(buyer.user_id)},
        f"cus-{buyer.tenant_id}-{buyer.user_id}",
    )
    (row,) = await rows(runtime, ProviderCustomer, ProviderCustomer.user_id == buyer.user_id)
    assert (row.tenant_id, row.provider) == (buyer.tenant_id, "stripe")
    assert row.provider_customer_id.startswith("cus_")
    assert fake_stripe.customers[row.provider_customer_id]["email"] == buyer.email
    assert await attached_customer(runtime, fake_stripe, visa) == row.provider_customer_id

    master = await add_card(bgql, buyer, "tok_mastercard")
    assert len(customer_calls(fake_stripe, buyer)) == 1
    assert await attached_customer(runtime, fake_stripe, master) == row.provider_customer_id
    stored = await rows(runtime, ProviderCustomer, ProviderCustomer.user_id == buyer.user_id)
    assert [(r.id, r.provider_customer_id) for r in stored] == [(row.id, row.provider_customer_id)]


async def test_each_user_gets_a_customer_of_their_own_in_their_own_tenant(
    runtime: Runtime, bgql: GraphQLClient, fake_stripe: FakeStripe
) -> None:
    first = await quick_account(runtime, "acme")
    second = await quick_account(runtime, "acme")
    elsewhere = await quick_account(runtime, "globex")

    cards = [await add_card(bgql, buyer, "tok_visa") for buyer in (first, second, elsewhere)]
    stored = {
        row.user_id: row
        for row in await rows(runtime, ProviderCustomer, ProviderCustomer.provider == "stripe")
    }
    assert set(stored) == {first.user_id, second.user_id, elsewhere.user_id}
    assert len({row.provider_customer_id for row in stored.values()}) == 3
    for buyer, card in zip((first, second, elsewhere), cards, strict=True):
        row = stored[buyer.user_id]
        assert len(customer_calls(fake_stripe, buyer)) == 1
        assert row.tenant_id == buyer.tenant_id
        assert await attached_customer(runtime, fake_stripe, card) == row.provider_customer_id

    # A tenant's session sees its own customers only.
    async with runtime.db.session(TenantScope.of(elsewhere.tenant_id)) as session:
        assert list(await session.scalars(select(ProviderCustomer.user_id))) == [elsewhere.user_id]


async def test_two_first_cards_at_once_share_one_customer(
    runtime: Runtime, bgql: GraphQLClient, fake_stripe: FakeStripe
) -> None:
    buyer = await quick_account(runtime, "acme")

    cards = await asyncio.gather(add_card(bgql, buyer, "tok_visa"), add_card(bgql, buyer, "tok_mastercard"))
    (row,) = await rows(runtime, ProviderCustomer, ProviderCustomer.user_id == buyer.user_id)
    created = [
        c["id"]
        for c in fake_stripe.customers.values()
        if c["metadata"] == {"tenantgraph_user": str(buyer.user_id)}
    ]
    assert created == [row.provider_customer_id]
    assert [await attached_customer(runtime, fake_stripe, card) for card in cards] == [
        row.provider_customer_id
    ] * 2


async def test_a_customer_the_provider_does_not_know_is_refused_as_a_card_error(
    runtime: Runtime, bgql: GraphQLClient, fake_stripe: FakeStripe
) -> None:
    buyer = await quick_account(runtime, "acme")
    async with runtime.db.transaction(TenantScope.of(buyer.tenant_id)) as session:
        session.add(
            ProviderCustomer(user_id=buyer.user_id, provider="stripe", provider_customer_id="cus_gone")
        )

    refused = (await bgql(ADD_CARD, {"input": {"cardToken": "tok_visa"}}, token=buyer.token)).ok()
    assert refused["addPaymentMethod"] == {
        "paymentMethod": None,
        "userErrors": [
            {
                "field": ["input", "cardToken"],
                "code": "CARD_REJECTED",
                "message": "The card was not accepted: No such customer: 'cus_gone'.",
            }
        ],
    }
    assert customer_calls(fake_stripe, buyer) == []
    assert await rows(runtime, PaymentMethod, PaymentMethod.user_id == buyer.user_id) == []
