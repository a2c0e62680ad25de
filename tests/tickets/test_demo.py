"""The demo tickets: seeded once; the demo user sees the public reply but not the internal note,
the manager sees both."""

from __future__ import annotations

from sqlalchemy import func, select

from core.scope import TenantScope
from demo import DEMO_PASSWORD, DEMO_TENANTS, seed_demo
from models.tickets import Ticket
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient
from tests.support.identity import Identity

TICKETS = """{ tickets { nodes {
  number status priority commentCount assignee { email } comments { nodes { body internal } } } } }"""


async def test_demo_tickets_are_seeded_once(runtime: Runtime, gql: GraphQLClient, identity: Identity) -> None:
    await seed_demo(runtime.db)
    await seed_demo(runtime.db)
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 2 * len(DEMO_TENANTS)
    slug = DEMO_TENANTS[0][0]

    async def tickets(local: str) -> list[dict[str, object]]:
        login = (await identity.login(slug, f"{local}@{slug}.example", DEMO_PASSWORD)).ok()["login"]
        nodes: list[dict[str, object]] = (await gql(TICKETS, token=login["accessToken"])).ok()["tickets"][
            "nodes"
        ]
        return nodes

    waiting, answered = await tickets("user")
    assert (answered["number"], answered["status"], answered["priority"]) == (1, "PENDING", "HIGH")
    assert answered["assignee"] == {"email": f"manager@{slug}.example"}
    assert answered["commentCount"] == 1
    assert [c["internal"] for c in answered["comments"]["nodes"]] == [False]  # type: ignore[index]
    assert (waiting["number"], waiting["status"], waiting["commentCount"]) == (2, "OPEN", 0)
    staff = await tickets("manager")
    assert [c["internal"] for c in staff[1]["comments"]["nodes"]] == [True, False]  # type: ignore[index]
