"""Seller payouts against the fake Stripe (Connect) server: a paid order schedules one transfer per
seller (their lines after discount, before tax, less the platform fee), the billing job pays the
connected sellers and the others once they connect, balances come from the provider, refusals and
outages end FAILED or retry, admins retry, and each seller sees only their own transfers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from core.permissions import Role
from core.scope import TenantScope
from models.base import utcnow
from models.catalog import Product, ProductStatus
from models.events import OutboxEvent
from models.identity.accounts import Tenant
from models.orders import OrderItem
from models.payouts import Transfer, TransferStatus
from server.runtime import Runtime
from services.billing import payouts
from services.billing.retries import backoff
from services.orders import pricing
from tests.billing.support import PlacedOrder, gid, invoice_for, make_order, pay, rows
from tests.support.fake_stripe import FakeStripe
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, quick_account

ONBOARD = """
mutation($input: StartSellerOnboardingInput!) {
  startSellerOnboarding(input: $input) { url userErrors { field code } }
}
"""
BALANCE = "query { sellerBalance { connected available { amount currency } pending { amount currency } } }"
TRANSFERS = """
query($filter: TransferFilterInput) {
  transfers(filter: $filter) {
    totalCount
    nodes {
      id status amount { amount } platformFee { amount } nextRetryAt lastError seller { id } order { id }
    }
  }
}
"""
RETRY = """
mutation($id: ID!) {
  retryTransfer(input: {id: $id}) { transfer { status lastError } userErrors { field code } }
}
"""
URLS = {"returnUrl": "https://shop.example/sell/done", "refreshUrl": "https://shop.example/sell/again"}


async def onboard(gql: GraphQLClient, seller: Account) -> str:
    payload = (await gql(ONBOARD, {"input": URLS}, token=seller.token)).ok()["startSellerOnboarding"]
    assert payload["userErrors"] == [], payload
    url: str = payload["url"]
    return url


async def sold(
    runtime: Runtime,
    gql: GraphQLClient,
    buyer: Account,
    staff: Account,
    lines: list[tuple[Account | None, int, int]],
    discount: pricing.Discount | None = None,
) -> PlacedOrder:
    """A paid order of products of the given sellers (None: the tenant's own)."""
    order = await make_order(
        runtime,
        buyer,
        [(f"S-{uuid.uuid4().hex[:8]}", "Item", price, qty) for _, price, qty in lines],
        discount=discount,
        tax_rate_bps=2000,
    )
    async with runtime.db.transaction(TenantScope.of(buyer.tenant_id)) as session:
        for position, (seller, price, _) in enumerate(lines, 1):
            product = Product(
                id=uuid.uuid4(),
                sku=f"P-{uuid.uuid4().hex[:10]}",
                name="Item",
                base_price=price,
                currency="EUR",
                status=ProductStatus.ACTIVE,
                seller_id=seller.user_id if seller else None,
                attributes={},
                image_urls=[],
            )
            session.add(product)
            await session.flush()
            await session.execute(
                update(OrderItem)
                .where(OrderItem.order_id == order.id, OrderItem.position == position)
                .values(product_id=product.id)
            )
    payment = await pay(gql, buyer, (await invoice_for(gql, staff, order))["id"])
    assert payment["status"] == "SUCCEEDED"
    return order


async def fee(runtime: Runtime, tenant_id: uuid.UUID, value: Any) -> None:
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        tenant = await session.get(Tenant, tenant_id)
        assert tenant is not None
        tenant.settings = {**tenant.settings, "platformFeeBps": value}


def account_of(fake_stripe: FakeStripe, seller: Account) -> str:
    """The seller's one connected account at the fake."""
    (found,) = [
        a["id"]
        for a in fake_stripe.accounts.values()
        if a["metadata"] == {"tenantgraph_user": str(seller.user_id)}
    ]
    return str(found)


async def listed(gql: GraphQLClient, account: Account, **filter_: Any) -> dict[str, Any]:
    found: dict[str, Any] = (await gql(TRANSFERS, {"filter": filter_}, token=account.token)).ok()["transfers"]
    return found


async def test_paid_orders_pay_each_seller_their_share(
    runtime: Runtime, billing_runtime: Runtime, bgql: GraphQLClient, fake_stripe: FakeStripe
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    ann, bob = await quick_account(runtime, "acme"), await quick_account(runtime, "acme")
    await fee(runtime, buyer.tenant_id, 1000)
    link = await onboard(bgql, ann)
    account_id = account_of(fake_stripe, ann)
    assert link == f"{fake_stripe.url}/connect/onboarding/{account_id}"
    assert await onboard(bgql, ann) == link  # one account, however often asked
    assert [a["type"] for a in fake_stripe.accounts.values() if a["id"] == account_id] == ["express"]

    order = await sold(
        runtime,
        bgql,
        buyer,
        staff,
        [(ann, 3000, 2), (bob, 1000, 1), (None, 500, 1)],
        pricing.Discount(percent_bps=1000),
    )
    by_seller = {t.seller_id: t for t in await rows(runtime, Transfer)}
    # Each line after its 10 % discount, before its 20 % tax; the platform keeps 10 % of that.
    assert {s: (t.amount, t.platform_fee, t.status) for s, t in by_seller.items()} == {
        ann.user_id: (4860, 540, TransferStatus.PENDING),
        bob.user_id: (810, 90, TransferStatus.PENDING),
    }
    assert by_seller[ann.user_id].next_retry_at is not None and by_seller[bob.user_id].next_retry_at is None

    assert await payouts.send_due_transfers(billing_runtime.db, billing_runtime.payment_provider) == 1
    (paid,) = await rows(runtime, Transfer, Transfer.seller_id == ann.user_id)
    assert paid.status == TransferStatus.PAID and paid.paid_at is not None
    sent = fake_stripe.transfers[paid.provider_transfer_id]
    assert (sent["amount"], sent["currency"], sent["destination"], sent["transfer_group"]) == (
        4860,
        "eur",
        account_id,
        f"order-{order.id}",
    )
    (call,) = fake_stripe.calls_to("/v1/transfers")[-1:]
    assert call.idempotency_key == f"transfer-{paid.id}"
    balance = (await bgql(BALANCE, token=ann.token)).ok()["sellerBalance"]
    assert balance == {"connected": True, "available": [], "pending": [{"amount": 4860, "currency": "EUR"}]}

    # Bob waits until he connects; then the job pays him too.
    assert (await bgql(BALANCE, token=bob.token)).ok()["sellerBalance"] == {
        "connected": False,
        "available": [],
        "pending": [],
    }
    waiting = await listed(bgql, bob)
    assert (waiting["totalCount"], waiting["nodes"][0]["status"], waiting["nodes"][0]["nextRetryAt"]) == (
        1,
        "PENDING",
        None,
    )
    assert await payouts.send_due_transfers(billing_runtime.db, billing_runtime.payment_provider) == 0
    await onboard(bgql, bob)
    assert await payouts.send_due_transfers(billing_runtime.db, billing_runtime.payment_provider) == 1
    assert (await listed(bgql, bob))["nodes"][0]["status"] == "PAID"

    # Sellers see their own, staff everyone's, the buyer none.
    mine = await listed(bgql, ann)
    assert [(n["amount"]["amount"], n["seller"]["id"], n["order"]) for n in mine["nodes"]] == [
        (4860, ann.gid, None)
    ]
    everyone = await listed(bgql, staff, status="PAID")
    assert sorted(n["amount"]["amount"] for n in everyone["nodes"]) == [810, 4860]
    assert {n["order"]["id"] for n in everyone["nodes"]} == {order.gid}
    assert (await listed(bgql, staff, sellerId=bob.gid))["totalCount"] == 1
    assert (await listed(bgql, buyer))["totalCount"] == 0
    events = await rows(
        runtime, OutboxEvent, OutboxEvent.topic == "transfer.updated", order_by=OutboxEvent.seq
    )
    seen = [(e.payload["sellerId"], e.payload["status"]) for e in events]
    # Both scheduled with the payment (in seller id order), then each paid.
    assert sorted(seen[:2]) == sorted([(str(ann.user_id), "PENDING"), (str(bob.user_id), "PENDING")])
    assert seen[2:] == [(str(ann.user_id), "PAID"), (str(bob.user_id), "PAID")]


async def test_refusals_outages_and_admin_retries(
    runtime: Runtime, billing_runtime: Runtime, bgql: GraphQLClient, fake_stripe: FakeStripe
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    cat = await quick_account(runtime, "acme")
    bad = (await bgql(ONBOARD, {"input": {**URLS, "returnUrl": "ftp://x"}}, token=cat.token)).ok()
    assert bad["startSellerOnboarding"]["userErrors"] == [
        {"field": ["input", "returnUrl"], "code": "INVALID_URL"}
    ]
    await onboard(bgql, cat)

    async def job(after: timedelta = timedelta(0)) -> int:
        return await payouts.send_due_transfers(
            billing_runtime.db, billing_runtime.payment_provider, now=utcnow() + after
        )

    # A transient outage: retried with backoff, then paid.
    fake_stripe.outages["/v1/transfers"] = 1
    await sold(runtime, bgql, buyer, staff, [(cat, 1000, 1)])
    assert await job() == 1
    (row,) = await rows(runtime, Transfer)
    assert (row.status, row.retry_count) == (TransferStatus.PENDING, 1)
    assert await job() == 0  # not due yet
    assert await job(backoff(1) + timedelta(seconds=1)) == 1
    (row,) = await rows(runtime, Transfer)
    assert (row.status, row.amount) == (TransferStatus.PAID, 1000)

    # A refusal (the account is gone at the provider) is FAILED at once; only staff retry it.
    account = fake_stripe.accounts.pop(account_of(fake_stripe, cat))
    second = await sold(runtime, bgql, buyer, staff, [(cat, 2000, 1)])
    assert await job() == 1
    (failed,) = await rows(runtime, Transfer, Transfer.order_id == second.id)
    assert (failed.status, failed.last_error, failed.key_generation) == (
        TransferStatus.FAILED,
        "No such destination.",
        1,
    )
    transfer_gid = gid("Transfer", failed.id)
    assert (await bgql(RETRY, {"id": transfer_gid}, token=cat.token)).error_codes == ["FORBIDDEN"]
    fake_stripe.accounts[account["id"]] = account
    retried = (await bgql(RETRY, {"id": transfer_gid}, token=staff.token)).ok()["retryTransfer"]
    assert retried == {"transfer": {"status": "PAID", "lastError": None}, "userErrors": []}
    assert fake_stripe.calls_to("/v1/transfers")[-1].idempotency_key == f"transfer-{failed.id}-1"
    again = (await bgql(RETRY, {"id": transfer_gid}, token=staff.token)).ok()["retryTransfer"]
    assert again["userErrors"] == [{"field": ["input", "id"], "code": "TRANSFER_NOT_FAILED"}]

    # A misconfigured fee never blocks the payment: FAILED with the reason, split again on retry.
    await fee(runtime, buyer.tenant_id, "ten percent")
    third = await sold(runtime, bgql, buyer, staff, [(cat, 3000, 1)])
    (held,) = await rows(runtime, Transfer, Transfer.order_id == third.id)
    assert (held.status, held.last_error, held.amount, held.platform_fee) == (
        TransferStatus.FAILED,
        payouts.FEE_MISCONFIGURED,
        3000,
        0,
    )
    await fee(runtime, buyer.tenant_id, 500)
    fixed = (await bgql(RETRY, {"id": gid("Transfer", held.id)}, token=staff.token)).ok()["retryTransfer"]
    assert fixed["transfer"]["status"] == "PAID"
    (held,) = await rows(runtime, Transfer, Transfer.order_id == third.id)
    assert (held.amount, held.platform_fee) == (2850, 150)


async def test_concurrent_jobs_and_retries_send_each_transfer_once(
    runtime: Runtime, billing_runtime: Runtime, bgql: GraphQLClient, fake_stripe: FakeStripe
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme")
    sellers = [await quick_account(runtime, "acme") for _ in range(3)]
    for seller in sellers:
        await onboard(bgql, seller)
    for _ in range(4):
        await sold(runtime, bgql, buyer, staff, [(seller, 1000, 1) for seller in sellers])
    assert len(await rows(runtime, Transfer)) == 12

    def send() -> Any:
        return payouts.send_due_transfers(billing_runtime.db, billing_runtime.payment_provider, limit=5)

    sent = await asyncio.gather(*(send() for _ in range(4)))
    while sum(sent) < 12:  # what the first rounds left (each takes at most 5)
        more = await asyncio.gather(send(), send())
        assert sum(more) > 0
        sent += more
    assert sum(sent) == 12
    transfers = await rows(runtime, Transfer)
    assert {t.status for t in transfers} == {TransferStatus.PAID}
    keys = [c.idempotency_key for c in fake_stripe.calls_to("/v1/transfers")]
    assert sorted(k for k in keys if k in {f"transfer-{t.id}" for t in transfers}) == sorted(
        f"transfer-{t.id}" for t in transfers
    )

    # Two admins retrying the same FAILED transfer at once: one sends it, the other is told.
    await sold(runtime, bgql, buyer, staff, [(sellers[0], 700, 1)])
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        (row,) = [t for t in await rows(runtime, Transfer) if t.amount == 700]
        failed = await session.get(Transfer, row.id)
        assert failed is not None
        failed.status = TransferStatus.FAILED
    other = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    answers = await asyncio.gather(
        *(bgql(RETRY, {"id": gid("Transfer", row.id)}, token=a.token) for a in (staff, other))
    )
    payloads = [a.ok()["retryTransfer"] for a in answers]
    assert sorted(
        p["transfer"]["status"] if p["transfer"] else p["userErrors"][0]["code"] for p in payloads
    ) == [
        "PAID",
        "TRANSFER_NOT_FAILED",
    ]
    assert (
        sum(1 for c in fake_stripe.calls_to("/v1/transfers") if c.idempotency_key == f"transfer-{row.id}")
        == 1
    )
