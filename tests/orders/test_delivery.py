"""Delivery of order items (seed 000 GET /orders/:id/items/:itemId/delivery, POST .../deliver): staff
and services set an item's delivery on a paid order, its buyer reads it on OrderItem.delivery, and
deliverOrderItem queues the delivery e-mail, counted, once per idempotency key."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from core.permissions import Role
from models.billing import MailMessage, MailStatus
from models.delivery import OrderItemDelivery
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from tests.orders.conftest import ALL, CONFIRM, SUBMIT, Shop, line, new_shop, transition_mutation, uuid_of
from tests.support.api_keys import create_client, token_of
from tests.support.graphql import count_statements
from tests.support.identity import Account, Identity, quick_account

DELIVERY_FIELDS = (
    "content downloadUrl carrier trackingNumber trackingUrl setBy updatedAt sendCount lastSentAt"
)
SET = f"""
mutation($input: SetOrderItemDeliveryInput!) {{
  setOrderItemDelivery(input: $input) {{
    delivery {{ {DELIVERY_FIELDS} }} userErrors {{ field code message }}
  }}
}}
"""
DELIVER = f"""
mutation($input: DeliverOrderItemInput!) {{
  deliverOrderItem(input: $input) {{
    replayed delivery {{ {DELIVERY_FIELDS} }} userErrors {{ field code message }}
  }}
}}
"""
ITEMS = (
    f"query($id: ID!) {{ order(id: $id) {{ status items {{ id sku delivery {{ {DELIVERY_FIELDS} }} }} }} }}"
)
REVERT = transition_mutation("revertPayment")
LIST = "query($first: Int) { orders(first: $first) { nodes { number items { id delivery { content } } } } }"


async def paid_order(shop: Shop, buyer: Account, items: int = 2) -> tuple[str, list[str]]:
    """A PAID order of ``buyer`` with ``items`` lines: (order global id, item ids)."""
    lines = [line(await shop.product(1000 + n), 1) for n in range(items)]
    oid = (await shop.quick(buyer, *lines))["id"]
    await shop.move(SUBMIT, buyer, oid)
    assert (await shop.move(CONFIRM, shop.operator, oid))["order"]["status"] == "PAID"
    data = (await shop.gql(ITEMS, {"id": oid}, token=buyer.token)).ok()
    return oid, [item["id"] for item in data["order"]["items"]]


async def set_delivery(shop: Shop, account: Account, oid: str, item: str, **fields: Any) -> dict[str, Any]:
    result = await shop.gql(SET, {"input": {"orderId": oid, "itemId": item, **fields}}, token=account.token)
    payload: dict[str, Any] = result.ok()["setOrderItemDelivery"]
    return payload


async def deliver(
    shop: Shop, account: Account, oid: str, item: str, key: str | None = None
) -> dict[str, Any]:
    variables = {"input": {"orderId": oid, "itemId": item, **({"idempotencyKey": key} if key else {})}}
    payload: dict[str, Any] = (await shop.gql(DELIVER, variables, token=account.token)).ok()[
        "deliverOrderItem"
    ]
    return payload


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


async def mails(shop: Shop) -> list[MailMessage]:
    async with shop.db.session(ALL) as session:
        rows = await session.scalars(
            select(MailMessage)
            .where(MailMessage.tenant_id == shop.tenant_id)
            .order_by(MailMessage.created_at)
        )
        return list(rows)


async def test_staff_set_an_item_s_delivery_and_its_buyer_reads_it(shop: Shop) -> None:
    buyer = await shop.account()
    manager = await shop.account(Role.MANAGER)
    oid, (first, second) = await paid_order(shop, buyer)

    done = await set_delivery(
        shop, manager, oid, first, content=" KEY-1234-ABCD ", downloadUrl="https://dl.example/app.zip"
    )
    assert done["userErrors"] == []
    assert done["delivery"]["content"] == "KEY-1234-ABCD" and done["delivery"]["setBy"] == "staff"
    assert (done["delivery"]["sendCount"], done["delivery"]["lastSentAt"]) == (0, None)
    seen = (await shop.gql(ITEMS, {"id": oid}, token=buyer.token)).ok()["order"]["items"]
    assert [(i["id"], i["delivery"] and i["delivery"]["downloadUrl"]) for i in seen] == [
        (first, "https://dl.example/app.zip"),
        (second, None),
    ]
    async with shop.db.session(ALL) as session:
        (row,) = list(
            await session.scalars(select(OrderItemDelivery).where(OrderItemDelivery.order_id == uuid_of(oid)))
        )
    assert (row.order_item_id, row.set_by_user_id, row.tenant_id) == (
        uuid.UUID(first),
        manager.user_id,
        shop.tenant_id,
    )

    # Setting again replaces it (a parcel now), and records the new writer.
    replaced = await set_delivery(
        shop,
        shop.admin,
        oid,
        first,
        carrier="DHL",
        trackingNumber="JD0001",
        trackingUrl="https://t.example/JD0001",
    )
    assert replaced["userErrors"] == []
    assert (replaced["delivery"]["content"], replaced["delivery"]["trackingNumber"]) == (None, "JD0001")
    async with shop.db.session(ALL) as session:
        rows = list(
            await session.scalars(select(OrderItemDelivery).where(OrderItemDelivery.order_id == uuid_of(oid)))
        )
    assert [(r.carrier, r.set_by_user_id) for r in rows] == [("DHL", shop.admin.user_id)]


async def test_bad_input_wrong_callers_unpaid_and_foreign_orders(shop: Shop, identity: Identity) -> None:
    buyer = await shop.account()
    manager = await shop.account(Role.MANAGER)
    oid, (item, _) = await paid_order(shop, buyer)

    assert codes(await set_delivery(shop, manager, oid, item)) == ["REQUIRED"]
    bad = await set_delivery(shop, manager, oid, item, downloadUrl="ftp://x.example/a", content="x" * 10_001)
    assert sorted((tuple(e["field"]), e["code"]) for e in bad["userErrors"]) == [
        (("input", "content"), "TOO_LONG"),
        (("input", "downloadUrl"), "INVALID_INPUT"),
    ]
    # The buyer (a USER) may not set or send it.
    refused = await shop.gql(
        SET, {"input": {"orderId": oid, "itemId": item, "content": "k"}}, token=buyer.token
    )
    assert refused.error_codes == ["FORBIDDEN"]
    refused = await shop.gql(DELIVER, {"input": {"orderId": oid, "itemId": item}}, token=buyer.token)
    assert refused.error_codes == ["FORBIDDEN"]
    # Another tenant's staff: the order does not exist; an item of another order neither.
    other = await new_shop(shop.runtime, shop.gql, identity)
    foreign = await other.account(Role.MANAGER)
    missing = await shop.gql(
        SET, {"input": {"orderId": oid, "itemId": item, "content": "k"}}, token=foreign.token
    )
    assert missing.error_codes == ["NOT_FOUND"]
    missing = await shop.gql(DELIVER, {"input": {"orderId": oid, "itemId": item}}, token=foreign.token)
    assert missing.error_codes == ["NOT_FOUND"]
    _, (item2, _) = await paid_order(shop, buyer)
    crossed = await shop.gql(
        SET, {"input": {"orderId": oid, "itemId": item2, "content": "k"}}, token=manager.token
    )
    assert crossed.error_codes == ["NOT_FOUND"]
    # Only paid orders are delivered.
    unpaid = (await shop.quick(buyer, line(await shop.product(), 1)))["id"]
    unpaid_item = (await shop.gql(ITEMS, {"id": unpaid}, token=buyer.token)).ok()["order"]["items"][0]["id"]
    assert codes(await set_delivery(shop, manager, unpaid, unpaid_item, content="k")) == ["ORDER_NOT_PAID"]
    assert codes(await deliver(shop, manager, unpaid, unpaid_item)) == ["ORDER_NOT_PAID"]
    async with shop.db.session(ALL) as session:
        written = await session.scalars(
            select(OrderItemDelivery).where(OrderItemDelivery.tenant_id == shop.tenant_id)
        )
        assert list(written) == []
    assert await mails(shop) == []


async def test_deliver_queues_the_mail_to_the_buyer_once_per_key(shop: Shop) -> None:
    buyer = await shop.account()
    support = await shop.account(Role.SUPPORT_AGENT)
    oid, (item, _) = await paid_order(shop, buyer)
    assert codes(await deliver(shop, support, oid, item)) == ["NO_DELIVERY"]
    await set_delivery(shop, support, oid, item, content="LICENSE-XYZ", downloadUrl="https://dl.example/x")

    first, second = await asyncio.gather(
        deliver(shop, support, oid, item, "send-1"), deliver(shop, support, oid, item, "send-1")
    )
    assert sorted((first["replayed"], second["replayed"])) == [False, True]
    assert all(p["userErrors"] == [] and p["delivery"]["sendCount"] == 1 for p in (first, second))
    (mail,) = await mails(shop)
    assert (mail.to_address, mail.status) == (buyer.email, MailStatus.QUEUED)
    assert "LICENSE-XYZ" in mail.body_text and "https://dl.example/x" in mail.body_text
    assert mail.subject.startswith("Delivery for order ORD-")
    # A resend (another key, or none) queues another message and counts it.
    again = await deliver(shop, support, oid, item, "send-2")
    assert again["replayed"] is False and again["delivery"]["sendCount"] == 2
    assert again["delivery"]["lastSentAt"] is not None
    assert (await deliver(shop, support, oid, item))["delivery"]["sendCount"] == 3
    sent = await mails(shop)
    assert len(sent) == 3
    async with shop.db.session(ALL) as session:
        row = await session.scalar(
            select(OrderItemDelivery).where(OrderItemDelivery.order_item_id == uuid.UUID(item))
        )
    assert row is not None and (row.send_count, row.last_mail_message_id) == (3, sent[-1].id)

    # What was delivered cannot be taken back by reverting the payment.
    reverted = await shop.move(REVERT, shop.admin, oid)
    assert codes(reverted) == ["ALREADY_DELIVERED"]
    assert (await shop.order_row(oid)).status == "PAID"


async def test_the_buyer_sees_the_delivery_only_while_the_order_is_paid(shop: Shop) -> None:
    buyer = await shop.account()
    oid, (item, _) = await paid_order(shop, buyer)
    await set_delivery(shop, shop.admin, oid, item, content="SECRET-KEY")
    # Set, not sent: the payment may still go back; then the buyer no longer sees the key.
    assert (await shop.move(REVERT, shop.admin, oid))["order"]["status"] == "PENDING"
    as_buyer = (await shop.gql(ITEMS, {"id": oid}, token=buyer.token)).ok()["order"]["items"][0]
    assert as_buyer["delivery"] is None
    as_staff = (await shop.gql(ITEMS, {"id": oid}, token=shop.admin.token)).ok()["order"]["items"][0]
    assert as_staff["delivery"]["content"] == "SECRET-KEY"


async def test_a_service_principal_sets_and_sends(shop: Shop, http: httpx.AsyncClient) -> None:
    platform = await quick_account(shop.runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    secret, client = await create_client(shop.gql, platform, ["ORDERS_PROVISION"])
    token = (await token_of(http, client["clientId"], secret))["access_token"]
    tenant = {"X-Tenant-Id": str(shop.tenant_id)}
    buyer = await shop.account()
    oid, (item, _) = await paid_order(shop, buyer)

    set_result = await shop.gql(
        SET, {"input": {"orderId": oid, "itemId": item, "content": "K-9"}}, token=token, headers=tenant
    )
    assert set_result.ok()["setOrderItemDelivery"]["delivery"]["setBy"] == "service"
    sent = await shop.gql(DELIVER, {"input": {"orderId": oid, "itemId": item}}, token=token, headers=tenant)
    assert sent.ok()["deliverOrderItem"]["delivery"]["sendCount"] == 1
    async with shop.db.session(ALL) as session:
        row = await session.scalar(
            select(OrderItemDelivery).where(OrderItemDelivery.order_item_id == uuid.UUID(item))
        )
    assert row is not None and (row.set_by_actor, row.set_by_user_id) == ("service", None)
    assert [m.to_address for m in await mails(shop)] == [buyer.email]


async def test_listing_orders_with_their_items_deliveries_costs_the_same_for_any_page(shop: Shop) -> None:
    buyers = [await shop.account() for _ in range(2)]
    for n in range(8):
        oid, items = await paid_order(shop, buyers[n % 2])
        for item in items:
            await set_delivery(shop, shop.admin, oid, item, content=f"KEY-{n}")
    await shop.gql.warm(shop.admin.token)
    costs: dict[int, int] = {}
    for first in (2, 8):
        with count_statements(shop.runtime.db.engine) as counter:
            nodes = (await shop.gql(LIST, {"first": first}, token=shop.admin.token)).ok()["orders"]["nodes"]
        assert len(nodes) == first
        assert all(
            len(o["items"]) == 2 and o["items"][0]["delivery"]["content"].startswith("KEY-") for o in nodes
        )
        costs[first] = counter.count
        assert sum("order_item_deliveries" in q for q in counter.statements) == 1
    assert costs[2] == costs[8], costs
    # The page (and its count), the items, the deliveries: no statement per order or item.
    assert costs[8] <= 4, costs
