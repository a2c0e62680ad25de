"""Query cost (subgraph/cost.py): the most objects an operation may return, lists counted at their
page size (``first``/``last``, a variable's value, the default) or their declared size; over
MAX_QUERY_COST the operation is refused before anything runs, with ``extensions.cost``; in
development an accepted operation's cost is in the response's ``extensions``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.settings import Settings
from server.runtime import Runtime
from tests.conftest import PRODUCTION_SETTINGS, gql_of_own_app
from tests.support.graphql import GraphQLClient, GraphQLResult, count_statements
from tests.support.identity import Identity

STOREFRONT = 'tenantSlug: "acme"'


def cost_of(result: GraphQLResult) -> dict[str, int]:
    cost: dict[str, int] = result.body["extensions"]["cost"]
    return cost


async def test_each_object_counts_and_lists_count_a_page(
    gql: GraphQLClient, identity: Identity, settings: Settings
) -> None:
    await identity.tenant("acme")
    maximum = settings.max_query_cost
    expected = {
        # products 1, 20 (the default page) x product 1.
        f"{{ products({STOREFRONT}) {{ nodes {{ id name }} }} }}": 21,
        # products 1, 3 x (product 1 + price 1 + category 1); scalars cost nothing.
        f"{{ products({STOREFRONT}, first: 3) "
        "{ nodes { sku price { amount } category { name } } } }": 10,
        # `last` counts like `first`.
        f"{{ products({STOREFRONT}, last: 4) {{ edges {{ cursor node {{ id }} }} }} }}": 9,
        # totalCount is a query of its own; pageInfo an object.
        f"{{ products({STOREFRONT}, first: 5) {{ totalCount pageInfo {{ hasNextPage }} }} }}": 3,
        # Nested connections multiply: 1 + 3 x (1 + reviews 1 + 4 x review 1).
        f"{{ products({STOREFRONT}, first: 3) "
        "{ nodes { reviews(first: 4) { nodes { rating } } } } }": 19,
        # A list with paging arguments and a default: productSuggestions(first: Int! = 10).
        f'{{ productSuggestions(prefix: "a", {STOREFRONT}) {{ id category {{ id }} }} }}': 20,
        # Introspection and __typename cost nothing.
        "{ __typename __schema { types { name fields { name } } } }": 0,
        # The cheapest object: a nullable one that is not found.
        '{ tenantBySlug(slug: "nobody") { name } }': 1,
    }
    for document, cost in expected.items():
        result = await gql(document)
        assert not result.errors, (document, result.body)
        assert cost_of(result) == {"requested": cost, "maximum": maximum}, document


async def test_fragments_count_where_they_are_spread(
    gql: GraphQLClient, identity: Identity, settings: Settings
) -> None:
    await identity.tenant("acme")
    document = (
        f"{{ ...Catalog }} fragment Catalog on Query {{ products({STOREFRONT}, first: 2) {{ ...Page }} }} "
        "fragment Page on ProductConnection { totalCount pageInfo { hasNextPage } edges { node { ...P } } } "
        "fragment P on Product { category { name } brand { name } }"
    )
    # products 1 + totalCount 1 + pageInfo 1 + 2 x (edge 1 + node 1 + category 1 + brand 1)
    assert cost_of(await gql(document)) == {"requested": 11, "maximum": settings.max_query_cost}
    # The same fragment spread at two page sizes counts at each.
    twice = (
        f"{{ a: products({STOREFRONT}, first: 2) {{ nodes {{ ...P }} }} "
        f"b: products({STOREFRONT}, first: 5) {{ nodes {{ ...P }} }} }} "
        "fragment P on Product { category { name } }"
    )
    assert cost_of(await gql(twice))["requested"] == (1 + 2 * 2) + (1 + 5 * 2)


async def test_page_sizes_from_variables(gql: GraphQLClient, identity: Identity) -> None:
    await identity.tenant("acme")
    document = (
        f"query($n: Int, $m: Int = 4) {{ products({STOREFRONT}, first: $n) "
        "{ nodes { reviews(first: $m) { nodes { rating } } } } }"
    )
    costs = {}
    for variables in ({"n": 3}, {"n": 3, "m": 1}, {"n": None}, {}):
        result = await gql(document, variables)
        assert not result.errors, result.body
        costs[repr(variables)] = cost_of(result)["requested"]
    # 1 + n x (1 + reviews 1 + m x 1); n defaults to a page of 20, m to its variable's default 4.
    assert costs == {
        "{'n': 3}": 1 + 3 * 6,
        "{'n': 3, 'm': 1}": 1 + 3 * 3,
        "{'n': None}": 1 + 20 * 6,
        "{}": 1 + 20 * 6,
    }


async def test_declared_list_sizes(gql: GraphQLClient, identity: Identity) -> None:
    account = await identity.account("acme")
    ids = [account.gid] * 3
    expected: dict[str, tuple[dict[str, Any], int]] = {
        # Order.items holds at most 100: 1 + 2 x (order 1 + 100 x (item 1 + product 1)).
        "{ orders(first: 2) { nodes { items { name product { name } } } } }": ({}, 1 + 2 * (1 + 100 * 2)),
        # nodes(ids:) returns as many as it is given.
        "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on User { tenant { slug } } } }": ({"ids": ids}, 6),
        # The cart holds at most 100 lines.
        "{ cart { items { product { id } } } }": ({}, 1 + 100 * 2),
    }
    for document, (variables, cost) in expected.items():
        result = await gql(document, variables, token=account.token)
        assert not result.errors, (document, result.body)
        assert cost_of(result)["requested"] == cost, document


async def test_entities_count_their_representations(gql: GraphQLClient) -> None:
    document = (
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id category { id } } } }"
    )
    representations = [{"__typename": "Product", "id": "UHJvZHVjdDo4"}] * 7
    result = await gql(document, {"r": representations})
    assert cost_of(result)["requested"] == 7 * 2


async def test_over_the_budget_nothing_runs(
    gql: GraphQLClient, identity: Identity, runtime: Runtime, settings: Settings
) -> None:
    await identity.tenant("acme")
    document = (
        f"query($n: Int) {{ products({STOREFRONT}, first: $n) "
        "{ nodes { reviews(first: 100) { nodes { product { name } } } } } }"
    )
    # 1 + n x (product 1 + reviews 1 + 100 x (review 1 + product 1)) = 1 + 202 n
    with count_statements(runtime.db.engine) as statements:
        refused = await gql(document, {"n": 50})
    assert refused.status == 200 and refused.data is None
    assert refused.errors[0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "cost": {"requested": 1 + 202 * 50, "maximum": settings.max_query_cost},
    }
    assert "extensions" not in refused.body  # the figures are the error's
    assert statements.count == 0  # not even the storefront's tenant was looked up
    # The same document with fewer items: the budget is per request's variables, not per text.
    accepted = await gql(document, {"n": 49})
    assert accepted.ok() == {"products": {"nodes": []}}
    assert cost_of(accepted)["requested"] == 1 + 202 * 49


async def test_the_default_budget_fits_the_benchmark_and_readme_queries(
    gql: GraphQLClient, settings: Settings
) -> None:
    assert settings.max_query_cost == Settings().max_query_cost  # the default
    documents = {
        # bench Q3 (the most expensive of them): 1 + 20 x (order 1 + user 1 + 100 x (item 1 + product 1)).
        "{ orders(first: 20, orderBy: {field: CREATED_AT, direction: ASC}) "
        "{ nodes { id number user { email } items { position product { name } } } } }": 4041,
        # bench R: 1 + 10 x (tenant 1 + users 1 + 10 x (user 1 + orders 1 + 5 x (order 1 + total 1))).
        "{ tenants(first: 10, orderBy: {field: CREATED_AT, direction: ASC}) { nodes { id slug "
        "users(first: 10) { nodes { id email "
        "orders(first: 5) { nodes { id number total { amount currency } } } } } } } }": 1221,
        # README: products 21, orders 1 + 20 x (1 + 1 + 100), invoices 1 + 20 x 2.
        '{ products(first: 5, filter: {search: "router"}, orderBy: {field: RELEVANCE}) '
        "{ edges { node { sku name price { amount currency } category { name } averageRating } } } "
        "orders { nodes { number status total { amount currency } items { name quantity } } } "
        "invoices { nodes { number status total { amount currency } } } }": 21 + 2041 + 41,
    }
    for document, cost in documents.items():
        result = await gql(document)  # anonymous: refused field by field, but measured first
        assert cost_of(result) == {"requested": cost, "maximum": settings.max_query_cost}, result.body


@pytest.fixture
async def production(settings: Settings) -> AsyncIterator[GraphQLClient]:
    async with gql_of_own_app(settings.database_url, **PRODUCTION_SETTINGS, max_query_cost=30) as client:
        yield client


async def test_production_shows_the_cost_of_refusals_only(
    production: GraphQLClient, identity: Identity
) -> None:
    await identity.tenant("acme")
    accepted = await production(f"{{ products({STOREFRONT}) {{ nodes {{ id }} }} }}")  # 21
    assert accepted.ok() == {"products": {"nodes": []}}
    assert "extensions" not in accepted.body
    refused = await production(f"{{ products({STOREFRONT}, first: 30) {{ nodes {{ id }} }} }}")  # 31
    assert refused.errors[0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "cost": {"requested": 31, "maximum": 30},
    }
