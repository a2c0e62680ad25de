"""One domain group of the monolith as a federation subgraph of its own (subgraph/groups.py says
which group has what), derived from the monolith's SDL, never declared twice.

A group's subgraph has its root fields, the entities it owns (whole, but for fields another group
contributes), the entities of other groups its fields reach as key stubs (`resolvable: false`,
only `id`, unless it contributes fields to them: then resolvable, with `id` and those fields) and
every value type its fields reach, whole, @shareable when another group's subgraph has it too.
`interface Node @key(fields: "id")` (an entity interface) is in NODE_GROUP's subgraph, with
`node`/`nodes` and every Node implementation as an entity; the other subgraphs do not declare
Node, and each types' owner has it as an entity, so the gateway fetches its fields there."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from graphql import (
    ConstDirectiveNode,
    DefinitionNode,
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    OperationTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeNode,
    UnionTypeDefinitionNode,
    parse,
    print_ast,
)

from core.settings import SubgraphName
from subgraph.groups import CONTRIBUTED, GROUPS, NODE_GROUP

ROOT_TYPES: Final = ("Query", "Mutation", "Subscription")
# Federation's own: in every subgraph (the union of entities rewritten per group).
FEDERATION_FIELDS: Final = frozenset({"_entities", "_service"})
FEDERATION_TYPES: Final = ("_Any", "_Service")
ENTITY_UNION: Final = "_Entity"
NODE: Final = "Node"
KEY_FIELD: Final = "id"


def _directives(sdl_of_directives: str) -> tuple[ConstDirectiveNode, ...]:
    (definition,) = parse(f"scalar X {sdl_of_directives}").definitions
    return tuple(definition.directives or ())  # type: ignore[attr-defined]


KEY: Final = _directives('@key(fields: "id")')
STUB_KEY: Final = _directives('@key(fields: "id", resolvable: false)')
SHAREABLE: Final = _directives("@shareable")


@dataclass
class GroupPlan:
    """What one group's subgraph has: root fields, types (None: every field; else these fields),
    resolvable entities, key stubs, and the value types to mark @shareable."""

    group: SubgraphName
    roots: dict[str, frozenset[str]]
    types: dict[str, frozenset[str] | None] = field(default_factory=dict)
    entities: set[str] = field(default_factory=set)
    stubs: set[str] = field(default_factory=set)
    shareable: set[str] = field(default_factory=set)

    @property
    def has_node(self) -> bool:
        return self.group == NODE_GROUP


def named(type_node: TypeNode) -> str:
    while isinstance(type_node, (NonNullTypeNode, ListTypeNode)):
        type_node = type_node.type
    return type_node.name.value if isinstance(type_node, NamedTypeNode) else ""


class _Walk:
    """The types a group's subgraph needs, from its root fields and owned entities."""

    def __init__(
        self, definitions: Mapping[str, DefinitionNode], owners: Mapping[str, SubgraphName], plan: GroupPlan
    ) -> None:
        self.definitions = definitions
        self.owners = owners
        self.plan = plan

    def fields_of(self, name: str) -> frozenset[str] | None:
        group = self.plan.group
        contributed = frozenset(f for (t, f), g in CONTRIBUTED.items() if t == name and g == group)
        if name not in self.owners:
            return None
        if self.owners[name] == group:
            foreign = {f for (t, f), g in CONTRIBUTED.items() if t == name and g != group}
            definition = self.definitions[name]
            fields = definition.fields if isinstance(definition, ObjectTypeDefinitionNode) else None
            return frozenset({f.name.value for f in fields or ()} - foreign)
        return frozenset({KEY_FIELD}) | contributed

    def add(self, name: str) -> None:
        definition = self.definitions.get(name)
        if definition is None or name in self.plan.types:
            return  # a built-in scalar, or seen
        kept = self.fields_of(name)
        self.plan.types[name] = kept
        if name in self.owners:
            if self.owners[name] == self.plan.group or kept != frozenset({KEY_FIELD}):
                self.plan.entities.add(name)
            else:
                self.plan.stubs.add(name)
        self.add_parts(definition, kept)

    def add_parts(self, definition: DefinitionNode, kept: frozenset[str] | None) -> None:
        if isinstance(definition, (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode)):
            for one in definition.fields or ():
                if kept is None or one.name.value in kept:
                    self.add_field(one)
        elif isinstance(definition, InputObjectTypeDefinitionNode):
            for value in definition.fields or ():
                self.add(named(value.type))
        elif isinstance(definition, UnionTypeDefinitionNode):
            for member in definition.types or ():
                self.add(member.name.value)
        elif isinstance(definition, DirectiveDefinitionNode):
            for argument in definition.arguments or ():
                self.add(named(argument.type))

    def add_field(self, one: FieldDefinitionNode) -> None:
        self.add(named(one.type))
        for argument in one.arguments or ():
            self.add(named(argument.type))


