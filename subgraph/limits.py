"""Limits on what a document may be, and validation whose cost they bound.

A document is measured in one pass, each fragment once (its height and alias count reused at
every spread): depth, aliases, fragments and directives per selection. strawberry's
QueryDepthLimiter and MaxAliasesLimiter walked a fragment again at every spread: 21 fragments
each spreading the next twice took 21 s of validation on the event loop, blocking every other
request. The measure runs before graphql-core's rules, so a document over a limit is refused
without them; the one rule that is not linear in the document (OverlappingFieldsCanBeMerged,
which compares fields pairwise) gets a smaller work budget than graphql-core's. Documents are
validated once per distinct text."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    OverlappingFieldsCanBeMergedRule,
    SelectionSetNode,
    UniqueArgumentNamesRule,
    UniqueDirectivesPerLocationRule,
    parse,
    validate,
)
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from core.errors import ErrorCode
from subgraph.strings import literal_errors
from subgraph.variables import with_one_pass_variables

# Distinct documents whose syntax tree and validation errors are kept (a tree holds its tokens:
# about 0.6 MB per thousand).
CACHE_SIZE: Final = 512
# Units of graphql-core's OverlappingFieldsCanBeMerged budget (a field comparison costs 2); all
# of it takes about 10 ms here, graphql-core's own 500,000 took 0.5 s. Twenty fragments of four
# fields each, spread side by side, spend 3,300; our tests' and benchmarks' documents almost none.
OVERLAP_BUDGET: Final = 5_000
# Validation stops after this many errors: each can cost a suggestion search ("Did you mean").
MAX_VALIDATION_ERRORS: Final = 5
# graphql-core adds these, as strawberry does to every validation.
STRAWBERRY_RULES: Final = (MaybeNullValidationRule, OneOfInputValidationRule)


@dataclass(frozen=True, slots=True)
class Limits:
    depth: int
    aliases: int
    fragments: int
    directives: int  # on one field, fragment spread, inline fragment or definition
    document_chars: int
    tokens: int
    string_length: int  # of a literal (a variable's: CleanStrings)


@dataclass(frozen=True, slots=True)
class Measure:
    """Of a selection set: the level of its deepest field below it (a leaf field adds none, as in
    strawberry's depth limiter; introspection fields do not count), and how many aliased fields
    it expands to (a fragment spread twice counts twice)."""

    height: int
    aliases: int


class DocumentMeasure:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode], max_directives: int) -> None:
        self._fragments = fragments
        self._max_directives = max_directives
        self._measured: dict[str, Measure] = {}
        self._measuring: set[str] = set()  # a cycle (refused by another rule) counts as nothing
        self.too_many_directives: Node | None = None  # the first selection with more than allowed

    def selections(self, selection_set: SelectionSetNode | None) -> Measure:
        height = aliases = 0
        for selection in selection_set.selections if selection_set else ():
            if len(selection.directives or ()) > self._max_directives and self.too_many_directives is None:
                self.too_many_directives = selection
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


def _crowded_definition(document: DocumentNode, max_directives: int) -> Node | None:
    """An operation, fragment or variable definition with more than ``max_directives``."""
    for definition in document.definitions:
        nodes: tuple[Node, ...] = (definition, *(getattr(definition, "variable_definitions", None) or ()))
        for node in nodes:
            if len(getattr(node, "directives", None) or ()) > max_directives:
                return node
    return None


def limit_errors(document: DocumentNode, limits: Limits) -> list[GraphQLError]:
    """What the document exceeds, measured in one pass (each fragment once); empty if nothing."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    if len(fragments) > limits.fragments:
        return [GraphQLError(f"{len(fragments)} fragments found. Allowed: {limits.fragments}.")]
    errors = []
    measure = DocumentMeasure(fragments, limits.directives)
    aliases = 0
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        measured = measure.selections(definition.selection_set)
        aliases += measured.aliases
        if measured.height > limits.depth:  # top-level fields are at depth 0
            name = definition.name.value if definition.name else "anonymous"
            errors.append(
                GraphQLError(f"'{name}' exceeds maximum operation depth of {limits.depth}", [definition])
            )
    for fragment in fragments:  # fragments no operation spreads are measured too (for directives)
        measure.fragment(fragment)
    if aliases > limits.aliases:
        errors.append(GraphQLError(f"{aliases} aliases found. Allowed: {limits.aliases}"))
    crowded = measure.too_many_directives or _crowded_definition(document, limits.directives)
    if crowded is not None:
        errors.append(
            GraphQLError(
                f"More than {limits.directives} directives on one selection or definition.", [crowded]
            )
        )
    return errors


@lru_cache(maxsize=CACHE_SIZE)
def parse_cached(query: str, limits: Limits) -> DocumentNode:
    # Comments count apart from tokens (the parser keeps each as a token).
    return parse(query, max_lexical_tokens=limits.tokens, max_comments=limits.tokens)


def refusal(query: str | None, limits: Limits) -> GraphQLError | None:
    """The error a document is answered with before anything runs: it is too long, or it does not
    parse. One that parses is cached, for CachedParse."""
    if not query:  # strawberry answers that no query was sent
        return None
    if len(query) > limits.document_chars:
        # Before lexing: the lexer reads character by character (a megabyte of comment took
        # 0.3 s), and even graphql-core's own length check finds the line of its error (25 ms).
        message = f"The document has {len(query)} characters; at most {limits.document_chars} are allowed."
        return GraphQLError(message, extensions={"code": ErrorCode.BAD_USER_INPUT})
    try:
        parse_cached(query, limits)
    except GraphQLError as error:
        error.extensions = {"code": ErrorCode.BAD_USER_INPUT}
        return error.with_traceback(None)
    return None


class CachedParse(SchemaExtension):
    """Hands strawberry the document ``refusal`` parsed (and would have answered had it not
    parsed): each distinct document is parsed once, and only once per request. strawberry's own
    ParserCache raises a syntax error past the extensions, which loses its code; parsing again on
    a miss doubled the cost of a document that does not parse."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def on_parse(self) -> Iterator[None]:
        query = self.execution_context.query
        if query:
            self.execution_context.graphql_document = parse_cached(query, self.limits)
        yield


class BoundedOverlappingFields(OverlappingFieldsCanBeMergedRule):
    """graphql-core's rule with OVERLAP_BUDGET, and a message that says why it gave up."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.rule_context.remaining_complexity_budget = OVERLAP_BUDGET

    def enter_selection_set(self, *args: Any) -> None:
        try:
            super().enter_selection_set(*args)
        except ValidationAbortedError:
            raise ValidationAbortedError(
                "Too many fields with the same response name to compare: validation aborted."
            ) from None


class ExecutableUniqueDirectives(UniqueDirectivesPerLocationRule):
    """graphql-core's rule, called only at the nodes of an executable document that can carry
    directives, and only where two or more do. graphql-core's own is called at every node of the
    tree: 5 of the 29 ms of validating a document at the token limit. Directives on type
    definitions go unchecked; ExecutableDefinitions refuses those definitions anyway."""

    enter = None  # type: ignore[assignment]  # no call at every node

    def _check(self, node: Node, *_: Any) -> None:
        if len(getattr(node, "directives", None) or ()) > 1:
            super().enter(node)

    enter_operation_definition = enter_variable_definition = enter_fragment_definition = _check
    enter_field = enter_fragment_spread = enter_inline_fragment = _check


class FewArgumentsUniqueNames(UniqueArgumentNamesRule):
    """graphql-core's rule, grouping the arguments only where there are two or more to compare."""

    def check_arg_uniqueness(self, argument_nodes: Any) -> None:
        if argument_nodes and len(argument_nodes) > 1:
            super().check_arg_uniqueness(argument_nodes)


# graphql-core's rules and ours in their place.
_SWAPPED_RULES: Final[dict[type[ASTValidationRule], type[ASTValidationRule]]] = {
    OverlappingFieldsCanBeMergedRule: BoundedOverlappingFields,
    UniqueDirectivesPerLocationRule: ExecutableUniqueDirectives,
    UniqueArgumentNamesRule: FewArgumentsUniqueNames,
}


def bounded_rules(rules: Iterable[type[ASTValidationRule]]) -> tuple[type[ASTValidationRule], ...]:
    swapped = (_SWAPPED_RULES.get(rule, rule) for rule in rules)
    return (*with_one_pass_variables(swapped), *STRAWBERRY_RULES)


class ValidationResults:
    """The errors of the last ``size`` distinct documents, by their text and rules (a document's
    text hashes once; hashing its syntax tree walks all of it, on every request)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._results: OrderedDict[tuple[str, tuple[type[ASTValidationRule], ...]], list[GraphQLError]]
        self._results = OrderedDict()

    def get(self, key: tuple[str, tuple[type[ASTValidationRule], ...]]) -> list[GraphQLError] | None:
        found = self._results.get(key)
        if found is not None:
            self._results.move_to_end(key)
        return found

    def put(self, key: tuple[str, tuple[type[ASTValidationRule], ...]], errors: list[GraphQLError]) -> None:
        self._results[key] = errors
        if len(self._results) > self._size:
            self._results.popitem(last=False)


def validate_bounded(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    limits: Limits,
    hide_suggestions: bool,
) -> list[GraphQLError]:
    """Our limits first (a literal's too: it is the document's, checked once with it): over one,
    graphql-core's rules do not run."""
    return (
        limit_errors(document, limits)
        or literal_errors(document, limits.string_length)
        or validate(
            schema,
            document,
            bounded_rules(rules),
            max_errors=MAX_VALIDATION_ERRORS,
            hide_suggestions=hide_suggestions,
        )
    )


class BoundedValidation(SchemaExtension):
    """Validates each distinct document once (strawberry's ValidationCache, keyed by text), with
    our limits before the rules of the specification."""

    def __init__(self, limits: Limits, results: ValidationResults, hide_suggestions: bool) -> None:
        self.limits = limits
        self.results = results
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if context.pre_execution_errors is None and document is not None and context.query is not None:
            key = (context.query, context.validation_rules)
            errors = self.results.get(key)
            if errors is None:
                schema = context.schema._schema
                errors = validate_bounded(
                    schema, document, context.validation_rules, self.limits, self.hide_suggestions
                )
                self.results.put(key, errors)
            context.pre_execution_errors = errors
        yield
