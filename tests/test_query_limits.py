"""Query protection: depth, alias, token, fragment, directive and size limits refuse an operation
before it runs, and keep refusing it when it comes again (validation results are cached)."""

from __future__ import annotations

import time

from graphql import build_schema, parse, specified_rules, validate

from core.settings import Settings
from subgraph.limits import bounded_rules, parse_cached
from tests.support.graphql import GraphQLClient, GraphQLResult


def category_chain(parents: int) -> str:
    """products > nodes > category > parent > ... : a legal operation of any depth."""
    inner = "name"
    for _ in range(parents):
        inner = f"parent {{ {inner} }}"
    return f'{{ products(tenantSlug: "acme") {{ nodes {{ category {{ {inner} }} }} }} }}'


def refused(result: GraphQLResult, reason: str) -> bool:
    return (
        result.status == 200
        and result.data is None
        and result.error_codes == ["BAD_USER_INPUT"]
        and reason in result.errors[0]["message"]
    )


async def test_depth_limit(gql: GraphQLClient, settings: Settings) -> None:
    # Depth counts from 0 at `products`: nodes 1, category 2, each parent one more, name the last.
    at_limit = category_chain(settings.max_query_depth - 3)
    over = category_chain(settings.max_query_depth - 2)
    for _ in range(2):
        assert not refused(await gql(at_limit), "exceeds maximum operation depth")
        assert refused(await gql(over), "exceeds maximum operation depth")


async def test_alias_limit(gql: GraphQLClient, settings: Settings) -> None:
    def aliases(count: int) -> str:
        return "{ " + " ".join(f'a{i}: tenantBySlug(slug: "x") {{ name }}' for i in range(count)) + " }"

    allowed = await gql(aliases(settings.max_aliases))
    assert allowed.ok() == {f"a{i}": None for i in range(settings.max_aliases)}
    for _ in range(2):
        assert refused(await gql(aliases(settings.max_aliases + 1)), "aliases")


async def test_token_limit(gql: GraphQLClient, settings: Settings) -> None:
    padded = "{ " + "__typename " * settings.max_tokens + "}"
    commented = "#\n" * (settings.max_tokens + 1) + "{ __typename }"  # each comment is kept
    for _ in range(2):
        assert refused(await gql(padded), "tokens")
        assert refused(await gql(commented), f"more than {settings.max_tokens} comments")


async def test_a_repeated_document_is_parsed_once(gql: GraphQLClient) -> None:
    document = '{ tenantBySlug(slug: "parse-cache-probe") { name } }'
    before = parse_cached.cache_info()
    for _ in range(3):
        assert (await gql(document)).ok() == {"tenantBySlug": None}
    after = parse_cached.cache_info()
    # Parsed on the first request; every later look-up (two per request: one to refuse what does
    # not parse, one to hand strawberry the document) finds it.
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 5)


async def test_a_syntax_error_is_not_cached_and_keeps_its_code(gql: GraphQLClient) -> None:
    before = parse_cached.cache_info()
    for _ in range(2):
        result = await gql("{ me { id }")
        assert result.error_codes == ["BAD_USER_INPUT"], result.body
    assert parse_cached.cache_info().currsize == before.currsize


def doubling_fragments(levels: int, leaf: str = "__typename") -> str:
    """`fragment F0 on Query { ...F1 ...F1 }` ... down to a leaf: 2**levels spreads if expanded."""
    fragments = [f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(levels)]
    fragments.append(f"fragment F{levels} on Query {{ {leaf} }}")
    return "{ ...F0 } " + " ".join(fragments)


async def test_fragments_spread_many_times_are_measured_once(gql: GraphQLClient) -> None:
    started = time.perf_counter()
    result = await gql(doubling_fragments(21))
    assert result.ok() == {"__typename": "Query"}
    # strawberry's own limiters walked each spread again: 21.7 s here.
    assert time.perf_counter() - started < 1.0


async def test_aliases_multiplied_by_spreads_are_counted(gql: GraphQLClient, settings: Settings) -> None:
    # 2**5 = 32 expansions of one aliased field: over the limit of 30, though written once.
    result = await gql(doubling_fragments(5, leaf='t: tenantBySlug(slug: "x") { name }'))
    assert refused(result, "aliases found"), result.body
    allowed = await gql(doubling_fragments(4, leaf='t: tenantBySlug(slug: "x") { name }'))
    assert allowed.ok() == {"t": None}


async def test_depth_through_fragments_counts(gql: GraphQLClient, settings: Settings) -> None:
    parents = settings.max_query_depth - 2  # one too deep, as in test_depth_limit
    inner = "name"
    for _ in range(parents):
        inner = f"parent {{ {inner} }}"
    document = (
        '{ products(tenantSlug: "acme") { ...Nodes } } '
        "fragment Nodes on ProductConnection { nodes { ... on Product { category { ...Chain } } } } "
        f"fragment Chain on Category {{ {inner} }}"
    )
    assert refused(await gql(document), "exceeds maximum operation depth")


