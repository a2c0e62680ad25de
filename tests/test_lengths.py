"""Every string input has a maximum length, stated in its description (schema/lengths.py); an
over-long one is a userError naming the field (mutations) or BAD_USER_INPUT (queries) and never
reaches the database; no string of a request exceeds MAX_STRING_LENGTH."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher
from graphql import (
    ExecutionResult,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    get_named_type,
    parse,
    subscribe,
)

from core.permissions import Role
from core.settings import Settings
from schema.lengths import BEFORE_RESOLVING, BY_SERVICES, CURSOR_ARGUMENTS, CURSOR_LENGTH
from server.runtime import Runtime
from services.identity.passwords import verify_password
from subgraph.build import build_schema
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import PASSWORD, Identity

LOGIN = """
mutation($input: LoginInput!) { login(input: $input) { accessToken userErrors { field code message } } }
"""
REGISTER = """
mutation($input: RegisterInput!) { register(input: $input) { accessToken userErrors { field code } } }
"""
UPDATE_ME = """
mutation($input: UpdateMeInput!) { updateMe(input: $input) { user { fullName } userErrors { field code } } }
"""
CREATE_ORDER = """
mutation($input: CreateOrderInput!) {
  createOrder(input: $input) { order { id } userErrors { field code message } }
}
"""
SUSPEND = "mutation($id: ID!) { suspendUser(input: {id: $id}) { user { id } userErrors { field code } } }"


@pytest.fixture(scope="module")
def graphql_schema() -> GraphQLSchema:
    return build_schema(Settings())._schema


def string_inputs(schema: GraphQLSchema) -> dict[str, str | None]:
    """Schema coordinate -> description of every String input field and argument (cursors apart)."""
    found: dict[str, str | None] = {}
    for name, type_ in schema.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(type_, GraphQLInputObjectType):
            for field_name, field in type_.fields.items():
                if get_named_type(field.type) is GraphQLString:
                    found[f"{name}.{field_name}"] = field.description
        elif isinstance(type_, GraphQLObjectType):
            for field_name, field in type_.fields.items():
                for argument_name, argument in field.args.items():
                    if get_named_type(argument.type) is GraphQLString:
                        found[f"{name}.{field_name}({argument_name}:)"] = argument.description
    return found


def test_every_string_input_has_a_documented_maximum(graphql_schema: GraphQLSchema) -> None:
    inputs = string_inputs(graphql_schema)
    cursors = {c: d for c, d in inputs.items() if c.endswith(tuple(f"({a}:)" for a in CURSOR_ARGUMENTS))}
    table = {**BY_SERVICES, **BEFORE_RESOLVING}
    assert not set(BY_SERVICES) & set(BEFORE_RESOLVING)
    assert sorted(set(inputs) - set(cursors) - set(table)) == [], "string inputs without a maximum"
    assert sorted(set(table) - set(inputs)) == [], "limits of inputs the schema does not have"
    undocumented = {
        coordinate: inputs[coordinate]
        for coordinate, limit in table.items()
        if not (inputs[coordinate] or "").endswith(f"At most {limit} characters.")
    }
    assert undocumented == {}
    # Cursors are ours, passed back: their limit is stated once, on Edge.cursor.
    assert len(cursors) > 20
    edge = graphql_schema.type_map["UserEdge"]
    assert isinstance(edge, GraphQLObjectType)
    assert f"at most {CURSOR_LENGTH} characters" in (edge.fields["cursor"].description or "")
    # A description of its own keeps its text before the limit.
    assert inputs["UserFilterInput.search"] == "Matches email or name. At most 200 characters."


def test_building_the_schema_again_states_each_limit_once(graphql_schema: GraphQLSchema) -> None:
    again = string_inputs(build_schema(Settings())._schema)
    assert again == string_inputs(graphql_schema)
    assert again["LoginInput.email"] == "The account's email address (any case). At most 254 characters."


def test_an_over_long_subscription_argument_is_bad_input(graphql_schema: GraphQLSchema) -> None:
    # Refused before the subscription starts (before its access check, as for every field).
    result = subscribe(graphql_schema, parse('subscription { userUpdated(id: "%s") { id } }' % ("x" * 201)))
    assert isinstance(result, ExecutionResult) and result.errors is not None
    assert [(e.message, e.path) for e in result.errors] == [
        ("id has at most 200 characters.", ["userUpdated"])
    ]


async def test_an_over_long_query_argument_is_bad_input_before_any_sql(
    gql: GraphQLClient, runtime: Runtime
) -> None:
    by_slug = "query($slug: String!) { tenantBySlug(slug: $slug) { name } }"
    search = '{ products(tenantSlug: "acme", filter: {search: "%s"}) { totalCount } }' % ("x" * 201)
    after = 'query($c: String) { products(tenantSlug: "acme", after: $c) { totalCount } }'
    with count_statements(runtime.db.engine) as counter:
        result = await gql(by_slug, {"slug": "a" * 64})
        products = await gql(search)
        cursor = await gql(after, {"c": "x" * (CURSOR_LENGTH + 1)})
    assert result.error_codes == ["BAD_USER_INPUT"], result.body
    assert result.errors[0]["message"] == "slug has at most 63 characters."
    assert result.errors[0]["path"] == ["tenantBySlug"]
    assert products.error_codes == ["BAD_USER_INPUT"]
    assert products.errors[0]["message"] == "filter.search has at most 200 characters."
    assert cursor.error_codes == ["BAD_USER_INPUT"]
    assert cursor.errors[0]["message"] == f"after has at most {CURSOR_LENGTH} characters."
    assert counter.count == 0
    # At the limit, the query runs.
    (await gql(by_slug, {"slug": "a" * 63})).ok()


async def test_inputs_the_services_no_longer_cut_are_refused_before_any_sql(
    gql: GraphQLClient, identity: Identity, runtime: Runtime
) -> None:
    """Brand and category searches and refund reasons were cut to their limit by the services:
    longer ones never reach them."""
    buyer = await identity.account("acme")
    await gql.warm(buyer.token)
    refund = (
        "mutation($input: RequestRefundInput!) { requestRefund(input: $input) { userErrors { field code } } }"
    )
    search = '(tenantSlug: "acme", filter: {search: $s}) { totalCount }'
    payment = "UGF5bWVudDowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA="
    with count_statements(runtime.db.engine) as counter:
        searches = [
            await gql(f"query($s: String) {{ {field}{search} }}", {"s": "x" * 201})
            for field in ("brands", "categories")
        ]
        reason = await gql(refund, {"input": {"paymentId": payment, "reason": "r" * 501}}, token=buyer.token)
    for searched in searches:
        assert searched.error_codes == ["BAD_USER_INPUT"], searched.body
        assert searched.errors[0]["message"] == "filter.search has at most 200 characters."
    assert reason.ok()["requestRefund"]["userErrors"] == [{"field": ["input", "reason"], "code": "TOO_LONG"}]
    assert counter.count == 0


async def test_staff_searches_are_bounded(gql: GraphQLClient, identity: Identity) -> None:
    admin = await identity.account("acme", Role.TENANT_ADMIN)
    query = "query($s: String) { users(filter: {search: $s}) { totalCount } }"
    assert (await gql(query, {"s": "a" * 200}, token=admin.token)).ok()["users"]["totalCount"] == 0
    refused = await gql(query, {"s": "a" * 201}, token=admin.token)
    assert refused.error_codes == ["BAD_USER_INPUT"], refused.body
    assert refused.errors[0]["message"] == "filter.search has at most 200 characters."


async def test_an_over_long_input_no_service_checks_is_a_user_error(
    gql: GraphQLClient, identity: Identity, runtime: Runtime
) -> None:
    buyer = await identity.account("acme")
    await gql.warm(buyer.token)
    address = {"name": "N" * 201, "line1": "1 Road", "city": "Berlin", "postalCode": "10115", "country": "DE"}
    # The discount code is checked before the resolver runs: that answer comes alone.
    order = {"fromCart": True, "discountCode": "D" * 65, "shippingAddress": address}
    with count_statements(runtime.db.engine) as counter:
        payload = (await gql(CREATE_ORDER, {"input": order}, token=buyer.token)).ok()["createOrder"]
    assert payload["order"] is None
    assert [(e["field"], e["code"], e["message"]) for e in payload["userErrors"]] == [
        (["input", "discountCode"], "TOO_LONG", "At most 64 characters.")
    ]
    assert counter.count == 0

    admin = await identity.account("acme", Role.TENANT_ADMIN)
    suspended = (await gql(SUSPEND, {"id": "x" * 201}, token=admin.token)).ok()["suspendUser"]
    assert suspended == {"user": None, "userErrors": [{"field": ["input", "id"], "code": "TOO_LONG"}]}


async def test_service_checked_inputs_answer_their_own_user_errors(
    gql: GraphQLClient, identity: Identity, runtime: Runtime
) -> None:
    account = await identity.account("acme")

    async def login(**given: str) -> list[tuple[Any, str]]:
        variables = {"input": {"tenantSlug": "acme", "email": account.email, "password": PASSWORD, **given}}
        payload = (await gql(LOGIN, variables)).ok()["login"]
        assert payload["accessToken"] is None
        return [(e["field"], e["code"]) for e in payload["userErrors"]]

    with count_statements(runtime.db.engine) as counter:
        assert await login(email="a" * 243 + "@acme.example") == [(["input", "email"], "TOO_LONG")]
        assert await login(password="p" * 257) == [(["input", "password"], "TOO_LONG")]
        assert await login(tenantSlug="t" * 64) == [(["input", "tenantSlug"], "TOO_LONG")]
    # Nothing but each refusal's audit entry (in a transaction of its own) reached the database.
    audit = [s for s in counter.statements if s.startswith("INSERT INTO audit_entries")]
    scoping = [s for s in counter.statements if s.startswith("SELECT set_config(")]
    assert (len(audit), sorted(set(counter.statements) - set(audit) - set(scoping))) == (3, [])

    register = {
        "tenantSlug": "acme",
        "email": "new@acme.example",
        "fullName": "F" * 201,
        "password": "p" * 257,
    }
    payload = (await gql(REGISTER, {"input": register})).ok()["register"]
    assert sorted((tuple(e["field"]), e["code"]) for e in payload["userErrors"]) == [
        (("input", "fullName"), "TOO_LONG"),
        (("input", "password"), "TOO_LONG"),
    ]
    renamed = (await gql(UPDATE_ME, {"input": {"fullName": "F" * 201}}, token=account.token)).ok()["updateMe"]
    assert renamed["userErrors"] == [{"field": ["input", "fullName"], "code": "TOO_LONG"}]


async def test_no_string_is_longer_than_the_backstop(gql: GraphQLClient, identity: Identity) -> None:
    account = await identity.account("acme")
    limit = Settings().max_string_length
    result = await gql(UPDATE_ME, {"input": {"fullName": "F" * (limit + 1)}}, token=account.token)
    assert result.data is None and result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["message"] == f"$.input.fullName is longer than {limit} characters."
    # Inside JSON values too, and in literals.
    attributes = {"productId": "x", "attributes": {"note": ["n" * (limit + 1)]}}
    nested = await gql(
        "mutation($input: AddToCartInput!) { addToCart(input: $input) { userErrors { code } } }",
        {"input": attributes},
        token=account.token,
    )
    assert nested.errors[0]["message"] == f"$.input.attributes.note[0] is longer than {limit} characters."
    literal = await gql('{ tenantBySlug(slug: "%s") { name } }' % ("s" * (limit + 1)))
    assert literal.errors[0]["message"] == f"slug is longer than {limit} characters."
    # A variable no operation declares reaches nothing: it is not looked at.
    assert (await gql("{ __typename }", {"pad": "x" * (limit + 1)})).ok() == {"__typename": "Query"}


def test_an_over_long_password_is_never_hashed() -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    right_but_long = "p" * 257
    assert not verify_password(hasher.hash(right_but_long), right_but_long)
    longest = "p" * 256
    assert verify_password(hasher.hash(longest), longest)
