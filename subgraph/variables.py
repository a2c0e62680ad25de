"""graphql-core's three variable rules (NoUndefinedVariables, NoUnusedVariables and
VariablesInAllowedPosition) as one rule that rides the validation's own traversal.

graphql-core's rules find each operation's variable usages in a walk of their own, with a type
tracker of its own, through caches keyed by operations (whose hashes walk them again): 40 to 80 %
of the validation of a large document, variables or none. Here each usage is noted with its type
when the one traversal meets it, and each operation then gathers those of the fragments it
reaches (fragment variables are not enabled, so a fragment's usages are its operation's). The
messages and locations are graphql-core's."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputType,
    NoUndefinedVariablesRule,
    NoUnusedVariablesRule,
    OperationDefinitionNode,
    ValidationRule,
    VariableDefinitionNode,
    VariableNode,
    is_input_object_type,
    is_nullable_type,
    type_from_ast,
)
from graphql.validation.rules.variables_in_allowed_position import (
    VariablesInAllowedPositionRule,
    allowed_variable_usage,
)

REPLACED = (NoUndefinedVariablesRule, NoUnusedVariablesRule, VariablesInAllowedPositionRule)


@dataclass(frozen=True, slots=True)
class Usage:
    node: VariableNode
    type: GraphQLInputType | None
    parent_type: GraphQLInputType | None
    default_value: Any


class OperationVariables(ValidationRule):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._operations: list[OperationDefinitionNode] = []
        # Of each operation (by its place) and fragment (by its name): usages and spreads.
        self._usages: dict[int | str, list[Usage]] = {}
        self._spreads: dict[int | str, list[str]] = {}
        self._current: int | str = 0
        self._reached: dict[frozenset[str], list[Usage]] = {}

    def _enter(self, key: int | str) -> None:
        self._current = key
        self._usages[key] = []
        self._spreads[key] = []

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        self._operations.append(node)
        self._enter(len(self._operations) - 1)

    def enter_fragment_definition(self, node: FragmentDefinitionNode, *_: Any) -> None:
        self._enter(node.name.value)  # a fragment defined twice (refused) counts as its last

    def enter_variable_definition(self, *_: Any) -> Any:
        return self.SKIP  # the definition's own $name is no usage

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        context = self.context
        # The location's default value: only the context's type tracker knows it (graphql-core's
        # own usage visitor asks it too).
        default = context._type_info.get_default_value()
        usage = Usage(node, context.get_input_type(), context.get_parent_input_type(), default)
        self._usages[self._current].append(usage)

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        self._spreads[self._current].append(node.name.value)

    def leave_document(self, *_: Any) -> None:
        for place, operation in enumerate(self._operations):
            self._check(operation, [*self._usages[place], *self._fragment_usages(place)])

    def _fragment_usages(self, operation: int) -> list[Usage]:
        """The usages of every fragment the operation reaches, each fragment once."""
        names: list[str] = []
        seen: set[str] = set()
        pending = list(self._spreads[operation])
        while pending:
            name = pending.pop()
            if name not in seen and name in self._spreads:
                seen.add(name)
                names.append(name)
                pending.extend(self._spreads[name])
        key = frozenset(names)
        if key not in self._reached:  # operations that spread the same fragments share them
            self._reached[key] = [usage for name in names for usage in self._usages[name]]
        return self._reached[key]

    def _check(self, operation: OperationDefinitionNode, usages: Iterable[Usage]) -> None:
        defined = {d.variable.name.value: d for d in operation.variable_definitions or ()}
        in_operation = f" by operation '{operation.name.value}'" if operation.name else ""
        used = set()
        for usage in usages:
            name = usage.node.name.value
            used.add(name)
            definition = defined.get(name)
            if definition is None:
                self.report_error(
                    GraphQLError(f"Variable '${name}' is not defined{in_operation}.", [usage.node, operation])
                )
            elif usage.type is not None:
                self._check_position(definition, usage)
        in_operation = f" in operation '{operation.name.value}'" if operation.name else ""
        for name, definition in defined.items():
            if name not in used:
                self.report_error(
                    GraphQLError(f"Variable '${name}' is never used{in_operation}.", definition)
                )

    def _check_position(self, definition: VariableDefinitionNode, usage: Usage) -> None:
        schema = self.context.schema
        variable_type = type_from_ast(schema, definition.type)
        if variable_type is None or usage.type is None:
            return
        name, nodes = usage.node.name.value, [definition, usage.node]
        if not allowed_variable_usage(
            schema, variable_type, definition.default_value, usage.type, usage.default_value
        ):
            self.report_error(
                GraphQLError(
                    f"Variable '${name}' of type '{variable_type}' used"
                    f" in position expecting type '{usage.type}'.",
                    nodes,
                )
            )
        parent = usage.parent_type
        if is_input_object_type(parent) and parent.is_one_of and is_nullable_type(variable_type):
            self.report_error(
                GraphQLError(
                    f"Variable '${name}' is of type '{variable_type}' but must be non-nullable to be used "
                    f"for OneOf Input Object '{parent}'.",
                    nodes,
                )
            )


def with_one_pass_variables(rules: Iterable[type[ASTValidationRule]]) -> list[type[ASTValidationRule]]:
    """``rules`` with graphql-core's three variable rules replaced by OperationVariables."""
    given = tuple(rules)
    kept = [rule for rule in given if rule not in REPLACED]
    return kept if len(kept) == len(given) else [*kept, OperationVariables]
