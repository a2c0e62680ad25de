"""Relay node lookup: every Node type registers here so `node`/`nodes` can resolve its global ids."""

from __future__ import annotations

from typing import Any, Protocol, Self, TypeVar

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.errors import BadUserInput, NotFound

MAX_NODES = 100


class NodeType(Protocol):
    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Any, required: bool = False) -> list[Any]: ...


NODE_TYPES: dict[str, type[NodeType]] = {}
T = TypeVar("T", bound=type)


class Entity:
    """A federation entity keyed by its Relay id (``@key(fields: "id")``): a gateway's reference
    resolves through the type's ``resolve_nodes`` (its loader and access rules), and one out of
    reach is NOT_FOUND rather than a silent null. Put it before ``relay.Node`` in the bases."""

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID, **_: Any) -> Self:
        (node,) = await cls.resolve_nodes(info=info, node_ids=[id])  # type: ignore[attr-defined]
        if node is None:
            raise NotFound(cls.__strawberry_definition__.name)  # type: ignore[attr-defined]
        return node  # type: ignore[no-any-return]


def node_type(cls: T) -> T:
    """Register a Relay Node type by its GraphQL name (its resolve_nodes applies access rules)."""
    NODE_TYPES[cls.__strawberry_definition__.name] = cls  # type: ignore[attr-defined]
    return cls


async def resolve_global_ids(info: Info, ids: list[relay.GlobalID]) -> list[relay.Node]:
    """Each id's object, in order; NOT_FOUND for an id that does not exist or is out of reach."""
    if len(ids) > MAX_NODES:
        raise BadUserInput(f"At most {MAX_NODES} ids at once.")
    by_type: dict[str, list[str]] = {}
    for global_id in ids:
        if global_id.type_name not in NODE_TYPES:
            raise NotFound("Node")
        by_type.setdefault(global_id.type_name, []).append(str(global_id))
    found: dict[str, Any] = {}
    for type_name, node_ids in by_type.items():
        nodes = await NODE_TYPES[type_name].resolve_nodes(info=info, node_ids=node_ids)
        found.update(zip(node_ids, nodes, strict=True))
    result = []
    for global_id in ids:
        node = found[str(global_id)]
        if node is None:
            raise NotFound(global_id.type_name)
        result.append(node)
    return result
