"""Relay's `node` and `nodes` root fields."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from schema.directives import AUTHENTICATED, access
from schema.nodes import resolve_global_ids


@strawberry.type
class NodeQuery:
    @strawberry.field(extensions=access(AUTHENTICATED), description="Any object by its global id.")
    async def node(
        self,
        info: Info,
        id: Annotated[
            relay.GlobalID, strawberry.argument(description="The global id of any object (as `id` gives it).")
        ],
    ) -> relay.Node:
        (found,) = await resolve_global_ids(info, [id])
        return found

    @strawberry.field(extensions=access(AUTHENTICATED), description="Objects by their global ids, in order.")
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[relay.GlobalID],
            strawberry.argument(
                description="Global ids of any types, at most 100; null where one names nothing you may see."
            ),
        ],
    ) -> list[relay.Node]:
        return await resolve_global_ids(info, ids)
