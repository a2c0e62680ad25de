"""Wallet loaders: each user's wallet row and pages of their ledger, batched per request."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from core.scope import TenantScope
from loaders.base import LoaderSet
from loaders.pagination import ChildPageKey, Page, SortKey, child_counts, child_pages
from models.db import Reads
from models.identity.wallet import Wallet, WalletEntry

ENTRIES_NEWEST_FIRST = SortKey(WalletEntry.created_at, WalletEntry.id, descending=True)


class WalletLoaders(LoaderSet):
    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        super().__init__(reads, scope)
        self.wallet_of_user = self.loader(self._wallets)
        self.entries_of_user = self.loader(self._entries)
        self.entry_count_of_user = self.loader(self._entry_counts)

    async def _wallets(self, user_ids: Sequence[uuid.UUID]) -> list[Wallet | None]:
        rows = await self.fetch(select(Wallet).where(Wallet.user_id.in_(user_ids)))
        found = {row.user_id: row for row in rows}
        return [found.get(user_id) for user_id in user_ids]

    async def _entries(self, keys: Sequence[ChildPageKey]) -> list[Page[WalletEntry]]:
        return await child_pages(
            self.fetch, WalletEntry.user_id, ENTRIES_NEWEST_FIRST, keys, self.entry_count_of_user.load
        )

    async def _entry_counts(self, keys: Sequence[ChildPageKey]) -> list[int]:
        return await child_counts(self.fetch_rows, WalletEntry.user_id, WalletEntry.id, keys)
