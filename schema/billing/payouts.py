"""Seller payouts in the schema (services/billing/payouts.py): transfers, the seller's balance,
onboarding, and their inputs and payloads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from models import payouts as models
from models.payouts import TransferStatus
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from schema.identity.accounts import User, user_of
from schema.money import Money
from schema.nodes import Entity, load_nodes, node_or_none, node_type
from schema.orders.types import Order
from services.billing.access import can_see

documented_enum(
    TransferStatus,
    "PENDING -> PAID, or FAILED (retried by an admin: PENDING again).",
    {
        TransferStatus.PENDING: "Due: the billing job sends it once the seller has connected an account.",
        TransferStatus.PAID: "The provider moved the money to the seller's connected account.",
        TransferStatus.FAILED: "Refused, or failed 5 times: `lastError` says why; an admin may retry it.",
    },
)


@node_type
@strawberry.federation.type(
    keys=["id"],
    name="Transfer",
    description="A seller's share of a paid order, paid to their connected account.",
)
class Transfer(Entity):
    transfer_id: relay.NodeID[str]
    status: TransferStatus = strawberry.field(description="Where the transfer is.")
    amount: Money = strawberry.field(description="What the seller gets: their lines' net less the fee.")
    platform_fee: Money = strawberry.field(description="What the platform keeps (`platformFeeBps`).")
    retry_count: int = strawberry.field(description="Provider attempts that failed so far.")
    next_retry_at: datetime | None = strawberry.field(
        description="When the billing job sends it (UTC); null: not due (seller not connected, or done)."
    )
    last_error: str | None = strawberry.field(description="Why the last attempt failed, or why it waits.")
    provider_transfer_id: str | None = strawberry.field(description="The provider's id, once PAID.")
    created_at: datetime = strawberry.field(description="When the order was paid (UTC).")
    paid_at: datetime | None = strawberry.field(description="When it was PAID (UTC).")
    seller_uuid: strawberry.Private[uuid.UUID]
    order_uuid: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: models.Transfer) -> Self:
        return cls(
            transfer_id=str(row.id),
            status=row.status,
            amount=Money.of(row.amount, row.currency),
            platform_fee=Money.of(row.platform_fee, row.currency),
            retry_count=row.retry_count,
            next_retry_at=row.next_retry_at,
            last_error=row.last_error,
            provider_transfer_id=row.provider_transfer_id,
            created_at=row.created_at,
            paid_at=row.paid_at,
            seller_uuid=row.seller_id,
            order_uuid=row.order_id,
        )

    @strawberry.field(description="The seller paid.")
    async def seller(self, info: Info) -> User:
        return await user_of(info, self.seller_uuid)

    @strawberry.field(description="The paid order; null when it is out of your reach.")
    async def order(self, info: Info) -> Order | None:
        return await node_or_none(Order, info, self.order_uuid)

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        """Sellers see their own transfers, billing staff and services every one."""
        principal = info.context.principal
        return await load_nodes(
            node_ids,
            "Transfer",
            info.context.loaders.billing.transfer,
            cls.from_model,
            lambda row: can_see(principal, row.seller_id),
        )


@strawberry.type(description="Your seller balance at the payment provider (seed 001 /sell/balance).")
class SellerBalance:
    connected: bool = strawberry.field(description="Whether you have connected a payout account.")
    available: list[Money] = strawberry.field(description="Can be paid out to your bank, per currency.")
    pending: list[Money] = strawberry.field(description="Not yet available, per currency.")


@strawberry.input(description="Which transfers to list; the conditions given all apply.")
class TransferFilterInput:
    status: TransferStatus | None = strawberry.field(
        default=None, description="Only transfers in this status."
    )
    seller_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this seller's (staff)."
    )
    created_from: datetime | None = strawberry.field(
        default=None, description="Created at or after this time."
    )
    created_to: datetime | None = strawberry.field(default=None, description="Created before this time.")


@strawberry.input(description="Where the provider's onboarding page sends the seller back.")
class StartSellerOnboardingInput:
    return_url: str = strawberry.field(description="Where they land when done (absolute http(s) URL).")
    refresh_url: str = strawberry.field(description="Where they land when the link expired, to ask again.")


@strawberry.type(description="The provider-hosted onboarding page, or userErrors.")
class SellerOnboardingPayload:
    url: str | None = strawberry.field(default=None, description="Send the seller here (short-lived).")
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="The transfer to retry.")
class RetryTransferInput:
    id: relay.GlobalID = strawberry.field(description="A FAILED transfer.")


@strawberry.type(description="The transfer after the retry, or userErrors.")
class TransferPayload:
    transfer: Transfer | None = strawberry.field(default=None, description="The transfer after the step.")
    user_errors: list[UserError] = user_errors_field()
