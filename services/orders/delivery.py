"""Delivery of order items (seed 000 GET /orders/:id/items/:itemId/delivery and POST .../deliver).

- Each item of a PAID, PROVISIONING or COMPLETED order may carry one delivery record: instructions
  or a license key (``content``), a download link, a parcel's carrier and tracking. The tenant's
  order staff or a service principal set it (``set_item_delivery``); the last writer and the time
  are kept.
- ``deliver_item`` (send or resend) queues the delivery e-mail to the buyer through
  services/mail_queue.py in the same transaction as the record's ``send_count`` and
  ``last_sent_at``; under an idempotency key a repeat sends nothing again.
- The buyer reads the delivery while the order is paid; staff and services always (an order the
  caller may not read is NOT_FOUND, like a missing one). The order row is locked for every change,
  so concurrent writers take turns.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, Forbidden, InvalidInput, NotFound, invalid
from core.permissions import DELIVERY_STAFF, ORDER_STAFF, ORDERS_READ
from core.principal import Principal
from models.base import utcnow
from models.delivery import OrderItemDelivery
from models.identity.accounts import User
from models.orders import Order, OrderItem, OrderStatus
from services.context import ServiceContext
from services.idempotency import run_once
from services.mail_queue import queue_mail
from services.orders.errors import OrderErrorCode
from services.orders.orders import can_read_order
from services.orders.states import lock_order

S = OrderStatus
DELIVERABLE: frozenset[OrderStatus] = frozenset({S.PAID, S.PROVISIONING, S.COMPLETED})
MAX_CONTENT_CHARS = 10_000
MAX_URL_CHARS = 2000
MAX_CARRIER_CHARS = 100
MAX_TRACKING_CHARS = 200


@dataclass(frozen=True, slots=True)
class DeliveryInfo:
    content: str | None = None
    download_url: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    delivery: OrderItemDelivery
    # True when an Idempotency-Key repeat returned the first request's result (nothing was sent).
    replayed: bool = False


def can_read_delivery(principal: Principal | None, order_user_id: uuid.UUID, status: OrderStatus) -> bool:
    """Staff and services always; the buyer while the order is paid."""
    if principal is None:
        return False
    if principal.is_service or principal.allows(ORDERS_READ, *ORDER_STAFF):
        return True
    return order_user_id == principal.user_id and status in DELIVERABLE


def _may_deliver(principal: Principal) -> None:
    if not principal.is_service_or(*DELIVERY_STAFF):
        raise Forbidden("You are not allowed to do this.")


def _cleaned(info: DeliveryInfo) -> DeliveryInfo:
    def clean(value: str | None) -> str | None:
        return value.strip() if value and value.strip() else None

    return DeliveryInfo(
        clean(info.content),
        clean(info.download_url),
        clean(info.carrier),
        clean(info.tracking_number),
        clean(info.tracking_url),
    )


def _problem(field: str, code: OrderErrorCode, message: str) -> FieldProblem:
    return FieldProblem(("input", field), code, message)


def _problems(info: DeliveryInfo) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    limits = (
        ("content", info.content, MAX_CONTENT_CHARS),
        ("downloadUrl", info.download_url, MAX_URL_CHARS),
        ("carrier", info.carrier, MAX_CARRIER_CHARS),
        ("trackingNumber", info.tracking_number, MAX_TRACKING_CHARS),
        ("trackingUrl", info.tracking_url, MAX_URL_CHARS),
    )
    for field, value, limit in limits:
        if value is not None and len(value) > limit:
            problems.append(_problem(field, OrderErrorCode.TOO_LONG, f"At most {limit} characters."))
    for field, url in (("downloadUrl", info.download_url), ("trackingUrl", info.tracking_url)):
        if url is not None and not _is_web_url(url):
            problems.append(_problem(field, OrderErrorCode.INVALID_INPUT, "An http(s) URL."))
    if not any((info.content, info.download_url, info.tracking_number, info.tracking_url)):
        problems.append(
            _problem(
                "content",
                OrderErrorCode.REQUIRED,
                "Give the content, a download URL or a tracking number or URL.",
            )
        )
    return problems


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


async def _paid_item(
    session: AsyncSession, principal: Principal, order_id: uuid.UUID, item_id: uuid.UUID
) -> tuple[Order, OrderItem]:
    """The order (locked) and its item; NOT_FOUND when out of reach, ORDER_NOT_PAID unless paid."""
    order = await lock_order(session, order_id)
    if not can_read_order(principal, order):
        raise NotFound("Order")
    item = await session.get(OrderItem, item_id)
    if item is None or item.order_id != order.id:
        raise NotFound("OrderItem")
    if order.status not in DELIVERABLE:
        raise invalid(
            None,
            OrderErrorCode.ORDER_NOT_PAID,
            f"Deliveries are for paid orders; this one is {order.status.value}.",
        )
    return order, item


async def _delivery_of(session: AsyncSession, item_id: uuid.UUID) -> OrderItemDelivery | None:
    return await session.scalar(select(OrderItemDelivery).where(OrderItemDelivery.order_item_id == item_id))


async def _read_delivery(ctx: ServiceContext, delivery_id: uuid.UUID) -> OrderItemDelivery:
    async with ctx.read() as session:
        delivery = await session.get(OrderItemDelivery, delivery_id)
    if delivery is None:
        raise NotFound("OrderItemDelivery")
    return delivery


async def set_item_delivery(
    ctx: ServiceContext, order_id: uuid.UUID, item_id: uuid.UUID, given: DeliveryInfo
) -> OrderItemDelivery:
    """Sets (creates or replaces) the delivery record of one item of a paid order."""
    principal = ctx.require_principal()
    _may_deliver(principal)
    info = _cleaned(given)
    if problems := _problems(info):
        raise InvalidInput(*problems)
    async with ctx.transaction() as session:
        order, item = await _paid_item(session, principal, order_id, item_id)
        delivery = await _delivery_of(session, item.id)
        now = utcnow()
        if delivery is None:
            delivery = OrderItemDelivery(
                tenant_id=order.tenant_id,
                order_id=order.id,
                order_item_id=item.id,
                send_count=0,
                created_at=now,
            )
            session.add(delivery)
        delivery.content = info.content
        delivery.download_url = info.download_url
        delivery.carrier = info.carrier
        delivery.tracking_number = info.tracking_number
        delivery.tracking_url = info.tracking_url
        delivery.set_by_actor = "service" if principal.is_service else "staff"
        delivery.set_by_user_id = principal.person_id
        delivery.updated_at = now
        await session.flush()
        delivery_id = delivery.id
    return await _read_delivery(ctx, delivery_id)


def delivery_mail(order: Order, item: OrderItem, delivery: OrderItemDelivery) -> tuple[str, str]:
    """Subject and plain-text body of an item's delivery e-mail."""
    lines = [f"Your order {order.number}: {item.name} (x{item.quantity}).", ""]
    if delivery.content:
        lines += [delivery.content, ""]
    if delivery.download_url:
        lines.append(f"Download: {delivery.download_url}")
    if delivery.tracking_number:
        carrier = f" ({delivery.carrier})" if delivery.carrier else ""
        lines.append(f"Tracking number{carrier}: {delivery.tracking_number}")
    if delivery.tracking_url:
        lines.append(f"Track your parcel: {delivery.tracking_url}")
    return f"Delivery for order {order.number}: {item.name}", "\n".join(lines).rstrip() + "\n"


