"""Query cost: an operation is refused before it runs when it may return too many objects.

The cost of an operation is the most objects its answer may hold:

- a field of an object type (or interface, union) costs 1 per object it returns, plus the cost of
  its selection for each of them; a scalar or enum field costs 0, but ``totalCount`` costs 1 (a
  query of its own); introspection fields and ``__typename`` cost nothing;
- a field with paging arguments (``first``/``last``) returns that many: the larger of the two
  when both are given, else the argument's default (``productSuggestions``: 10), else a page
  (DEFAULT_PAGE_SIZE, 20); a connection field itself costs 1, and its ``edges`` and ``nodes``
  that many each;
- another list returns its documented maximum (``Order.items``: 100; see LIST_SIZES), as many
  as a list argument holds (``nodes(ids:)``, ``_entities(representations:)``), or a page
  (DEFAULT_LIST_SIZE: ``Category.children``, ``Order.statusHistory``, ``userErrors``, ...);
- a fragment costs what its selection costs where it is spread (each spread counts; a fragment is
  measured once per page size); fragments on different types of an abstract field all count (an
  upper bound).

``{ orders(first: 20) { nodes { number user { email } items { product { name } } } } }`` costs
1 (orders) + 20 x (1 (order) + 1 (user) + 100 x (1 (item) + 1 (product))) = 4041.

Page sizes may come from variables, so the cost is computed per request, after validation and
before execution (a subscription's before it starts): one pass over the operation, linear in the
document, whose size subgraph/limits.py bounds (under a millisecond for the largest); not cached,
as a cache by document and variables would grow with every page size asked for. Each operation of
a batched request is measured on its own against the maximum: a batch of at most
MAX_BATCH_OPERATIONS operations asks for at most that many times MAX_QUERY_COST."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension

from loaders.pagination import DEFAULT_PAGE_SIZE
from services.orders.cart import MAX_CART_LINES
from services.orders.new_order import MAX_ORDER_LINES
from services.orders.reads import MAX_STATISTICS_DAYS
from subgraph.refuse import refuse

PAGE_ARGUMENTS: Final = ("first", "last")
# A list without paging arguments and without an entry in LIST_SIZES counts as a page. So do a
# category's children (at most 100 each): the levels of a tree multiply, and two levels of 100 are
# a tree no tenant has.
DEFAULT_LIST_SIZE: Final = DEFAULT_PAGE_SIZE
# Lists without paging arguments: the most items they hold, or the list argument they follow.
LIST_SIZES: Final[Mapping[str, int | str]] = {
    "Query.nodes": "ids",
    "Query._entities": "representations",
    "Order.items": MAX_ORDER_LINES,
    "Invoice.lines": MAX_ORDER_LINES,  # an order's items, or a billing period's one line
    "Cart.items": MAX_CART_LINES,
    "CurrencyOrderStatistics.revenueByDay": MAX_STATISTICS_DAYS,
    # One entry per currency with paid orders in the period; a tenant sells in a handful (a
    # page of 20 x 366 days refused a manager's dashboard).
    "OrderStatistics.currencies": 5,
}
# Scalar fields that cost a query of their own.
SCALAR_COSTS: Final[Mapping[str, int]] = {"totalCount": 1}


class OperationCost:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]) -> None:
        self._schema = schema
        self._variables = variables
        self._fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._measured: dict[tuple[str, int | None], int] = {}

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = {
            OperationType.QUERY: self._schema.query_type,
            OperationType.MUTATION: self._schema.mutation_type,
            OperationType.SUBSCRIPTION: self._schema.subscription_type,
        }[operation.operation]
        return self.selections(operation.selection_set, root, None) if root else 0

    def selections(self, selection_set: SelectionSetNode | None, parent: Any, page: int | None) -> int:
        """``page``: the size of the page ``parent`` is a connection of, if it is one."""
        cost = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                cost += self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self._schema.get_type(condition.name.value) if condition else parent
                cost += self.selections(selection.selection_set, inner, page)
            elif isinstance(selection, FragmentSpreadNode):
                cost += self.fragment(selection.name.value, page)
        return cost

    def fragment(self, name: str, page: int | None) -> int:
        key = (name, page)
        if key not in self._measured:
            self._measured[key] = 0  # a cycle (refused by validation) counts as nothing
            definition = self._fragments.get(name)
            if definition is not None:
                parent = self._schema.get_type(definition.type_condition.name.value)
                self._measured[key] = self.selections(definition.selection_set, parent, page)
        return self._measured[key]

    def field(self, node: FieldNode, parent: GraphQLNamedType, page: int | None) -> int:
        name = node.name.value
        definition: GraphQLField | None = getattr(parent, "fields", {}).get(name)
        if definition is None or name.startswith("__"):
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return SCALAR_COSTS.get(name, 0)
        size = self._page_size(node, definition) if set(PAGE_ARGUMENTS) & definition.args.keys() else None
        if is_list_type(get_nullable_type(definition.type)):
            count = size if size is not None else self._list_size(node, f"{parent.name}.{name}", page)
            return count * (1 + self.selections(node.selection_set, named, None))
        return 1 + self.selections(node.selection_set, named, size)

    def _argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                return value_from_ast_untyped(argument.value, self._variables)
        return None

    def _page_size(self, node: FieldNode, definition: GraphQLField) -> int:
        sizes = [self._argument(node, name) for name in PAGE_ARGUMENTS]
        given = [size for size in sizes if isinstance(size, int) and not isinstance(size, bool)]
        if given:
            return max(0, *given)
        default = definition.args["first"].default_value if "first" in definition.args else None
        return default if isinstance(default, int) else DEFAULT_PAGE_SIZE

    def _list_size(self, node: FieldNode, coordinate: str, page: int | None) -> int:
        declared = LIST_SIZES.get(coordinate)
        if isinstance(declared, str):
            items = self._argument(node, declared)
            return len(items) if isinstance(items, list) else 1
        if declared is not None:
            return declared
        return page if page is not None else DEFAULT_LIST_SIZE


def _variables_with_defaults(operation: OperationDefinitionNode, given: Mapping[str, Any]) -> dict[str, Any]:
    values = {
        d.variable.name.value: value_from_ast_untyped(d.default_value)
        for d in operation.variable_definitions or ()
        if d.default_value is not None
    }
    values.update(given)
    return values


def find_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The operation ``name`` (or the only one) of a valid document."""
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            name is None or (definition.name and definition.name.value == name)
        ):
            return definition
    return None


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
) -> int:
    return OperationCost(schema, document, _variables_with_defaults(operation, variables)).operation(
        operation
    )


class QueryCost(SchemaExtension):
    """Refuses an operation costing more than ``maximum`` before it runs (BAD_USER_INPUT with
    ``extensions.cost {requested, maximum}``); ``show``: an accepted one's cost is in the
    response's ``extensions.cost``."""

    def __init__(self, maximum: int, show: bool) -> None:
        self.maximum = maximum
        self.show = show
        self.requested: int | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = find_operation(document, context.operation_name) if document else None
        if document is not None and operation is not None:
            variables = context.variables or {}
            self.requested = operation_cost(context.schema._schema, document, operation, variables)
            if self.requested > self.maximum:
                refuse(
                    f"The operation may cost {self.requested}; at most {self.maximum} is allowed. "
                    "Ask for fewer items (first/last) or fewer nested lists.",
                    cost=self._figures(),
                )
        yield

    def _figures(self) -> dict[str, int]:
        return {"requested": self.requested or 0, "maximum": self.maximum}

    def get_results(self) -> dict[str, Any]:
        if self.show and self.requested is not None and self.requested <= self.maximum:
            return {"cost": self._figures()}
        return {}
