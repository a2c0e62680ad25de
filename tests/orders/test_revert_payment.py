"""revertPayment (seed 000 POST /orders/:id/revert-payment): AWAITING_PAYMENT or PAID -> PENDING
for MANAGER, TENANT_ADMIN and service principals, recorded in the history with its reason and
announced like every transition; refused while money is held or may still arrive."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import select

from core.permissions import Role
from core.scope import TenantScope
from models.billing import Invoice, InvoiceStatus, Payment, PaymentStatus
from models.orders import OrderStatusChange
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from tests.orders.conftest import (
    ALL,
    CONFIRM,
    START_PROVISIONING,
    SUBMIT,
    Shop,
    line,
    new_shop,
    transition_mutation,
    uuid_of,
)
from tests.support.api_keys import create_client, refusal, token_of
from tests.support.identity import Identity, quick_account

REVERT = transition_mutation("revertPayment")


async def awaiting(shop: Shop, price: int = 2500) -> tuple[str, uuid.UUID]:
    """An AWAITING_PAYMENT order of a new buyer: (order global id, buyer's user id)."""
    buyer = await shop.account()
    order = await shop.quick(buyer, line(await shop.product(price), 1))
    assert (await shop.move(SUBMIT, buyer, order["id"]))["order"]["status"] == "AWAITING_PAYMENT"
    return order["id"], buyer.user_id


async def paid(shop: Shop) -> tuple[str, uuid.UUID]:
    oid, buyer_id = await awaiting(shop)
    assert (await shop.move(CONFIRM, shop.operator, oid))["order"]["status"] == "PAID"
    return oid, buyer_id


async def add_payment(
    shop: Shop, oid: str, buyer_id: uuid.UUID, status: PaymentStatus, refunded: int = 0
) -> None:
    order = await shop.order_row(oid)
    async with shop.db.transaction(TenantScope.of(shop.tenant_id)) as session:
        session.add(
            Payment(
                order_id=order.id,
                user_id=buyer_id,
                provider="stripe",
                provider_payment_id=f"pi_{uuid.uuid4().hex}",
                status=status,
                amount=order.total,
                amount_refunded=refunded,
                currency=order.currency,
            )
        )


async def history(shop: Shop, oid: str) -> list[OrderStatusChange]:
    async with shop.db.session(ALL) as session:
        rows = await session.scalars(
            select(OrderStatusChange)
            .where(OrderStatusChange.order_id == uuid_of(oid))
            .order_by(OrderStatusChange.created_at)
        )
        return list(rows)


async def test_staff_move_awaiting_and_paid_orders_back_to_pending_with_history_and_event(shop: Shop) -> None:
    manager = await shop.account(Role.MANAGER)
    oid, _ = await awaiting(shop)

    moved = await shop.move(REVERT, manager, oid, reason="  bank transfer bounced  ")
    assert moved["userErrors"] == [] and moved["order"]["status"] == "PENDING"
    assert moved["order"]["paidAt"] is None
    last = (await history(shop, oid))[-1]
    assert (last.from_status, last.to_status, last.actor, last.reason, last.actor_user_id) == (
        "AWAITING_PAYMENT",
        "PENDING",
        "admin",
        "bank transfer bounced",
        manager.user_id,
    )
    # The outbox carries it like every transition: orderStatusChanged subscribers see it.
    event = (await shop.events())[-1]
    assert (event["orderId"], event["from"], event["to"], event["actor"]) == (
        str(uuid_of(oid)),
        "AWAITING_PAYMENT",
        "PENDING",
        "admin",
    )

    # A PAID order without money held (confirmed by hand): back to PENDING, paidAt cleared; it
    # may then be submitted and paid again.
    oid2, _ = await paid(shop)
    assert (await shop.order_row(oid2)).paid_at is not None
    reverted = await shop.move(REVERT, shop.admin, oid2, reason="confirmed by mistake")
    assert reverted["userErrors"] == [] and reverted["order"]["status"] == "PENDING"
    assert reverted["order"]["paidAt"] is None and (await shop.order_row(oid2)).paid_at is None
    assert [(h["from"], h["to"], h["reason"]) for h in reverted["order"]["statusHistory"]][-2:] == [
        ("AWAITING_PAYMENT", "PAID", None),
        ("PAID", "PENDING", "confirmed by mistake"),
    ]
    assert [(e["from"], e["to"]) for e in await shop.events()][-2:] == [
        ("AWAITING_PAYMENT", "PAID"),
        ("PAID", "PENDING"),
    ]


async def test_a_buyer_cannot_revert_and_another_tenant_s_order_is_not_found(
    shop: Shop, identity: Identity
) -> None:
    buyer = await shop.account()
    order = await shop.quick(buyer, line(await shop.product(), 1))
    oid = order["id"]
    await shop.move(SUBMIT, buyer, oid)
    assert (await shop.gql(REVERT, {"input": {"id": oid}}, token=buyer.token)).error_codes == ["FORBIDDEN"]
    support = await shop.account(Role.SUPPORT_AGENT)
    assert (await shop.gql(REVERT, {"input": {"id": oid}}, token=support.token)).error_codes == ["FORBIDDEN"]
    other = await new_shop(shop.runtime, shop.gql, identity)
    foreign = await other.account(Role.MANAGER)
    assert (await shop.gql(REVERT, {"input": {"id": oid}}, token=foreign.token)).error_codes == ["NOT_FOUND"]
    assert (await shop.order_row(oid)).status == "AWAITING_PAYMENT"
    assert [(e["from"], e["to"]) for e in await shop.events()][-1] == ("PENDING", "AWAITING_PAYMENT")


async def test_statuses_the_state_machine_forbids_are_user_errors(shop: Shop) -> None:
    manager = await shop.account(Role.MANAGER)
    buyer = await shop.account()
    pending = (await shop.quick(buyer, line(await shop.product(), 1)))["id"]
    refused = await shop.move(REVERT, manager, pending)
    assert refused["order"] is None and [e["code"] for e in refused["userErrors"]] == ["INVALID_TRANSITION"]
    provisioning, _ = await paid(shop)
    await shop.move(START_PROVISIONING, shop.operator, provisioning)
    refused = await shop.move(REVERT, manager, provisioning)
    assert [e["code"] for e in refused["userErrors"]] == ["INVALID_TRANSITION"]
    assert (await shop.order_row(provisioning)).status == "PROVISIONING"


async def test_refused_while_money_is_held_or_may_still_arrive(shop: Shop) -> None:
    manager = await shop.account(Role.MANAGER)

    async def codes(oid: str) -> list[str]:
        return [e["code"] for e in (await shop.move(REVERT, manager, oid))["userErrors"]]

    captured, buyer = await paid(shop)
    await add_payment(shop, captured, buyer, PaymentStatus.SUCCEEDED)
    assert await codes(captured) == ["PAYMENT_CAPTURED"]
    # Partly refunded is still money held.
    partly, buyer = await paid(shop)
    await add_payment(shop, partly, buyer, PaymentStatus.SUCCEEDED, refunded=100)
    assert await codes(partly) == ["PAYMENT_CAPTURED"]
    # An invoice of the order with an amount paid, even without a payment row.
    invoiced, buyer = await paid(shop)
    order = await shop.order_row(invoiced)
    async with shop.db.transaction(TenantScope.of(shop.tenant_id)) as session:
        session.add(
            Invoice(
                number=f"INV-{uuid.uuid4().hex[:8]}",
                customer_id=buyer,
                order_id=order.id,
                status=InvoiceStatus.PAID,
                currency=order.currency,
                subtotal=order.total,
                total=order.total,
                amount_paid=order.total,
            )
        )
    assert await codes(invoiced) == ["PAYMENT_CAPTURED"]
    # An open or processing payment may still take the money.
    for status in (PaymentStatus.REQUIRES_PAYMENT, PaymentStatus.PROCESSING):
        open_one, buyer = await awaiting(shop)
        await add_payment(shop, open_one, buyer, status)
        assert await codes(open_one) == ["PAYMENT_IN_PROGRESS"]
    for oid in (captured, partly, invoiced):
        assert (await shop.order_row(oid)).status == "PAID"
    # Failed and cancelled payments hold nothing: the order may go back.
    failed, buyer = await paid(shop)
    await add_payment(shop, failed, buyer, PaymentStatus.FAILED)
    await add_payment(shop, failed, buyer, PaymentStatus.CANCELLED)
    assert await codes(failed) == []
    assert (await shop.order_row(failed)).status == "PENDING"


async def test_a_repeat_with_the_same_key_moves_once(shop: Shop) -> None:
    manager = await shop.account(Role.MANAGER)
    oid, _ = await paid(shop)
    variables = {"input": {"id": oid, "reason": "duplicate", "idempotencyKey": "revert-1"}}
    first, second = await asyncio.gather(
        shop.gql(REVERT, variables, token=manager.token), shop.gql(REVERT, variables, token=manager.token)
    )
    payloads = [first.ok()["revertPayment"], second.ok()["revertPayment"]]
    assert all(p["userErrors"] == [] and p["order"]["status"] == "PENDING" for p in payloads)
    assert sorted(p["replayed"] for p in payloads) == [False, True]
    third = (await shop.gql(REVERT, variables, token=manager.token)).ok()["revertPayment"]
    assert third["replayed"] is True and third["order"]["status"] == "PENDING"
    assert [(h.from_status, h.to_status) for h in await history(shop, oid)].count(("PAID", "PENDING")) == 1
    assert [(e["from"], e["to"]) for e in await shop.events()].count(("PAID", "PENDING")) == 1


async def test_a_service_principal_with_the_orders_payments_scope(
    shop: Shop, http: httpx.AsyncClient
) -> None:
    platform = await quick_account(shop.runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    secret, client = await create_client(shop.gql, platform, ["ORDERS_PAYMENTS"])
    token = (await token_of(http, client["clientId"], secret))["access_token"]
    narrow_secret, narrow = await create_client(shop.gql, platform, ["ORDERS_PROVISION"])
    narrow_token = (await token_of(http, narrow["clientId"], narrow_secret))["access_token"]
    oid, _ = await paid(shop)
    tenant = {"X-Tenant-Id": str(shop.tenant_id)}

    lacking = await shop.gql(REVERT, {"input": {"id": oid}}, token=narrow_token, headers=tenant)
    assert refusal(lacking) == (200, "FORBIDDEN", "INSUFFICIENT_SCOPE")
    moved = (
        await shop.gql(REVERT, {"input": {"id": oid, "reason": "psp reversal"}}, token=token, headers=tenant)
    ).ok()["revertPayment"]
    assert moved["userErrors"] == [] and moved["order"]["status"] == "PENDING"
    last = (await history(shop, oid))[-1]
    assert (last.to_status, last.actor, last.actor_user_id, last.reason) == (
        "PENDING",
        "service",
        None,
        "psp reversal",
    )
    assert (await shop.events())[-1]["actor"] == "service"
