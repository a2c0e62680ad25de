"""Demo streams: each demo tenant's user streams LIVE (its key publishes), seeded once; the
platform's announcement and flag."""

from __future__ import annotations

from sqlalchemy import func, select

from core.scope import TenantScope
from demo import DEMO_PASSWORD, DEMO_TENANTS, seed_demo
from models.streams import Stream
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient
from tests.support.identity import Identity

READ = """
{ streams(filter: {isLive: true}) { edges { node { title viewerCount owner { email } } } }
  myStreamKey { streamKey } activeAnnouncements { title } featureFlags { name enabled } }
"""


async def test_demo_streams_are_seeded_once(
    runtime: Runtime, gql: GraphQLClient, identity: Identity, http: object
) -> None:
    await seed_demo(runtime.db)
    await seed_demo(runtime.db)
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        assert await session.scalar(select(func.count()).select_from(Stream)) == 2 * len(DEMO_TENANTS)
    slug = DEMO_TENANTS[0][0]
    login = (await identity.login(slug, f"user@{slug}.example", DEMO_PASSWORD)).ok()["login"]
    data = (await gql(READ, token=login["accessToken"])).ok()
    [live] = [e["node"] for e in data["streams"]["edges"]]
    assert (live["viewerCount"], live["owner"]["email"]) == (17, f"user@{slug}.example")
    assert data["myStreamKey"]["streamKey"].startswith("live_")
    assert data["activeAnnouncements"] == [{"title": "Welcome to the tenantgraph demo"}]
    assert data["featureFlags"] == [{"name": "live-chat", "enabled": True}]
