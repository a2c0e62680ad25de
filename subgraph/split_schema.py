"""The executable side of a split subgraph (subgraph/split.py plans it): the monolith's graphql-core
schema with only the group's root fields and entities, the same field objects and resolvers, so
that every extension (limits, cost, audit, error policy, maintenance) runs as in the monolith."""

from __future__ import annotations

from typing import Final

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    ValidationRule,
    parse,
)
from graphql.language.visitor import SKIP, VisitorAction
from strawberry.federation.schema_directives import Key
from strawberry.schema.name_converter import NameConverter

from core.settings import SubgraphName
from subgraph.groups import NODE_GROUP, ROOTS, module_group, roots_of
from subgraph.split import ENTITY_UNION, NODE, ROOT_TYPES, GroupPlan, group_sdl, plan_groups

DEFINITION: Final = "strawberry-definition"


def _module(graphql_type: GraphQLNamedType) -> str:
    definition = (graphql_type.extensions or {}).get(DEFINITION)
    origin = getattr(definition, "origin", None) or getattr(definition, "wrapped_cls", None)
    return str(getattr(origin, "__module__", ""))


def _is_entity(graphql_type: GraphQLObjectType) -> bool:
    definition = (graphql_type.extensions or {}).get(DEFINITION)
    keyed = any(isinstance(d, Key) for d in getattr(definition, "directives", None) or ())
    return keyed or any(i.name == NODE for i in graphql_type.interfaces)


def _homes(schema: GraphQLSchema) -> tuple[dict[str, SubgraphName], dict[str, SubgraphName]]:
    """The owners of entities and Node types, and the home groups of all types, by module."""
    owners: dict[str, SubgraphName] = {}
    homes: dict[str, SubgraphName] = {}
    for name, graphql_type in schema.type_map.items():
        group = module_group(_module(graphql_type))
        if isinstance(graphql_type, GraphQLObjectType) and _is_entity(graphql_type):
            # An entity of a shared module (none today) is the node group's.
            owners[name] = group or NODE_GROUP
        if group is not None:
            homes[name] = group
    return owners, homes


def group_roots(name_converter: NameConverter) -> dict[SubgraphName, dict[str, frozenset[str]]]:
    """The root field names of each group, by root type."""
    roots: dict[SubgraphName, dict[str, frozenset[str]]] = {}
    for group, classes in ROOTS.items():
        roots[group] = {
            kind: frozenset(
                name_converter.from_field(field)
                for cls in classes
                if cls in roots_of(kind)
                for field in cls.__strawberry_definition__.fields  # type: ignore[attr-defined]
            )
            for kind in ROOT_TYPES
        }
    return roots


def plan_split(
    schema: GraphQLSchema, sdl: str, name_converter: NameConverter
) -> dict[SubgraphName, tuple[GroupPlan, str]]:
    """Each group's plan and subgraph SDL, from the monolith's schema and SDL."""
    owners, homes = _homes(schema)
    document = parse(sdl)
    plans = plan_groups(document, group_roots(name_converter), owners, homes)
    return {group: (plan, group_sdl(document, plan)) for group, plan in plans.items()}


def _root(full: GraphQLObjectType | None, names: frozenset[str]) -> GraphQLObjectType | None:
    if full is None or not names:
        return None
    return GraphQLObjectType(
        full.name,
        {name: one for name, one in full.fields.items() if name in names},
        description=full.description,
        extensions=full.extensions,
    )


def split_execution_schema(full: GraphQLSchema, plan: GroupPlan) -> GraphQLSchema:
    """``full`` with only the group's root fields and, in `_entities`, its entities."""
    query = _root(full.query_type, plan.types["Query"] or frozenset())
    if query is None or full.query_type is None:
        raise ValueError(f"the {plan.group} subgraph has no Query")
    everything = full.type_map[ENTITY_UNION]
    if not isinstance(everything, GraphQLUnionType):
        raise TypeError(f"{ENTITY_UNION} is not a union")
    union = GraphQLUnionType(
        ENTITY_UNION,
        [t for name in sorted(plan.entities) if isinstance(t := full.type_map[name], GraphQLObjectType)],
        resolve_type=everything.resolve_type,
        description=everything.description,
        extensions=everything.extensions,
    )
    entities = full.query_type.fields["_entities"]
    query.fields["_entities"] = GraphQLField(
        GraphQLNonNull(GraphQLList(union)),
        args=entities.args,
        resolve=entities.resolve,
        description=entities.description,
        extensions=entities.extensions,
    )
    named = {"Query", "Mutation", "Subscription", ENTITY_UNION}
    return GraphQLSchema(
        query=query,
        mutation=_root(full.mutation_type, plan.roots["Mutation"]),
        subscription=_root(full.subscription_type, plan.roots["Subscription"]),
        types=[
            full.type_map[name] for name in sorted(plan.types) if name in full.type_map and name not in named
        ],
        directives=full.directives,
        extensions=full.extensions,
    )


def only_the_groups_fields(plan: GroupPlan) -> type[ValidationRule]:
    """A rule refusing the fields the group's SDL leaves out (another group's fields of an entity, the
    types only other groups reach): the execution schema shares the monolith's types, so without it a
    client calling the subgraph directly could select what the gateway would ask of another group."""
    roots = {"Query", "Mutation", "Subscription"}

    class OnlyTheGroupsFields(ValidationRule):
        def enter_field(self, node: FieldNode, *_: object) -> VisitorAction:
            parent = self.context.get_parent_type()
            name = node.name.value
            if parent is None or parent.name in roots or name.startswith("__"):
                return None  # the roots are trimmed already; unknown types are another rule's
            kept = plan.types.get(parent.name, frozenset())
            if kept is not None and name not in kept:
                self.report_error(GraphQLError(f"Cannot query field '{name}' on type '{parent.name}'.", node))
                return SKIP  # one error per refused field, not one more for each field below it
            return None

    return OnlyTheGroupsFields
