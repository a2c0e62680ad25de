"""The embedded default (SQLite): the demo tickets, a reply, statistics and analytics work there
too (the time arithmetic and per-day grouping have a SQLite form of their own)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette

from server.app import create_app
from tests.conftest import make_settings
from tests.support.graphql import GraphQLClient
from tests.test_embedded_sqlite import cli, connect, sign_in
from tests.tickets.conftest import COMMENT

MINE = "{ tickets { nodes { id number status commentCount } } }"
STATISTICS = """{ ticketStatistics { total meanFirstResponseSeconds meanResolutionSeconds
  countsByStatus { status count } agents { assigned solved } } }"""
ANALYTICS = "query($from: Date!, $to: Date!) { ticketAnalytics(from: $from, to: $to) { day created } }"


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("embedded-tickets") / "tenantgraph.db"
    url = f"sqlite+aiosqlite:///{path}"
    cli(url, "migrate")
    cli(url, "seed-demo")
    return url


@pytest.fixture
async def embedded_app(sqlite_url: str) -> AsyncIterator[Starlette]:
    app = create_app(make_settings(sqlite_url, "memory://", provisioning_poll_seconds=0))
    async with app.router.lifespan_context(app):
        yield app


async def test_tickets_statistics_and_analytics_on_sqlite(embedded_app: Starlette) -> None:
    async with connect(embedded_app) as client:
        gql = GraphQLClient(client)
        user = await sign_in(gql, "acme", "user@acme.example")
        manager = await sign_in(gql, "acme", "manager@acme.example")
        waiting, answered = (await gql(MINE, token=user)).ok()["tickets"]["nodes"]
        assert (answered["number"], answered["commentCount"], waiting["status"]) == (1, 1, "OPEN")
        reply = {"input": {"ticketId": waiting["id"], "body": "You find it under Billing."}}
        assert (await gql(COMMENT, reply, token=manager)).ok()["addTicketComment"]["userErrors"] == []
        stats = (await gql(STATISTICS, token=manager)).ok()["ticketStatistics"]
        assert stats["total"] == 2
        # The demo's answer came after 20 minutes, the new one at once (seconds after opening + 1 h).
        assert stats["meanFirstResponseSeconds"] is not None and stats["meanFirstResponseSeconds"] > 600
        assert stats["meanResolutionSeconds"] is None
        assert stats["agents"] == [{"assigned": 1, "solved": 0}]
        today = datetime.now(UTC).date()
        span = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
        days = (await gql(ANALYTICS, span, token=manager)).ok()["ticketAnalytics"]
        # The demo tickets were opened 3 and 2 hours ago: yesterday or today.
        assert [d["day"] for d in days] == [span["from"], span["to"]]
        assert sum(d["created"] for d in days) == 2
