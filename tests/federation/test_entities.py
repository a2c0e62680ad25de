"""`_entities` for every entity type (every Node type is one, keyed by id): references resolve in
order through the type's loader, one statement per type read however many they are, no transaction;
extra representation fields are ignored; another tenant's row, a row the type's own rule keeps
from the caller, an unknown or malformed id and an anonymous caller are NOT_FOUND at their index."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
import strawberry
from graphql import GraphQLInterfaceType, GraphQLUnionType
from strawberry import relay

from core.permissions import Role
from core.settings import Settings
from schema.nodes import NODE_TYPES, Entity, node_type
from server.runtime import Runtime
from subgraph.build import build_schema
from tests.federation.kinds import KINDS, Kind, Rows
from tests.support.graphql import GraphQLClient, GraphQLResult, StatementCounter, count_statements
from tests.support.identity import Account, global_id, quick_account

QUERY = "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Node { id } } }"
BY_NAME = {kind.name: kind for kind in KINDS}


def _rep(type_name: str, row_id: uuid.UUID | str, n: int = 0) -> dict[str, Any]:
    """A representation: the Relay global id, the bare UUID, or either with fields a gateway adds."""
    if isinstance(row_id, str):
        return {"__typename": type_name, "id": row_id}
    given = global_id(type_name, row_id) if n % 2 == 0 else str(row_id)
    extra = {"name": "from elsewhere", "nested": {"a": [1, 2]}} if n % 3 == 2 else {}
    return {"__typename": type_name, "id": given, **extra}


def _tables(counter: StatementCounter) -> list[str]:
    """The table each statement of the request reads (the outbox dispatcher polls meanwhile)."""
    statements = [s for s in counter.statements if "outbox_events" not in s]
    return [match.group(1) if (match := re.search(r"\bFROM (\w+)", s)) else s for s in statements]


def _expect(result: GraphQLResult, asked: Sequence[tuple[str, uuid.UUID | str, bool]]) -> None:
    """Each index resolved (its type and id) where ``asked`` says visible, else null and NOT_FOUND."""
    assert result.status == 200, result.body
    assert result.data["_entities"] == [
        {"__typename": name, "id": _rep(name, row_id)["id"]} if visible else None
        for name, row_id, visible in asked
    ], result.body
    errors = {tuple(e["path"]): (e["extensions"]["code"], e["message"]) for e in result.errors}
    assert errors == {
        ("_entities", i): ("NOT_FOUND", f"{name} not found.")
        for i, (name, _, visible) in enumerate(asked)
        if not visible
    }, result.body


async def _rows_of_a_viewer(
    kind: Kind, runtime: Runtime, count: int
) -> tuple[Rows, Account, list[uuid.UUID]]:
    """A caller who may see the rows, and ``count`` rows of theirs."""
    rows = Rows(runtime)
    viewer = await quick_account(runtime, kind.home, *kind.viewer)
    return rows, viewer, [await kind.make(rows, viewer) for _ in range(count)]


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
async def test_references_resolve_in_order_in_one_read(
    kind: Kind, gql: GraphQLClient, runtime: Runtime
) -> None:
    _, viewer, ids = await _rows_of_a_viewer(kind, runtime, 5)
    picks = [ids[(3 * n) % len(ids)] for n in range(100)]  # every row, out of order, twenty times each
    representations = [_rep(kind.name, row_id, n) for n, row_id in enumerate(picks)]
    await gql.warm(viewer.token)

    with count_statements(runtime.db.engine) as one:
        single = await gql(QUERY, {"r": representations[:1]}, token=viewer.token)
    with count_statements(runtime.db.engine) as hundred:
        result = await gql(QUERY, {"r": representations}, token=viewer.token)

    assert single.ok()["_entities"] == [{"__typename": kind.name, "id": global_id(kind.name, picks[0])}]
    assert result.ok()["_entities"] == [
        {"__typename": kind.name, "id": global_id(kind.name, i)} for i in picks
    ]
    assert _tables(one) == _tables(hundred) == list(kind.reads), (one.statements, hundred.statements)
    assert (one.transactions, hundred.transactions) == (0, 0)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
async def test_references_out_of_reach_are_not_found(
    kind: Kind, gql: GraphQLClient, runtime: Runtime
) -> None:
    rows, viewer, mine = await _rows_of_a_viewer(kind, runtime, 2)
    asked: list[tuple[str, uuid.UUID | str, bool]] = [(kind.name, mine[0], True)]
    if kind.tenanted:
        outsider = await quick_account(runtime, "globex", *kind.viewer)
        asked.append((kind.name, await kind.make(rows, outsider), False))
    if kind.hidden is not None:
        asked.append((kind.name, await kind.hidden(rows, viewer), False))
    asked += [(kind.name, uuid.uuid4(), False), (kind.name, "not-an-id", False), (kind.name, mine[1], True)]

    representations = {"r": [_rep(name, row_id) for name, row_id, _ in asked]}
    _expect(await gql(QUERY, representations, token=viewer.token), asked)

    # Nobody signed in reaches any (as `node` lets nobody in).
    anonymous = [(kind.name, row_id, False) for row_id in mine]
    _expect(await gql(QUERY, {"r": [_rep(kind.name, row_id) for row_id in mine]}), anonymous)

    if kind.lesser is not None:
        lesser = await quick_account(runtime, kind.home, *kind.lesser)
        result = await gql(QUERY, {"r": [_rep(kind.name, row_id) for row_id in mine]}, token=lesser.token)
        _expect(result, anonymous)


MIXED = (
    "Tenant",
    "Session",
    "Category",
    "Brand",
    "Product",
    "Order",
    "Invoice",
    "Stream",
    "Ticket",
    "Notification",
)


async def test_several_types_in_one_request_read_each_type_once(gql: GraphQLClient, runtime: Runtime) -> None:
    rows = Rows(runtime)
    viewer = await quick_account(runtime, "acme", Role.USER)
    ids = {name: [await BY_NAME[name].make(rows, viewer) for _ in range(3)] for name in MIXED}
    picks = [(MIXED[n % len(MIXED)], ids[MIXED[n % len(MIXED)]][n % 3]) for n in range(90)]
    await gql.warm(viewer.token)

    with count_statements(runtime.db.engine) as counter:
        result = await gql(
            QUERY, {"r": [_rep(name, i, n) for n, (name, i) in enumerate(picks)]}, token=viewer.token
        )

    assert result.ok()["_entities"] == [{"__typename": name, "id": global_id(name, i)} for name, i in picks]
    assert Counter(_tables(counter)) == {table: 1 for name in MIXED for table in BY_NAME[name].reads}
    assert counter.transactions == 0


def test_every_node_type_is_an_entity_with_a_test(settings: Settings) -> None:
    """A new Node type fails here until it is in tests/federation/kinds.py."""
    schema = build_schema(settings)
    graphql_schema = schema._schema
    node = graphql_schema.get_type("Node")
    entity = graphql_schema.get_type("_Entity")
    assert isinstance(node, GraphQLInterfaceType) and isinstance(entity, GraphQLUnionType)
    implementations = {t.name for t in graphql_schema.get_implementations(node).objects}
    assert len(KINDS) == len(BY_NAME)
    assert set(BY_NAME) == implementations == {t.name for t in entity.types} == set(NODE_TYPES)
    keyed = set(re.findall(r'^type (\w+) implements Node @key\(fields: "id"\) \{', schema.as_str(), re.M))
    assert keyed == implementations


def test_a_node_type_without_its_key_is_refused() -> None:
    @strawberry.type(name="Keyless", description="A node type declared without keys.")
    class Keyless(Entity):
        keyless_id: relay.NodeID[str]

    with pytest.raises(TypeError, match=r"keys=\['id'\]"):
        node_type(Keyless)
    assert "Keyless" not in NODE_TYPES
