"""Control characters in any string input are refused before anything runs (a NUL reached
PostgreSQL and came back as INTERNAL_SERVER_ERROR); tab and newlines are text."""

from __future__ import annotations

import json

import pytest

from tests.support.graphql import GraphQLClient
from tests.support.identity import Identity

UPDATE_ME = (
    "mutation($input: UpdateMeInput!) { updateMe(input: $input) { user { fullName } userErrors { code } } }"
)


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x1b[31m", "\x7f"])
async def test_a_control_character_in_a_variable_is_bad_input(
    gql: GraphQLClient, identity: Identity, bad: str
) -> None:
    account = await identity.account("acme")
    result = await gql(UPDATE_ME, {"input": {"fullName": f"Eve{bad}"}}, token=account.token)
    assert result.data is None
    assert result.error_codes == ["BAD_USER_INPUT"], result.body
    assert result.errors[0]["message"].startswith("$.input.fullName holds a control character")
    me = (await gql("{ me { fullName } }", token=account.token)).ok()
    assert "Eve" not in me["me"]["fullName"]  # nothing was written


async def test_a_control_character_in_a_literal_is_bad_input(gql: GraphQLClient) -> None:
    result = await gql('{ tenantBySlug(slug: "ac\\u0000me") { name } }')
    assert result.error_codes == ["BAD_USER_INPUT"], result.body
    assert result.errors[0]["message"].startswith("slug holds a control character")

    login = await gql(
        'mutation { login(input: {tenantSlug: "acme", email: "a\\u0000@acme.example", password: "x"}) '
        "{ accessToken } }"
    )
    assert login.error_codes == ["BAD_USER_INPUT"], login.body


async def test_tabs_and_newlines_are_text(gql: GraphQLClient, identity: Identity) -> None:
    account = await identity.account("acme")
    result = await gql(UPDATE_ME, {"input": {"fullName": "Eve\tAnn\r\nSmith"}}, token=account.token)
    assert result.errors == [], result.body
    assert result.data["updateMe"] == {"user": {"fullName": "Eve\tAnn\r\nSmith"}, "userErrors": []}


async def test_a_lone_surrogate_is_bad_input(gql: GraphQLClient, identity: Identity) -> None:
    account = await identity.account("acme")
    # JSON may escape half of a UTF-16 pair; no UTF-8 encodes it (asyncpg would fail on it).
    body = json.dumps({"query": UPDATE_ME, "variables": {"input": {"fullName": "Eve\ud800"}}})
    assert "\\ud800" in body  # json.dumps escapes it (ensure_ascii)
    response = await gql.http.post(
        "/graphql",
        content=body.encode(),
        headers={"Authorization": f"Bearer {account.token}", "Content-Type": "application/json"},
    )
    answer = response.json()
    assert answer["data"] is None
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["BAD_USER_INPUT"], answer
    assert answer["errors"][0]["message"].startswith("$.input.fullName holds a lone UTF-16 surrogate")
    # A whole pair is one character, and fine.
    paired = await gql(UPDATE_ME, {"input": {"fullName": "Eve \U0001f600"}}, token=account.token)
    assert paired.ok()["updateMe"]["user"] == {"fullName": "Eve \U0001f600"}
