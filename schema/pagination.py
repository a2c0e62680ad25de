"""Relay connections with keyset cursors, and our own shareable PageInfo (strawberry's is not
@shareable, which breaks composition beside another Relay subgraph)."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry

from core.lengths import MAX_CURSOR_LENGTH
from loaders.pagination import Page, PageArgs

Node = TypeVar("Node")


@strawberry.federation.type(shareable=True)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[Node]):
    node: Node
    cursor: str = strawberry.field(
        description=f"Opaque: pass it back as `after` or `before` (at most {MAX_CURSOR_LENGTH} characters)."
    )


@strawberry.type
class Connection(Generic[Node]):
    edges: list[Edge[Node]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="All matching items, not just this page (one extra query).")
    async def total_count(self) -> int:
        return await self.count()

    @strawberry.field(description="The nodes of this page, without cursors.")
    def nodes(self) -> list[Node]:
        return [edge.node for edge in self.edges]


def page_args(first: int | None, after: str | None, last: int | None, before: str | None) -> PageArgs:
    return PageArgs(first=first, after=after, last=last, before=before)


def connection(page: Page[Any], to_node: Callable[[Any], Node]) -> Connection[Node]:
    edges = [
        Edge(node=to_node(row), cursor=cursor) for row, cursor in zip(page.rows, page.cursors, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count=page.count,
    )


@strawberry.enum
class OrderDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"
