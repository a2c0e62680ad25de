"""Reading tickets: numbering (sequential per tenant, under concurrency), the list with filters and
keyset cursors, statistics and analytics values, and the statements of a ticket list with its
requester, assignee and comments (the same for 3 tickets as for 12)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

from server.runtime import Runtime
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import Identity
from tests.tickets.conftest import ASSIGN, COMMENT, CREATE, SET_STATUS, Desk, new_desk

LIST = """
query($filter: TicketFilterInput, $first: Int, $after: String) {
  tickets(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { number }
  }
}
"""
LIST_COST = """
query($first: Int) { tickets(first: $first) { nodes {
  number requester { email } assignee { email } commentCount
  comments(first: 5) { totalCount nodes { body author { email } } }
} } }
"""
STATISTICS = """{ ticketStatistics {
  total meanFirstResponseSeconds meanResolutionSeconds
  countsByStatus { status count } openByPriority { priority count }
  agents { agent { email } assigned solved meanResolutionSeconds }
} }"""
ANALYTICS = (
    "query($from: Date!, $to: Date!) { ticketAnalytics(from: $from, to: $to) { day created solved closed } }"
)


def numbers(data: dict[str, Any]) -> list[int]:
    return [n["number"] for n in data["tickets"]["nodes"]]


async def test_numbers_are_sequential_per_tenant_even_when_concurrent(
    desk: Desk, runtime: Runtime, gql: GraphQLClient, identity: Identity
) -> None:
    async def create(n: int) -> int:
        result = await desk.gql(
            CREATE, {"input": {"subject": f"T{n}", "description": "x"}}, token=desk.requester.token
        )
        number: int = result.ok()["createTicket"]["ticket"]["number"]
        return number

    made = await asyncio.gather(*(create(n) for n in range(10)))
    assert sorted(made) == list(range(1, 11))
    elsewhere = await new_desk(runtime, gql, identity)
    assert (await elsewhere.open())["number"] == 1
    assert (await desk.open())["number"] == 11


async def test_filters_and_cursors(desk: Desk) -> None:
    await desk.open(category="billing")  # 1
    second = await desk.open(priority="HIGH")  # 2
    third = await desk.open(desk.other, category="billing")  # 3
    await desk.call(ASSIGN, desk.agent, id=second["id"], assigneeId=desk.agent.gid)
    await desk.call(SET_STATUS, desk.agent, id=third["id"], status="SOLVED")

    async def listed(account: Any, **variables: Any) -> dict[str, Any]:
        data: dict[str, Any] = (await desk.gql(LIST, variables, token=account.token)).ok()
        return data

    assert numbers(await listed(desk.agent)) == [3, 2, 1]  # newest first
    assert numbers(await listed(desk.requester)) == [2, 1]
    assert numbers(await listed(desk.agent, filter={"status": "SOLVED"})) == [3]
    assert numbers(await listed(desk.agent, filter={"priority": "HIGH"})) == [2]
    assert numbers(await listed(desk.agent, filter={"assigneeId": desk.agent.gid})) == [2]
    assert numbers(await listed(desk.agent, filter={"requesterId": desk.other.gid})) == [3]
    assert numbers(await listed(desk.requester, filter={"requesterId": desk.other.gid})) == []
    assert numbers(await listed(desk.agent, filter={"category": "billing"})) == [3, 1]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert numbers(await listed(desk.agent, filter={"createdAfter": future})) == []
    assert numbers(await listed(desk.agent, filter={"createdBefore": future})) == [3, 2, 1]
    naive = await desk.gql(LIST, {"filter": {"createdAfter": "2026-01-01T00:00:00"}}, token=desk.agent.token)
    assert naive.error_codes == ["BAD_USER_INPUT"]
    page = (await listed(desk.agent, first=2))["tickets"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    rest = await listed(desk.agent, first=2, after=page["pageInfo"]["endCursor"])
    assert numbers(rest) == [1] and not rest["tickets"]["pageInfo"]["hasNextPage"]


async def test_statistics_values(desk: Desk) -> None:
    made = [await desk.open(priority=p) for p in ("LOW", "HIGH", "HIGH", "URGENT")]
    ids = [t["id"] for t in made]
    await desk.call(ASSIGN, desk.manager, id=ids[0], assigneeId=desk.agent.gid)
    await desk.call(ASSIGN, desk.manager, id=ids[1], assigneeId=desk.agent.gid)
    await desk.call(ASSIGN, desk.manager, id=ids[2], assigneeId=desk.manager.gid)
    await desk.call(SET_STATUS, desk.agent, id=ids[0], status="SOLVED")
    await desk.call(SET_STATUS, desk.agent, id=ids[2], status="CLOSED")
    await desk.call(SET_STATUS, desk.agent, id=ids[3], status="PENDING")
    # Put round times on them: opened at t0, answered and resolved after known durations.
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    await desk.set_times(
        ids[0], created_at=t0, first_response_at=t0 + timedelta(minutes=10), solved_at=t0 + timedelta(hours=2)
    )
    await desk.set_times(ids[1], created_at=t0, first_response_at=t0 + timedelta(minutes=30))
    await desk.set_times(ids[2], created_at=t0, closed_at=t0 + timedelta(hours=4))
    await desk.set_times(ids[3], created_at=t0)

    stats = (await desk.gql(STATISTICS, token=desk.agent.token)).ok()["ticketStatistics"]
    assert stats["total"] == 4
    assert {c["status"]: c["count"] for c in stats["countsByStatus"]} == {
        "OPEN": 1,
        "PENDING": 1,
        "ON_HOLD": 0,
        "SOLVED": 1,
        "CLOSED": 1,
    }
    assert {c["priority"]: c["count"] for c in stats["openByPriority"]} == {
        "LOW": 0,
        "NORMAL": 0,
        "HIGH": 1,
        "URGENT": 1,
    }
    assert stats["meanFirstResponseSeconds"] == 20 * 60  # (10 + 30) / 2 minutes
    assert stats["meanResolutionSeconds"] == 3 * 3600  # (2 + 4) / 2 hours
    assert stats["agents"] == [
        {"agent": {"email": desk.agent.email}, "assigned": 2, "solved": 1, "meanResolutionSeconds": 7200.0},
        {
            "agent": {"email": desk.manager.email},
            "assigned": 1,
            "solved": 1,
            "meanResolutionSeconds": 14400.0,
        },
    ]
    assert (await desk.gql(STATISTICS, token=desk.requester.token)).error_codes == ["FORBIDDEN"]


async def test_analytics_per_day_and_bounded(desk: Desk) -> None:
    made = [(await desk.open())["id"] for _ in range(3)]
    day = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    await desk.set_times(made[0], created_at=day)
    await desk.set_times(made[1], created_at=day, solved_at=day + timedelta(hours=1), status="SOLVED")
    await desk.set_times(
        made[2], created_at=day + timedelta(days=1), closed_at=day + timedelta(days=2), status="CLOSED"
    )
    series = (
        await desk.gql(ANALYTICS, {"from": "2026-03-01", "to": "2026-03-04"}, token=desk.manager.token)
    ).ok()
    assert series["ticketAnalytics"] == [
        {"day": "2026-03-01", "created": 2, "solved": 0, "closed": 0},
        {"day": "2026-03-02", "created": 1, "solved": 1, "closed": 0},
        {"day": "2026-03-03", "created": 0, "solved": 0, "closed": 1},
        {"day": "2026-03-04", "created": 0, "solved": 0, "closed": 0},
    ]
    start = date(2026, 1, 1)
    too_long = {"from": start.isoformat(), "to": (start + timedelta(days=92)).isoformat()}
    assert (await desk.gql(ANALYTICS, too_long, token=desk.manager.token)).error_codes == ["BAD_USER_INPUT"]
    backwards = {"from": "2026-03-04", "to": "2026-03-01"}
    assert (await desk.gql(ANALYTICS, backwards, token=desk.manager.token)).error_codes == ["BAD_USER_INPUT"]
    assert (await desk.gql(ANALYTICS, backwards, token=desk.requester.token)).error_codes == ["FORBIDDEN"]


async def test_a_ticket_list_costs_the_same_statements_for_3_and_12_tickets(desk: Desk) -> None:
    for n in range(12):
        ticket = await desk.open(desk.requester if n % 2 else desk.other)
        await desk.call(ASSIGN, desk.manager, id=ticket["id"], assigneeId=desk.agent.gid)
        await desk.call(COMMENT, desk.agent, ticketId=ticket["id"], body="Looking.")
        await desk.call(COMMENT, desk.agent, ticketId=ticket["id"], body="note", internal=True)

    costs = {}
    await desk.gql.warm(desk.agent.token)
    for first in (3, 12):
        with count_statements(desk.runtime.db.engine) as counter:
            data = (await desk.gql(LIST_COST, {"first": first}, token=desk.agent.token)).ok()
        nodes = data["tickets"]["nodes"]
        assert len(nodes) == first
        assert all(n["commentCount"] == 2 and n["comments"]["totalCount"] == 2 for n in nodes)
        assert all(n["assignee"] == {"email": desk.agent.email} for n in nodes)
        costs[first] = [s for s in counter.statements if "outbox_events" not in s]
    assert len(costs[3]) == len(costs[12]), (costs[3], costs[12])
    # The page; one batch of users (requesters and assignees; the authors are among them, cached);
    # one count for every ticket's commentCount; one window of comments; one count for every
    # comments.totalCount (a level deeper).
    tables = [s.split(" FROM ", 1)[1].split()[0] if " FROM " in s else s[:40] for s in costs[12]]
    assert len(costs[12]) == 5, tables
    assert sum(1 for s in costs[12] if s.startswith("SELECT users.")) == 1, tables
    # The requester's view counts no internal note.
    mine = (await desk.gql(LIST_COST, {"first": 12}, token=desk.requester.token)).ok()["tickets"]["nodes"]
    assert len(mine) == 6 and all(n["commentCount"] == 1 for n in mine)
