"""Relay connections with keyset cursors, and our own shareable PageInfo (strawberry's is not
@shareable, which breaks composition beside another Relay subgraph)."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from core.lengths import MAX_CURSOR_LENGTH
from loaders.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageArgs
from schema.enums import documented_enum

Node = TypeVar("Node")

# The filter and sort arguments of the list fields.
FILTER = strawberry.argument(description="Which items to list (all you may see when omitted).")
SORT = strawberry.argument(description="How to sort them (the input's defaults when omitted).")

# The Relay page arguments of every connection field.
First = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page forwards: at most this many items after `after` (0 to {MAX_PAGE_SIZE}; "
        f"{DEFAULT_PAGE_SIZE} when neither `first` nor `last` is given). Not with `last`."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(description="Start after this cursor (an `endCursor` or edge `cursor` of ours)."),
]
Last = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page backwards: at most this many items before `before` (0 to {MAX_PAGE_SIZE}). "
        "Not with `first`."
    ),
]
Before = Annotated[
    str | None,
    strawberry.argument(description="End before this cursor (a `startCursor` or edge `cursor` of ours)."),
]


@strawberry.federation.type(shareable=True, description="Where a page sits in the whole list (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow: page on with `after: endCursor`.")
    has_previous_page: bool = strawberry.field(
        description="Items come before: page back with `before: startCursor`."
    )
    start_cursor: str | None = strawberry.field(description="The first edge's cursor; null on an empty page.")
    end_cursor: str | None = strawberry.field(description="The last edge's cursor; null on an empty page.")


@strawberry.type(description="One item of a page, with its cursor.")
class Edge(Generic[Node]):
    node: Node = strawberry.field(description="The item at this place in the list.")
    cursor: str = strawberry.field(
        description=f"Opaque: pass it back as `after` or `before` (at most {MAX_CURSOR_LENGTH} characters)."
    )


@strawberry.type(
    description="One page of a list (a Relay connection with keyset cursors: stable while rows are added)."
)
class Connection(Generic[Node]):
    edges: list[Edge[Node]] = strawberry.field(description="This page's items, in order, with their cursors.")
    page_info: PageInfo = strawberry.field(description="Whether there are pages before and after this one.")
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


class OrderDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


documented_enum(
    OrderDirection,
    "Sort direction of a list.",
    {
        OrderDirection.ASC: "Smallest, earliest or A first.",
        OrderDirection.DESC: "Largest, latest or Z first.",
    },
)
