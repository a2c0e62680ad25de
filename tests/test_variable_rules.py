"""subgraph/variables.py checks variables in the validation's one traversal: it finds what
graphql-core's NoUndefinedVariables, NoUnusedVariables and VariablesInAllowedPosition find, with
the same messages and locations, on documents of every shape those rules look at."""

from __future__ import annotations

import pytest
from graphql import GraphQLError, parse, specified_rules, validate
from strawberry.federation import Schema

from core.settings import Settings
from subgraph.build import build_schema
from subgraph.variables import REPLACED, OperationVariables, with_one_pass_variables

DOCUMENTS = {
    "used and defined": "query($s: String!) { tenantBySlug(slug: $s) { name } }",
    "undefined, anonymous": "{ tenantBySlug(slug: $s) { name } }",
    "undefined, named": "query Q { tenantBySlug(slug: $s) { name } }",
    "undefined twice": "query Q { a: tenantBySlug(slug: $s) { name } b: tenantBySlug(slug: $s) { name } }",
    "unused, anonymous": "query($a: Int, $b: Int) { __typename }",
    "unused, named": "query Q($a: Int) { __typename }",
    "used only in a fragment": (
        "query($s: String!) { ...F } fragment F on Query { tenantBySlug(slug: $s) { name } }"
    ),
    "undefined in a fragment": "query Q { ...F } fragment F on Query { tenantBySlug(slug: $s) { name } }",
    "through nested fragments": (
        "query Q($s: String!, $n: Int) { ...A } "
        "fragment A on Query { ...B products(first: $n) { totalCount } } "
        "fragment B on Query { tenantBySlug(slug: $s) { name } ...A }"
    ),
    "two operations, one fragment": (
        "query A($s: String!) { ...F } query B { ...F } query C($s: Int) { ...F } "
        "fragment F on Query { tenantBySlug(slug: $s) { name } }"
    ),
    "unused fragment's variable": (
        "query Q { __typename } fragment F on Query { tenantBySlug(slug: $s) { name } }"
    ),
    "in a directive": (
        "query Q($b: Boolean!, $c: Boolean) { __typename @include(if: $b) me @skip(if: $c) { id } }"
    ),
    "on the operation": "query Q($b: Boolean!) @skip(if: $b) { __typename }",
    "nullable into non-null": "query Q($s: String) { tenantBySlug(slug: $s) { name } }",
    "nullable with a default into non-null": (
        'query Q($s: String = "acme") { tenantBySlug(slug: $s) { name } }'
    ),
    "null default into non-null": "query Q($s: String = null) { tenantBySlug(slug: $s) { name } }",
    "into a nullable argument with a default": (
        'query Q($n: Int) { productSuggestions(prefix: "a", first: $n) { id } }'
    ),
    "wrong type": "query Q($s: Int!) { tenantBySlug(slug: $s) { name } }",
    "in a list": "query Q($i: ID, $j: ID!) { nodes(ids: [$i, $j]) { id } }",
    "a list for a list": "query Q($ids: [ID]) { nodes(ids: $ids) { id } }",
    "in an input object": (
        "query Q($q: String, $c: ID!, $m: Int) "
        "{ products(filter: {search: $q, categoryId: $c, minPrice: $m}) { totalCount } }"
    ),
    "an input object variable": "query Q($f: ProductFilterInput) { products(filter: $f) { totalCount } }",
    "unknown variable type": "query Q($s: Nope) { tenantBySlug(slug: $s) { name } }",
    "variable of an output type": "query Q($s: Tenant) { tenantBySlug(slug: $s) { name } }",
    "on an unknown field": "query Q($s: String!) { nope(slug: $s) }",
    "in a mutation": (
        "mutation M($id: ID!, $r: String) { cancelOrder(input: {id: $id, reason: $r}) { order { id } } }"
    ),
    "fragment on an unknown type": "query Q($s: String!) { ...F } fragment F on Nope { x(a: $s) }",
    "undefined fragment spread": "query Q($s: String!) { ...Missing tenantBySlug(slug: $s) { name } }",
    "fragment defined twice": (
        "query Q($s: String!) { ...F } fragment F on Query { __typename } "
        "fragment F on Query { tenantBySlug(slug: $s) { name } }"
    ),
    "a cycle": (
        "query Q($s: String!) { ...A } fragment A on Query { ...B } "
        "fragment B on Query { ...A tenantBySlug(slug: $s) { name } }"
    ),
}


def found(errors: list[GraphQLError]) -> list[tuple[str, tuple[tuple[int, int], ...]]]:
    return sorted((e.message, tuple((loc.line, loc.column) for loc in e.locations or ())) for e in errors)


@pytest.fixture(scope="module")
def schema() -> Schema:
    return build_schema(Settings())


@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_same_errors_as_graphql_core(schema: Schema, name: str) -> None:
    document = parse(DOCUMENTS[name])
    theirs = validate(schema._schema, document, REPLACED)
    ours = validate(schema._schema, document, [OperationVariables])
    assert found(ours) == found(theirs)


def test_the_whole_validation_agrees(schema: Schema) -> None:
    """With every other rule alongside, as the subgraph validates."""
    ours = with_one_pass_variables(specified_rules)
    assert OperationVariables in ours and not set(REPLACED) & set(ours)
    for name, text in DOCUMENTS.items():
        document = parse(text)
        assert found(validate(schema._schema, document, ours)) == found(
            validate(schema._schema, document, specified_rules)
        ), name


def test_errors_are_found_at_all(schema: Schema) -> None:
    """The corpus does exercise every kind of error (a rule finding nothing would agree too)."""
    messages = " ".join(
        e.message
        for text in DOCUMENTS.values()
        for e in validate(schema._schema, parse(text), [OperationVariables])
    )
    for kind in (
        "is not defined by operation",
        "is not defined.",
        "is never used in operation",
        "is never used.",
        "used in position expecting type",
    ):
        assert kind in messages, kind
