"""Wallet root fields: a service reads any user's wallet, posts ledger entries, counts usage
against the daily quota and sets a user's quota. Users read their own as `me { wallet }`."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.errors import NotFound
from core.scopes import ApiScope
from schema.directives import SERVICE_ONLY, HasScope, access
from schema.errors import mutation_payload
from schema.identity.wallet import (
    ConsumeDailyQuotaInput,
    PostWalletEntryInput,
    PostWalletEntryPayload,
    SetWalletQuotaInput,
    Wallet,
    WalletEntry,
    WalletPayload,
    load_wallet,
)
from schema.nodes import parse_uuid
from services.identity import wallet as wallets
from services.identity.wallet import NewEntry, Posted, WalletState

READ = access(SERVICE_ONLY, HasScope(ApiScope.WALLET_READ, ApiScope.WALLET_WRITE))
WRITE = access(SERVICE_ONLY, HasScope(ApiScope.WALLET_WRITE))


def _posted(posted: Posted) -> PostWalletEntryPayload:
    return PostWalletEntryPayload(
        entry=WalletEntry.from_model(posted.entry), wallet=Wallet.of(posted.wallet), replayed=posted.replayed
    )


def _wallet(state: WalletState) -> WalletPayload:
    return WalletPayload(wallet=Wallet.of(state))


@strawberry.type
class WalletQuery:
    @strawberry.field(
        extensions=READ,
        description="Any user's wallet: balances, ledger and usage quota (GET /users/me/balance, for "
        "the services that charge and count).",
    )
    async def user_wallet(
        self,
        info: Info,
        user_id: Annotated[relay.GlobalID, strawberry.argument(description="The user's global id.")],
    ) -> Wallet:
        user_uuid = parse_uuid(user_id, "User")
        if await info.context.loaders.identity.user.load(user_uuid) is None:
            raise NotFound("User")
        return await load_wallet(info, user_uuid)


@strawberry.type
class WalletMutation:
    @strawberry.mutation(
        extensions=WRITE,
        description="Append a credit or debit to a user's balance or affiliate balance; the balance "
        "moves with it in one transaction and never goes below zero (INSUFFICIENT_BALANCE).",
    )
    async def post_wallet_entry(
        self,
        info: Info,
        input: Annotated[PostWalletEntryInput, strawberry.argument(description="The entry.")],
    ) -> PostWalletEntryPayload:
        new = NewEntry(
            user_id=parse_uuid(input.user_id, "User"),
            kind=input.kind,
            amount_minor=input.amount_minor,
            reason=input.reason,
            reference=input.reference,
            currency=input.currency,
        )
        return await mutation_payload(
            PostWalletEntryPayload, wallets.post_entry(info.context.services, new), _posted
        )

    @strawberry.mutation(
        extensions=WRITE,
        description="Count uses against a user's daily quota (DAILY_QUOTA_EXCEEDED beyond what is "
        "left today), or give uses back with a negative count.",
    )
    async def consume_daily_quota(
        self,
        info: Info,
        input: Annotated[ConsumeDailyQuotaInput, strawberry.argument(description="The user and count.")],
    ) -> WalletPayload:
        call = wallets.consume_quota(info.context.services, parse_uuid(input.user_id, "User"), input.count)
        return await mutation_payload(WalletPayload, call, _wallet)

    @strawberry.mutation(
        extensions=WRITE,
        description="Give a user their own daily quota and parallel ceiling instead of the defaults.",
    )
    async def set_wallet_quota(
        self,
        info: Info,
        input: Annotated[SetWalletQuotaInput, strawberry.argument(description="The user and limits.")],
    ) -> WalletPayload:
        call = wallets.set_quota(
            info.context.services,
            parse_uuid(input.user_id, "User"),
            daily_quota=input.daily_quota,
            parallel_ceiling=input.parallel_rendering_ceiling,
            use_defaults=input.use_defaults,
        )
        return await mutation_payload(WalletPayload, call, _wallet)
