"""Streams: the key made on first ask and seen by its owner only, regeneration, owner-only
updates, the list's filters and its statement count."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.scope import TenantScope
from models.streams import Stream as StreamRow
from server.runtime import Runtime
from tests.streams.conftest import MY_KEY, REGENERATE, STREAM, Studio, new_studio
from tests.support.graphql import GraphQLClient, count_statements

UPDATE = """
mutation($input: UpdateStreamInput!) {
  updateStream(input: $input) { stream { title category tags } userErrors { field code } }
}
"""
CREATE = """
mutation($input: CreateStreamInput!) {
  createStream(input: $input) { stream { id status title tags } userErrors { field code } }
}
"""
LIST = """
query($filter: StreamFilterInput, $first: Int, $after: String) {
  streams(filter: $filter, first: $first, after: $after) {
    edges { node { id title isLive streamKey owner { email } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def test_my_stream_key_makes_one_draft_and_answers_the_same_key(studio: Studio) -> None:
    first = (await studio.ok(MY_KEY, studio.streamer))["myStreamKey"]
    again = (await studio.ok(MY_KEY, studio.streamer))["myStreamKey"]
    assert first["stream"]["status"] == "DRAFT" and first["stream"]["title"] == "Untitled stream"
    assert first["streamKey"].startswith("live_") and len(first["streamKey"]) > 30
    assert first["rtmpIngestUrl"] == "rtmp://localhost:1935/live"
    assert (again["streamKey"], again["stream"]["id"]) == (first["streamKey"], first["stream"]["id"])


async def test_the_key_is_the_owners_alone_and_stored_encrypted(studio: Studio) -> None:
    key, stream_id = await studio.key(studio.streamer)
    mine = (await studio.ok(STREAM, studio.streamer, id=stream_id))["stream"]
    theirs = (await studio.ok(STREAM, studio.viewer, id=stream_id))["stream"]
    moderated = (await studio.ok(STREAM, studio.moderator, id=stream_id))["stream"]
    assert mine["streamKey"] == key
    assert theirs["streamKey"] is None and moderated["streamKey"] is None
    assert theirs["owner"]["email"] == studio.streamer.email
    async with studio.runtime.db.session(TenantScope.all_tenants()) as session:
        row = (await session.scalars(select(StreamRow))).one()
    assert key not in row.key_hash and key not in row.key_ciphertext


async def test_regenerating_replaces_the_key(studio: Studio) -> None:
    old, stream_id = await studio.key(studio.streamer)
    payload = (await studio.ok(REGENERATE, studio.streamer))["regenerateStreamKey"]
    new = payload["streamKey"]["streamKey"]
    assert payload["userErrors"] == [] and payload["streamKey"]["stream"]["id"] == stream_id
    assert new != old and (await studio.key(studio.streamer))[0] == new
    refused = await studio.gql(REGENERATE, {"input": {"id": stream_id}}, token=studio.viewer.token)
    assert refused.error_codes == ["FORBIDDEN"]


async def test_only_the_owner_updates_and_inputs_are_checked(studio: Studio) -> None:
    _, stream_id = await studio.key(studio.streamer)
    changed = (
        await studio.ok(
            UPDATE,
            studio.streamer,
            input={"id": stream_id, "title": " Speedrun ", "category": "games", "tags": ["a", "b", "a"]},
        )
    )["updateStream"]
    assert changed == {
        "stream": {"title": "Speedrun", "category": "games", "tags": ["a", "b"]},
        "userErrors": [],
    }
    other = await studio.gql(UPDATE, {"input": {"id": stream_id, "title": "Mine"}}, token=studio.viewer.token)
    assert other.error_codes == ["FORBIDDEN"]
    bad = (await studio.ok(UPDATE, studio.streamer, input={"id": stream_id, "title": " "}))["updateStream"]
    assert bad["userErrors"] == [{"field": ["input", "title"], "code": "TITLE_REQUIRED"}]
    many = await studio.ok(UPDATE, studio.streamer, input={"id": stream_id, "tags": ["t"] * 21})
    assert many["updateStream"]["userErrors"][0]["code"] == "TOO_MANY_TAGS"


async def test_another_tenants_stream_is_not_found(
    studio: Studio, runtime: Runtime, gql: GraphQLClient, http: Any
) -> None:
    _, stream_id = await studio.key(studio.streamer)
    elsewhere = await new_studio(runtime, gql, http)
    found = await gql(STREAM, {"id": stream_id}, token=elsewhere.viewer.token)
    assert found.error_codes == ["NOT_FOUND"]
    listed = (await elsewhere.ok(LIST, elsewhere.viewer))["streams"]["edges"]
    assert listed == []
    anonymous = await gql(LIST, {})
    assert anonymous.error_codes == ["UNAUTHENTICATED"]


async def test_the_list_filters_pages_and_costs_three_statements(studio: Studio) -> None:
    key, live_id = await studio.key(studio.streamer)
    assert await studio.publish(key) == 204
    for n in range(3):
        made = (await studio.ok(CREATE, studio.viewer, input={"title": f"Draft {n}", "tags": ["x"]}))[
            "createStream"
        ]
        assert made["stream"]["status"] == "DRAFT"
    live = (await studio.ok(LIST, studio.viewer, filter={"isLive": True}))["streams"]["edges"]
    assert [(e["node"]["id"], e["node"]["isLive"], e["node"]["streamKey"]) for e in live] == [
        (live_id, True, None)
    ]
    first = (await studio.ok(LIST, studio.viewer, first=2))["streams"]
    rest = (await studio.ok(LIST, studio.viewer, first=2, after=first["pageInfo"]["endCursor"]))["streams"]
    titles = [e["node"]["title"] for e in first["edges"] + rest["edges"]]
    assert titles == ["Draft 2", "Draft 1", "Draft 0", "Untitled stream"]
    assert first["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    mine = (await studio.ok(LIST, studio.viewer, filter={"ownerId": studio.viewer.gid}))["streams"]["edges"]
    assert len(mine) == 3 and all(e["node"]["streamKey"] for e in mine)
    await studio.gql.warm(studio.viewer.token)
    with count_statements(studio.runtime.db.engine) as counter:
        (await studio.ok(LIST, studio.viewer, first=20))
    # The page, and one batch of owners (the tenant's scope is set on the one connection).
    selects = [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, counter.statements