async def deliver_item(
    ctx: ServiceContext, order_id: uuid.UUID, item_id: uuid.UUID, idempotency_key: str | None
) -> DeliveryResult:
    """Queues the item's delivery e-mail to the buyer (send or resend) and counts it."""
    principal = ctx.require_principal()
    _may_deliver(principal)

    async def perform(session: AsyncSession) -> uuid.UUID:
        order, item = await _paid_item(session, principal, order_id, item_id)
        delivery = await _delivery_of(session, item.id)
        if delivery is None:
            raise invalid("itemId", OrderErrorCode.NO_DELIVERY, "Set the item's delivery first.")
        buyer = await session.get(User, order.user_id)
        if buyer is None or not buyer.email:
            raise invalid(None, OrderErrorCode.REQUIRED, "The buyer has no e-mail address.")
        subject, body = delivery_mail(order, item, delivery)
        message = queue_mail(session, tenant_id=order.tenant_id, to=buyer.email, subject=subject, body=body)
        await session.flush()
        delivery.send_count += 1
        delivery.last_sent_at = utcnow()
        delivery.last_mail_message_id = message.id
        return delivery.id

    request = {"orderId": str(order_id), "itemId": str(item_id)}
    outcome = await run_once(ctx, "order.deliver_item", idempotency_key, request, perform)
    return DeliveryResult(await _read_delivery(ctx, outcome.entity_id), outcome.replayed)
