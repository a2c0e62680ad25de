"""The ticket life cycle: every transition of the state machine, legal and illegal (an illegal one
is INVALID_TRANSITION and changes nothing), closing, the reopening window, and the history and
``ticket.changed`` events each change records."""

from __future__ import annotations

from datetime import timedelta

from models.base import utcnow
from models.tickets import TicketStatus
from services.tickets.states import ALLOWED
from tests.tickets.conftest import CLOSE, REOPEN, SET_STATUS, Desk, raw_id

S = TicketStatus


async def _ticket_in(desk: Desk, status: TicketStatus) -> str:
    ticket = await desk.open()
    if status != S.OPEN:
        moved = await desk.call(SET_STATUS, desk.agent, id=ticket["id"], status=status.value)
        assert moved["ticket"]["status"] == status.value, moved
    return str(ticket["id"])


async def test_every_transition_legal_and_illegal(desk: Desk) -> None:
    legal = illegal = 0
    for source in S:
        for target in S:
            ticket = await _ticket_in(desk, source)
            before = await desk.row(ticket)
            events_before = len(await desk.events())
            payload = await desk.call(SET_STATUS, desk.agent, id=ticket, status=target.value)
            after = await desk.row(ticket)
            if target in ALLOWED[source]:
                legal += 1
                assert payload["userErrors"] == [], (source, target, payload)
                assert payload["ticket"]["status"] == target.value
                assert after.version == before.version + 1
                assert (await desk.history(ticket))[-1] == ("status", source.value, target.value)
                event = (await desk.events())[-1]
                assert (event["change"], event["status"]) == ("status", target.value)
            else:
                illegal += 1
                assert payload["ticket"] is None, (source, target)
                assert [e["code"] for e in payload["userErrors"]] == ["INVALID_TRANSITION"], (source, target)
                assert (after.status, after.version, after.updated_at) == (
                    source,
                    before.version,
                    before.updated_at,
                )
                assert len(await desk.events()) == events_before
    # 5 statuses: 4 + 4 + 4 moves among the working statuses and out, SOLVED 2, CLOSED 1.
    assert (legal, illegal) == (15, 10)


async def test_times_of_solving_closing_and_reopening(desk: Desk) -> None:
    ticket = await _ticket_in(desk, S.SOLVED)
    solved = await desk.row(ticket)
    assert solved.solved_at is not None and solved.closed_at is None
    data = (await desk.ticket(desk.requester, ticket)).ok()["ticket"]
    assert data["resolutionSeconds"] == (solved.solved_at - solved.created_at).total_seconds()
    closed = await desk.call(CLOSE, desk.requester, id=ticket)
    assert closed["ticket"]["status"] == "CLOSED" and closed["ticket"]["closedAt"] is not None
    # Solved first: the resolution time stays the solving time.
    assert closed["ticket"]["resolutionSeconds"] == data["resolutionSeconds"]
    reopened = await desk.call(REOPEN, desk.requester, id=ticket)
    assert reopened["ticket"]["status"] == "OPEN"
    assert (reopened["ticket"]["solvedAt"], reopened["ticket"]["closedAt"]) == (None, None)
    assert reopened["ticket"]["resolutionSeconds"] is None
    assert [h[1:] for h in await desk.history(ticket)] == [
        (None, "OPEN"),
        ("OPEN", "SOLVED"),
        ("SOLVED", "CLOSED"),
        ("CLOSED", "OPEN"),
    ]


async def test_close_by_requester_or_staff_and_never_twice(desk: Desk) -> None:
    mine = await desk.open()
    assert (await desk.call(CLOSE, desk.requester, id=mine["id"]))["ticket"]["status"] == "CLOSED"
    again = await desk.call(CLOSE, desk.requester, id=mine["id"])
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_TRANSITION"]
    pending = await _ticket_in(desk, S.ON_HOLD)
    assert (await desk.call(CLOSE, desk.manager, id=pending))["ticket"]["status"] == "CLOSED"
    # Someone else's ticket does not exist for a plain user.
    other = await desk.open()
    result = await desk.gql(CLOSE, {"input": {"id": other["id"]}}, token=desk.other.token)
    assert result.error_codes == ["NOT_FOUND"]
    assert (await desk.row(other["id"])).status == S.OPEN


async def test_reopen_window_for_the_requester_and_always_for_staff(desk: Desk) -> None:
    window = desk.runtime.settings.ticket_reopen_window_days
    assert window == 7
    recent = await _ticket_in(desk, S.SOLVED)
    await desk.set_times(recent, solved_at=utcnow() - timedelta(days=window) + timedelta(hours=1))
    assert (await desk.call(REOPEN, desk.requester, id=recent))["ticket"]["status"] == "OPEN"

    old = await _ticket_in(desk, S.CLOSED)
    await desk.set_times(old, closed_at=utcnow() - timedelta(days=window, hours=1))
    refused = await desk.call(REOPEN, desk.requester, id=old)
    assert [e["code"] for e in refused["userErrors"]] == ["REOPEN_WINDOW_EXPIRED"]
    assert (await desk.row(old)).status == S.CLOSED
    assert (await desk.call(REOPEN, desk.agent, id=old))["ticket"]["status"] == "OPEN"

    # Only SOLVED and CLOSED tickets are reopened.
    working = await _ticket_in(desk, S.PENDING)
    not_resolved = await desk.call(REOPEN, desk.agent, id=working)
    assert [e["code"] for e in not_resolved["userErrors"]] == ["INVALID_TRANSITION"]


async def test_only_staff_set_a_status(desk: Desk) -> None:
    ticket = await desk.open()
    result = await desk.gql(
        SET_STATUS, {"input": {"id": ticket["id"], "status": "SOLVED"}}, token=desk.requester.token
    )
    assert result.error_codes == ["FORBIDDEN"]
    assert (await desk.row(ticket["id"])).status == S.OPEN


async def test_every_change_records_one_event_with_the_stated_payload(desk: Desk) -> None:
    ticket = await desk.open(category="network")
    await desk.call(SET_STATUS, desk.agent, id=ticket["id"], status="PENDING")
    events = await desk.events()
    assert events == [
        {
            "ticket_id": str(raw_id(ticket["id"])),
            "number": 1,
            "subject": "The VPN drops",
            "change": "created",
            "status": "OPEN",
            "requester_id": str(desk.requester.user_id),
            "assignee_id": None,
            "actor_id": str(desk.requester.user_id),
            "comment_id": None,
            "internal": False,
        },
        {
            "ticket_id": str(raw_id(ticket["id"])),
            "number": 1,
            "subject": "The VPN drops",
            "change": "status",
            "status": "PENDING",
            "requester_id": str(desk.requester.user_id),
            "assignee_id": None,
            "actor_id": str(desk.agent.user_id),
            "comment_id": None,
            "internal": False,
        },
    ]
    data = (await desk.ticket(desk.agent, ticket["id"])).ok()["ticket"]
    assert [(h["field"], h["from"], h["to"]) for h in data["history"]] == [
        ("status", None, "OPEN"),
        ("status", "OPEN", "PENDING"),
    ]
