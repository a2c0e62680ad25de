"""Ticket loaders: tickets and comments by id, pages and counts of each ticket's comments (public
only, or with internal notes for staff) and each ticket's history, batched per request."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select

from core.scope import TenantScope
from loaders.base import LoaderSet
from loaders.pagination import ChildPageKey, Page, SortKey, child_counts, child_pages
from models.db import Reads
from models.tickets import Ticket, TicketChange, TicketComment

COMMENTS_OLDEST_FIRST = SortKey(TicketComment.created_at, TicketComment.id)
_PUBLIC = TicketComment.internal.is_(False)


class TicketLoaders(LoaderSet):
    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        super().__init__(reads, scope)
        self.ticket = self.loader(self._tickets)
        self.comment = self.loader(self._comments)
        self.history_of_ticket = self.loader(self._history)
        # Requesters see public comments only; staff see internal notes too.
        self.public_comments = self.loader(self._public_pages)
        self.all_comments = self.loader(self._all_pages)
        self.public_comment_count = self.loader(self._public_counts)
        self.all_comment_count = self.loader(self._all_counts)

    async def _tickets(self, ids: Sequence[uuid.UUID]) -> list[Ticket | None]:
        return await self.rows_by_id(Ticket, ids)

    async def _comments(self, ids: Sequence[uuid.UUID]) -> list[TicketComment | None]:
        return await self.rows_by_id(TicketComment, ids)

    async def _history(self, ticket_ids: Sequence[uuid.UUID]) -> list[list[TicketChange]]:
        rows = await self.fetch(
            select(TicketChange)
            .where(TicketChange.ticket_id.in_(ticket_ids))
            .order_by(TicketChange.created_at, TicketChange.id)
        )
        found: dict[uuid.UUID, list[TicketChange]] = defaultdict(list)
        for row in rows:
            found[row.ticket_id].append(row)
        return [found[ticket_id] for ticket_id in ticket_ids]

    async def _public_pages(self, keys: Sequence[ChildPageKey]) -> list[Page[TicketComment]]:
        return await child_pages(
            self.fetch,
            TicketComment.ticket_id,
            COMMENTS_OLDEST_FIRST,
            keys,
            self.public_comment_count.load,
            _PUBLIC,
        )

    async def _all_pages(self, keys: Sequence[ChildPageKey]) -> list[Page[TicketComment]]:
        return await child_pages(
            self.fetch, TicketComment.ticket_id, COMMENTS_OLDEST_FIRST, keys, self.all_comment_count.load
        )

    async def _public_counts(self, keys: Sequence[ChildPageKey]) -> list[int]:
        return await child_counts(self.fetch_rows, TicketComment.ticket_id, TicketComment.id, keys, _PUBLIC)

    async def _all_counts(self, keys: Sequence[ChildPageKey]) -> list[int]:
        return await child_counts(self.fetch_rows, TicketComment.ticket_id, TicketComment.id, keys)
