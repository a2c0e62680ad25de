"""Delivery of order items: the record the buyer receives for an item, its inputs and payloads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import delivery as models
from schema.errors import UserError, user_errors_field
from services.orders.delivery import can_read_delivery


@strawberry.type(
    description="What the buyer receives for one order item: instructions or a license key, a "
    "download link, a parcel's tracking; and the delivery e-mails sent."
)
class OrderItemDelivery:
    content: str | None = strawberry.field(description="Instructions, a license key, ... (plain text).")
    download_url: str | None = strawberry.field(description="Where to download the item (http or https).")
    carrier: str | None = strawberry.field(description="Who carries the parcel.")
    tracking_number: str | None = strawberry.field(description="The parcel's tracking number.")
    tracking_url: str | None = strawberry.field(description="Where to follow the parcel.")
    set_by: str = strawberry.field(description='Who set it last: "staff" or "service".')
    updated_at: datetime = strawberry.field(description="When it was set last (UTC).")
    send_count: int = strawberry.field(description="Delivery e-mails queued for the buyer so far.")
    last_sent_at: datetime | None = strawberry.field(description="When the last one was queued (UTC).")

    @classmethod
    def from_model(cls, delivery: models.OrderItemDelivery) -> Self:
        return cls(
            content=delivery.content,
            download_url=delivery.download_url,
            carrier=delivery.carrier,
            tracking_number=delivery.tracking_number,
            tracking_url=delivery.tracking_url,
            set_by=delivery.set_by_actor,
            updated_at=delivery.updated_at,
            send_count=delivery.send_count,
            last_sent_at=delivery.last_sent_at,
        )


async def item_delivery(info: Info, item_id: uuid.UUID) -> OrderItemDelivery | None:
    """The item's delivery as the caller may see it (loaded in one batch per request)."""
    loaded = await info.context.loaders.delivery.delivery_of_item.load(item_id)
    if loaded is None or not can_read_delivery(
        info.context.principal, loaded.order_user_id, loaded.order_status
    ):
        return None
    return OrderItemDelivery.from_model(loaded.delivery)


@strawberry.input(description="The delivery of one item of a paid order (replaces what was set).")
class SetOrderItemDeliveryInput:
    order_id: relay.GlobalID = strawberry.field(description="The order's global id.")
    item_id: strawberry.ID = strawberry.field(description="The item's id (OrderItem.id).")
    content: str | None = strawberry.field(
        default=None, description="Instructions or a license key (at most 10000 characters)."
    )
    download_url: str | None = strawberry.field(default=None, description="An http(s) download link.")
    carrier: str | None = strawberry.field(default=None, description="The parcel's carrier (at most 100).")
    tracking_number: str | None = strawberry.field(
        default=None, description="The parcel's tracking number (at most 200)."
    )
    tracking_url: str | None = strawberry.field(default=None, description="An http(s) tracking link.")


@strawberry.input(description="Send (or resend) an item's delivery e-mail to the buyer.")
class DeliverOrderItemInput:
    order_id: relay.GlobalID = strawberry.field(description="The order's global id.")
    item_id: strawberry.ID = strawberry.field(description="The item's id (OrderItem.id).")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Overrides the Idempotency-Key header: a repeat sends nothing again."
    )


@strawberry.type(description="The result of a delivery change: the delivery as it is now, or userErrors.")
class OrderItemDeliveryPayload:
    delivery: OrderItemDelivery | None = strawberry.field(default=None, description="The item's delivery.")
    replayed: bool = strawberry.field(
        default=False, description="True when an Idempotency-Key repeat returned the first result."
    )
    user_errors: list[UserError] = user_errors_field()
