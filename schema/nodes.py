"""Relay node lookup: every Node type registers here so `node`/`nodes` can resolve its global ids."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Self, TypeVar

import strawberry
from aiodataloader import DataLoader
from strawberry import relay
from strawberry.federation.schema_directives import Key
from strawberry.types import Info

from core.errors import BadUserInput, NotFound

MAX_NODES = 100


def parse_uuid(raw: str | relay.GlobalID, type_name: str) -> uuid.UUID:
    """Accept a Relay global id of ``type_name`` or a bare UUID (federation representations)."""
    try:
        if isinstance(raw, relay.GlobalID):
            if raw.type_name != type_name:
                raise ValueError
            return uuid.UUID(raw.node_id)
        try:
            return uuid.UUID(str(raw))
        except ValueError:
            return parse_uuid(relay.GlobalID.from_id(str(raw)), type_name)
    except ValueError as exc:
        raise NotFound(type_name) from exc


# A row id no row has: what an id of the wrong type or shape stands for.
NO_ID = uuid.UUID(int=0)


def reference_uuid(raw: str | relay.GlobalID, type_name: str) -> uuid.UUID:
    """An id used to find or filter something: a malformed one, or one of another type, names
    nothing (``NO_ID``), so the caller answers exactly as for an id that does not exist."""
    try:
        return parse_uuid(raw, type_name)
    except NotFound:
        return NO_ID


def optional_reference(raw: str | relay.GlobalID | None, type_name: str) -> uuid.UUID | None:
    """An optional id (a filter, an optional input): absent is None; malformed or foreign names nothing."""
    return None if raw is None else reference_uuid(raw, type_name)


class LoadedNode(relay.Node):
    """A Relay node read by id through a per-request loader, under its visibility rule.

    Each type implements ``load``: its rows in order, None where a row does not exist *or* the
    caller may not see it (the same answer, so nothing can be guessed). ``node``, ``nodes``,
    federation references and root lookups all go through it."""

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> Sequence[Self | None]:
        raise NotImplementedError(f"{cls.__name__}.load")

    # strawberry's stub overloads ``required=True`` to a list without None; nothing here passes it
    # (callers turn a None into NOT_FOUND themselves), so one override serves every type.
    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> Sequence[Self | None]:
        return await cls.load(info, [str(node_id) for node_id in node_ids])


NODE_TYPES: dict[str, type[Entity]] = {}
N = TypeVar("N", bound=LoadedNode)
Row = TypeVar("Row")
Built = TypeVar("Built")


def _everyone(_row: object) -> bool:
    return True


async def load_nodes(
    node_ids: Iterable[str],
    type_name: str,
    loader: DataLoader[uuid.UUID, Row | None],
    build: Callable[[Row], Built],
    visible: Callable[[Row], bool] = _everyone,
) -> list[Built | None]:
    """The body of every ``LoadedNode.load``: rows through the type's per-request loader, each
    built into its GraphQL type; a row the caller may not see (``visible`` false) is None, exactly
    like a row that does not exist."""
    ids = [parse_uuid(i, type_name) for i in node_ids]
    # One id (every relation field) skips load_many's gather, a task per row of a list.
    rows = [await loader.load(ids[0])] if len(ids) == 1 else await loader.load_many(ids)
    return [build(row) if row is not None and visible(row) else None for row in rows]


def type_name_of(node_type: type[LoadedNode]) -> str:
    name: str = node_type.__strawberry_definition__.name  # type: ignore[attr-defined]
    return name


async def node_or_not_found(node_type: type[N], info: Info, node_id: str | relay.GlobalID) -> N:
    """One node by id through its type's ``load``; NOT_FOUND when missing or out of reach."""
    (node,) = await node_type.load(info, [str(node_id)])
    if node is None:
        raise NotFound(type_name_of(node_type))
    return node


async def node_or_none(node_type: type[N], info: Info, row_id: uuid.UUID | None) -> N | None:
    """The node of a relation's id, when there is one and the caller may see it."""
    if row_id is None:
        return None
    (node,) = await node_type.load(info, [str(row_id)])
    return node


class Entity(LoadedNode):
    """A federation entity keyed by its Relay id (``@key(fields: "id")``): every Node type is one.
    A gateway's references resolve through the type's ``load`` (its loader and access rules, those
    of ``node``), all references of one type in a request in one call of it; one out of reach is
    NOT_FOUND rather than a silent null, and an anonymous caller (whom ``node`` refuses) reaches none."""

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID, **_: Any) -> Self:
        type_name = type_name_of(cls)
        # A malformed id is NOT_FOUND at its own index, never its batch's.
        row_id = parse_uuid(id, type_name)
        if info.context.principal is None:
            raise NotFound(type_name)
        node: Self | None = await _reference_loader(cls, info).load(str(row_id))
        if node is None:
            raise NotFound(type_name)
        return node


# strawberry resolves each representation on its own: the references of one type in one request
# (of one subscription event, on a websocket) share a loader over the type's ``load``, kept with
# the request's loaders and dropped with them.
def _reference_loader(cls: type[Entity], info: Info) -> DataLoader[str, Any]:
    by_type: dict[type, DataLoader[str, Any]] = info.context.loaders.references
    if cls not in by_type:
        # The first reference's info serves the batch: a ``load`` reads only its context.
        async def batch(node_ids: list[str]) -> list[Any]:
            return list(await cls.load(info, node_ids))

        by_type[cls] = DataLoader(batch)
    return by_type[cls]


E = TypeVar("E", bound=Entity)


def node_type(cls: type[E]) -> type[E]:
    """Register a Node type by its GraphQL name, for ``node``, ``nodes`` and ``_entities``: an
    Entity with ``@key(fields: "id")`` (``strawberry.federation.type(keys=["id"], ...)``)."""
    directives = cls.__strawberry_definition__.directives  # type: ignore[attr-defined]
    if not any(isinstance(d, Key) and d.fields == "id" for d in directives):
        raise TypeError(f"{cls.__name__}: a Node type is an entity, declare it with keys=['id']")
    NODE_TYPES[type_name_of(cls)] = cls
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
        nodes = await NODE_TYPES[type_name].load(info, node_ids)
        found.update(zip(node_ids, nodes, strict=True))
    result = []
    for global_id in ids:
        node = found[str(global_id)]
        if node is None:
            raise NotFound(global_id.type_name)
        result.append(node)
    return result