def fragments(count: int) -> str:
    """``{ ...F0 } fragment F0 on Query { ...F1 }`` ... : ``count`` fragments, one after the other."""
    chain = [f"fragment F{n} on Query {{ ...F{n + 1} }}" for n in range(count - 1)]
    return " ".join(["{ ...F0 }", *chain, f"fragment F{count - 1} on Query {{ __typename }}"])


async def test_fragment_limit(gql: GraphQLClient, settings: Settings) -> None:
    assert (await gql(fragments(settings.max_fragments))).ok() == {"__typename": "Query"}
    for _ in range(2):
        over = await gql(fragments(settings.max_fragments + 1))
        assert refused(over, f"{settings.max_fragments + 1} fragments found"), over.body


async def test_directives_per_field_limit(gql: GraphQLClient, settings: Settings) -> None:
    def with_directives(count: int, where: str) -> str:
        directives = " ".join(f"@include(if: $v{n})" for n in range(count))
        variables = ", ".join(f"$v{n}: Boolean = true" for n in range(count))
        selections = {
            "field": f"__typename {directives}",
            "inline fragment": f"... {directives} {{ __typename }}",
            "fragment spread": f"...F {directives}",
        }[where]
        fragment = " fragment F on Query { __typename }" if where == "fragment spread" else ""
        return f"query({variables}) {{ {selections} }}{fragment}"

    for where in ("field", "inline fragment", "fragment spread"):
        # graphql-core refuses a repeated @include anyway; the limit comes first, and counts
        # directives whatever their names.
        at_limit = await gql(
            with_directives(settings.max_directives_per_field, where).replace("@include", "@skip")
        )
        messages = {e["message"] for e in at_limit.errors}
        assert messages == {"The directive '@skip' can only be used once at this location."}, at_limit.body
        over = await gql(with_directives(settings.max_directives_per_field + 1, where))
        assert refused(over, "directives on one selection"), (where, over.body)
        assert len(over.errors) == 1  # the other rules did not run
    allowed = await gql("{ __typename @include(if: true) @skip(if: false) }")
    assert allowed.ok() == {"__typename": "Query"}


async def test_directives_on_definitions_count(gql: GraphQLClient, settings: Settings) -> None:
    many = " ".join(["@x"] * (settings.max_directives_per_field + 1))
    for document in (f"query Q {many} {{ __typename }}", f"query Q($a: Int {many}) {{ __typename }}"):
        assert refused(await gql(document), "directives on one selection or definition"), document


async def test_document_size_limit(gql: GraphQLClient, settings: Settings) -> None:
    operation = "\n{ __typename }"
    at_limit = "#" + "x" * (settings.max_document_chars - 1 - len(operation)) + operation
    assert len(at_limit) == settings.max_document_chars
    assert (await gql(at_limit)).ok() == {"__typename": "Query"}
    over = await gql(at_limit + " ")
    assert refused(over, f"at most {settings.max_document_chars} are allowed"), over.body


async def test_a_syntax_error_keeps_its_location(gql: GraphQLClient) -> None:
    result = await gql("{\n  me { id }\n  ^\n}")
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["locations"] == [{"line": 3, "column": 3}]
    assert result.errors[0]["message"] == "Syntax Error: Unexpected character: '^'."


async def test_our_swapped_rules_find_what_graphql_cores_find() -> None:
    """The cheaper UniqueDirectivesPerLocation and UniqueArgumentNames report the same errors."""
    schema = build_schema(
        "directive @tag repeatable on FIELD\ntype Query { f(a: Int, b: Int): Int, q: Query }"
    )
    documents = [
        "{ f @include(if: true) @include(if: false) }",
        "{ ... @skip(if: true) @skip(if: false) { f } }",
        "{ ...F } fragment F on Query @skip(if: true) @skip(if: false) { f }",
        "query Q($v: Int @deprecated @deprecated) { f(a: $v) }",
        "{ f(a: 1, a: 2) }",
        "{ f @include(if: true, if: false) }",
        "{ q @skip(if: false) { f(a: 1, b: 2) @tag @tag } }",
    ]
    for document in documents:
        ours = [error.message for error in validate(schema, parse(document), bounded_rules(specified_rules))]
        theirs = [error.message for error in validate(schema, parse(document), specified_rules)]
        assert ours == theirs, document
    # The documents with a duplicate are refused for it.
    found = [validate(schema, parse(d), bounded_rules(specified_rules)) for d in documents]
    assert [bool(errors) for errors in found] == [True] * 6 + [False]