def _definitions(document: DocumentNode) -> dict[str, DefinitionNode]:
    return {d.name.value: d for d in document.definitions if getattr(d, "name", None) is not None}  # type: ignore[attr-defined]


def node_types(definitions: Mapping[str, DefinitionNode]) -> list[str]:
    return [
        name
        for name, d in definitions.items()
        if isinstance(d, ObjectTypeDefinitionNode) and any(i.name.value == NODE for i in d.interfaces or ())
    ]


def plan_groups(
    document: DocumentNode,
    roots: Mapping[SubgraphName, Mapping[str, frozenset[str]]],
    owners: Mapping[str, SubgraphName],
    homes: Mapping[str, SubgraphName],
) -> dict[SubgraphName, GroupPlan]:
    """Every group's plan. ``owners`` names the group of each entity and Node type, ``homes`` the
    group of other types (those no group reaches are in their home group's subgraph, or else
    NODE_GROUP's: every type is in some subgraph)."""
    definitions = _definitions(document)
    walks = {group: _walk_group(document, definitions, roots[group], owners, group) for group in GROUPS}
    reached = {name for walk in walks.values() for name in walk.plan.types}
    for name, definition in definitions.items():
        if name not in reached and not isinstance(definition, DirectiveDefinitionNode):
            walks[homes.get(name, NODE_GROUP)].add(name)
    plans = {group: walk.plan for group, walk in walks.items()}
    _mark_shareable(plans, definitions, owners)
    return plans


def _walk_group(
    document: DocumentNode,
    definitions: Mapping[str, DefinitionNode],
    roots: Mapping[str, frozenset[str]],
    owners: Mapping[str, SubgraphName],
    group: SubgraphName,
) -> _Walk:
    plan = GroupPlan(group, {root: frozenset(roots.get(root, ())) for root in ROOT_TYPES})
    walk = _Walk(definitions, owners, plan)
    for root in ROOT_TYPES:
        definition = definitions.get(root)
        if isinstance(definition, ObjectTypeDefinitionNode) and plan.roots[root]:
            plan.types[root] = plan.roots[root] | (FEDERATION_FIELDS if root == "Query" else frozenset())
            for one in definition.fields or ():
                if one.name.value in plan.roots[root]:
                    walk.add_field(one)
    plan.types.setdefault("Query", FEDERATION_FIELDS)
    for directive in document.definitions:
        if isinstance(directive, DirectiveDefinitionNode):
            walk.add_parts(directive, None)
    for name, owner in owners.items():
        if owner == group:
            walk.add(name)
    for type_name, _ in (key for key, g in CONTRIBUTED.items() if g == group):
        walk.add(type_name)
    if plan.has_node:
        walk.add(NODE)
        for name in node_types(definitions):
            walk.add(name)
            if name in plan.stubs:  # an entity interface's implementations are resolvable here
                plan.stubs.discard(name)
                plan.entities.add(name)
    for name in (*FEDERATION_TYPES, ENTITY_UNION):
        plan.types.setdefault(name, None)
    return walk


