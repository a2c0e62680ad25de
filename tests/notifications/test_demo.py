"""Demo notifications: each demo tenant's demo user has three unread ones; seeding again adds none."""

from __future__ import annotations

from demo import DEMO_PASSWORD, DEMO_TENANTS, seed_demo
from server.runtime import Runtime
from tests.notifications.conftest import COUNT
from tests.support.graphql import GraphQLClient
from tests.support.identity import Identity

MINE = "{ notifications(filter: {type: MESSAGE}) { nodes { title link unread } } }"


async def test_demo_notifications_are_seeded_once(
    runtime: Runtime, gql: GraphQLClient, identity: Identity
) -> None:
    await seed_demo(runtime.db)
    await seed_demo(runtime.db)
    for slug, _, _ in DEMO_TENANTS:
        login = (await identity.login(slug, f"user@{slug}.example", DEMO_PASSWORD)).ok()["login"]
        token = login["accessToken"]
        (welcome,) = (await gql(MINE, token=token)).ok()["notifications"]["nodes"]
        assert welcome == {"title": "Welcome to the demo", "link": "/", "unread": True}
        # The three demo ones, plus any the demo's own events made (its paid orders).
        assert (await gql(COUNT, token=token)).ok()["unreadNotificationCount"] >= 3
