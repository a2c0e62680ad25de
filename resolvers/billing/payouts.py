"""Root fields of seller payouts (seed 001 /sell/balance, /sell/transfers, /sell/connect/onboard,
/admin/transfers and their retry)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from resolvers.billing.payments import provider_of
from schema.billing.payouts import (
    RetryTransferInput,
    SellerBalance,
    SellerOnboardingPayload,
    StartSellerOnboardingInput,
    Transfer,
    TransferFilterInput,
    TransferPayload,
)
from schema.directives import AUTHENTICATED, access
from schema.errors import mutation_payload
from schema.money import Money
from schema.nodes import optional_reference, parse_uuid
from schema.pagination import FILTER, After, Before, Connection, First, Last, connection, page_args
from services.billing import payouts
from services.billing.payouts import TransferFilter


def _money(totals: Any) -> list[Money]:
    return [Money.of(amount, currency) for currency, amount in sorted(totals.items())]


@strawberry.type
class PayoutQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="Your transfers as a seller, newest first; billing staff see every seller's.",
    )
    async def transfers(
        self,
        info: Info,
        filter: Annotated[TransferFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Transfer]:
        f = filter or TransferFilterInput()
        page = await payouts.list_transfers(
            info.context.services,
            TransferFilter(
                status=f.status,
                seller_id=optional_reference(f.seller_id, "User"),
                created_from=f.created_from,
                created_to=f.created_to,
            ),
            page_args(first, after, last, before),
        )
        return connection(page, Transfer.from_model)

    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="Your seller balance, read from the payment provider (empty until you connect).",
    )
    async def seller_balance(self, info: Info) -> SellerBalance:
        found = await payouts.seller_balance(info.context.services, provider_of(info))
        return SellerBalance(
            connected=found.connected,
            available=_money(found.balance.available),
            pending=_money(found.balance.pending),
        )


@strawberry.type
class PayoutMutation:
    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Connect a payout account as a seller: the provider's onboarding page (your account "
        "is created the first time); what you sold meanwhile is paid once connected.",
    )
    async def start_seller_onboarding(
        self,
        info: Info,
        input: Annotated[StartSellerOnboardingInput, strawberry.argument(description="The return URLs.")],
    ) -> SellerOnboardingPayload:
        call = payouts.start_onboarding(
            info.context.services,
            provider_of(info),
            refresh_url=input.refresh_url,
            return_url=input.return_url,
        )
        return await mutation_payload(
            SellerOnboardingPayload, call, lambda url: SellerOnboardingPayload(url=url)
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Send a FAILED transfer again, now (billing staff and services).",
    )
    async def retry_transfer(
        self,
        info: Info,
        input: Annotated[RetryTransferInput, strawberry.argument(description="The transfer.")],
    ) -> TransferPayload:
        call = payouts.retry_transfer(
            info.context.services, provider_of(info), parse_uuid(input.id, "Transfer")
        )
        return await mutation_payload(
            TransferPayload, call, lambda t: TransferPayload(transfer=Transfer.from_model(t))
        )
