"""Stream test helpers: accounts of one tenant, the GraphQL documents the tests share, and
ingest callbacks posted form-encoded to the app, as nginx-rtmp posts them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from core.permissions import Role
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, quick_account

SECRET = "development-only-stream-ingest-secret"
STREAM_FIELDS = "id title status isLive viewerCount streamKey banned startedAt endedAt owner { email }"
MY_KEY = "{ myStreamKey { streamKey rtmpIngestUrl stream { id status title } } }"
REGENERATE = """
mutation($input: RegenerateStreamKeyInput) {
  regenerateStreamKey(input: $input) { streamKey { streamKey stream { id } } userErrors { code } }
}
"""
STREAM = f"query($id: ID!) {{ stream(id: $id) {{ {STREAM_FIELDS} }} }}"
REPORT = """
mutation($input: ReportContentInput!) {
  reportContent(input: $input) { report { id status targetType } userErrors { field code } }
}
"""
RESOLVE = """
mutation($input: ResolveReportInput!) {
  resolveModerationReport(input: $input) { report { id status action } userErrors { code } }
}
"""
_slugs = itertools.count(1)


@dataclass
class Studio:
    """A tenant with a user, a second user, a moderator (MANAGER) and the app's clients."""

    runtime: Runtime
    gql: GraphQLClient
    http: httpx.AsyncClient
    slug: str
    streamer: Account
    viewer: Account
    moderator: Account

    async def account(self, *roles: Role) -> Account:
        return await quick_account(self.runtime, self.slug, *roles)

    async def ok(self, document: str, account: Account | None, **variables: Any) -> Any:
        return (await self.gql(document, variables, token=account.token if account else None)).ok()

    async def key(self, account: Account) -> tuple[str, str]:
        """The account's stream key and its stream's global id."""
        found = (await self.ok(MY_KEY, account))["myStreamKey"]
        return found["streamKey"], found["stream"]["id"]

    async def ingest(self, path: str, key: str | None, secret: str | None = SECRET) -> int:
        form = {"app": "live", "call": "publish", "addr": "198.51.100.4"}
        if key is not None:
            form["name"] = key
        if secret is not None:
            form["secret"] = secret
        response = await self.http.post(f"/streams/ingest/{path}", data=form)
        return response.status_code

    async def publish(self, key: str, secret: str | None = SECRET) -> int:
        return await self.ingest("publish", key, secret)

    async def done(self, key: str, secret: str | None = SECRET) -> int:
        return await self.ingest("publish-done", key, secret)


async def new_studio(runtime: Runtime, gql: GraphQLClient, http: httpx.AsyncClient) -> Studio:
    slug = f"studio-{next(_slugs)}"
    streamer = await quick_account(runtime, slug)
    viewer = await quick_account(runtime, slug)
    moderator = await quick_account(runtime, slug, Role.MANAGER)
    return Studio(runtime, gql, http, slug, streamer, viewer, moderator)


@pytest.fixture
async def studio(runtime: Runtime, gql: GraphQLClient, http: httpx.AsyncClient) -> Studio:
    return await new_studio(runtime, gql, http)
