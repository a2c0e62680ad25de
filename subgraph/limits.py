"""Limits on what a request may be: depth and aliases measured in one pass over the document,
each fragment once.

strawberry's QueryDepthLimiter and MaxAliasesLimiter walk a fragment again at every spread: 21
fragments each spreading the next twice took 21 s of validation on the event loop (2**21 walks),
blocking every other request. Here each fragment's height and alias count are computed once and
reused, so validation is linear in the document's size whatever its spreads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)


@dataclass(frozen=True, slots=True)
class Measure:
    """Of a selection set: the level of its deepest field below it (a leaf field adds none, as in
    strawberry's depth limiter; introspection fields do not count), and how many aliased fields
    it expands to (a fragment spread twice counts twice)."""

    height: int
    aliases: int


class DocumentMeasure:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
        self._measured: dict[str, Measure] = {}
        self._measuring: set[str] = set()  # a cycle (refused by another rule) counts as nothing

    def selections(self, selection_set: SelectionSetNode | None) -> Measure:
        height = aliases = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                aliases += 1 if selection.alias else 0
                if selection.selection_set is None:
                    continue
                inner = self.selections(selection.selection_set)
                aliases += inner.aliases
                if not selection.name.value.startswith("__"):
                    height = max(height, 1 + inner.height)
                continue
            if isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                inner = self.selections(selection.selection_set)
            else:
                continue
            height = max(height, inner.height)  # a fragment adds no level of its own
            aliases += inner.aliases
        return Measure(height=height, aliases=aliases)

    def fragment(self, name: str) -> Measure:
        if name in self._measured:
            return self._measured[name]
        definition = self._fragments.get(name)
        if definition is None or name in self._measuring:
            return Measure(height=0, aliases=0)
        self._measuring.add(name)
        measured = self.selections(definition.selection_set)
        self._measuring.discard(name)
        self._measured[name] = measured
        return measured


def limits_rule(max_depth: int, max_aliases: int) -> type[ValidationRule]:
    class OperationLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            measure = DocumentMeasure(
                {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
            )
            aliases = 0
            for definition in document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                measured = measure.selections(definition.selection_set)
                aliases += measured.aliases
                if measured.height > max_depth:  # top-level fields are at depth 0
                    name = definition.name.value if definition.name else "anonymous"
                    context.report_error(
                        GraphQLError(f"'{name}' exceeds maximum operation depth of {max_depth}", [definition])
                    )
            if aliases > max_aliases:
                context.report_error(GraphQLError(f"{aliases} aliases found. Allowed: {max_aliases}"))

        def enter(self, *_: Any) -> Any:
            return self.SKIP  # everything was measured above

    return OperationLimits