def _mark_shareable(
    plans: Mapping[SubgraphName, GroupPlan],
    definitions: Mapping[str, DefinitionNode],
    owners: Mapping[str, SubgraphName],
) -> None:
    for plan in plans.values():
        for name in plan.types:
            definition = definitions.get(name)
            value_type = (
                isinstance(definition, ObjectTypeDefinitionNode)
                and name not in owners
                and name not in ROOT_TYPES
                and not name.startswith("_")
            )
            if value_type and sum(name in other.types for other in plans.values()) > 1:
                plan.shareable.add(name)


def _has(directives: Iterable[ConstDirectiveNode], name: str) -> bool:
    return any(d.name.value == name for d in directives)


def _object(definition: ObjectTypeDefinitionNode, plan: GroupPlan) -> ObjectTypeDefinitionNode:
    name = definition.name.value
    kept = plan.types[name]
    fields = tuple(f for f in definition.fields or () if kept is None or f.name.value in kept)
    directives = tuple(d for d in definition.directives or () if d.name.value != "key")
    if name in plan.stubs:
        directives = (*STUB_KEY, *directives)
    elif name in plan.entities:
        directives = (*KEY, *directives)
    if name in plan.shareable and not _has(directives, "shareable"):
        directives = (*directives, *SHAREABLE)
    interfaces = tuple(i for i in definition.interfaces or () if plan.has_node or i.name.value != NODE)
    return ObjectTypeDefinitionNode(
        description=definition.description,
        name=definition.name,
        interfaces=interfaces,
        directives=directives,
        fields=fields,
    )


def _entity_union(definition: UnionTypeDefinitionNode, plan: GroupPlan) -> UnionTypeDefinitionNode:
    (parsed,) = parse(f"union {ENTITY_UNION} = {' | '.join(sorted(plan.entities))}").definitions
    members = parsed.types  # type: ignore[attr-defined]
    return UnionTypeDefinitionNode(
        description=definition.description, name=definition.name, directives=(), types=members
    )


def _schema_definition(definition: SchemaDefinitionNode, plan: GroupPlan) -> SchemaDefinitionNode:
    operations: list[OperationTypeDefinitionNode] = [
        o for o in definition.operation_types if o.type.name.value in plan.types
    ]
    return SchemaDefinitionNode(
        description=definition.description,
        directives=definition.directives,
        operation_types=tuple(operations),
    )


def _interface(definition: InterfaceTypeDefinitionNode) -> InterfaceTypeDefinitionNode:
    """Node, an entity interface (Federation 2.3) in NODE_GROUP's subgraph."""
    key = KEY if definition.name.value == NODE else ()
    return InterfaceTypeDefinitionNode(
        description=definition.description,
        name=definition.name,
        interfaces=definition.interfaces,
        directives=(*key, *(definition.directives or ())),
        fields=definition.fields,
    )


KEPT_AS_THEY_ARE: Final = (
    DirectiveDefinitionNode,
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    UnionTypeDefinitionNode,
)


def group_sdl(document: DocumentNode, plan: GroupPlan) -> str:
    """The group's subgraph SDL: the monolith's ``document`` filtered by ``plan``."""
    kept: list[DefinitionNode] = []
    for definition in document.definitions:
        name = getattr(definition, "name", None)
        if isinstance(definition, SchemaDefinitionNode):
            kept.append(_schema_definition(definition, plan))
        elif isinstance(definition, DirectiveDefinitionNode):
            kept.append(definition)
        elif name is None or name.value not in plan.types:
            continue
        elif isinstance(definition, ObjectTypeDefinitionNode):
            kept.append(_object(definition, plan))
        elif isinstance(definition, InterfaceTypeDefinitionNode):
            kept.append(_interface(definition))
        elif isinstance(definition, UnionTypeDefinitionNode) and name.value == ENTITY_UNION:
            kept.append(_entity_union(definition, plan))
        elif isinstance(definition, KEPT_AS_THEY_ARE):
            kept.append(definition)
    return print_ast(DocumentNode(definitions=tuple(kept)))
