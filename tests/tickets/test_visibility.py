"""Who sees and changes what: a user sees only their own tickets (another's is NOT_FOUND, never
FORBIDDEN), staff the tenant's, nobody another tenant's; internal notes reach staff only (not in
comments, counts or payloads of the requester); the first public staff reply sets the
first-response time; related orders and provisioning requests must be visible to the caller;
who may edit which field and to whom tickets are assigned."""

from __future__ import annotations

from typing import Any

from core.permissions import Role
from core.scope import TenantScope
from models.provisioning import ProvisioningStatus
from server.runtime import Runtime
from services.provisioning.requests import new_request
from tests.orders.conftest import gid, line
from tests.support.graphql import GraphQLClient
from tests.support.identity import Identity
from tests.tickets.conftest import ASSIGN, COMMENT, CREATE, UPDATE, Desk, new_desk

NODE = "query($id: ID!) { node(id: $id) { ... on Ticket { number subject } } }"
ENTITIES = """query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Ticket { number } } }"""
LIST = "{ tickets { totalCount nodes { number requester { email } } } }"


def codes(payload: dict[str, object]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]  # type: ignore[attr-defined, index]


async def test_a_user_sees_only_their_own_tickets_and_staff_the_tenants(
    desk: Desk, runtime: Runtime, gql: GraphQLClient, identity: Identity
) -> None:
    mine = await desk.open()
    theirs = await desk.open(desk.other, subject="Invoice is wrong")
    for account, expected in ((desk.requester, 1), (desk.other, 1), (desk.agent, 2), (desk.manager, 2)):
        listed = (await desk.gql(LIST, token=account.token)).ok()["tickets"]
        assert listed["totalCount"] == expected, account
    assert (await desk.ticket(desk.requester, mine["id"])).ok()["ticket"]["number"] == 1
    for document, variables in (
        ("query($id: ID!) { ticket(id: $id) { number } }", {"id": theirs["id"]}),
        (NODE, {"id": theirs["id"]}),
        (ENTITIES, {"reps": [{"__typename": "Ticket", "id": str(theirs["id"])}]}),
    ):
        assert (await desk.gql(document, variables, token=desk.requester.token)).error_codes == ["NOT_FOUND"]
    entities = {"reps": [{"__typename": "Ticket", "id": mine["id"]}]}
    assert (await desk.gql(ENTITIES, entities, token=desk.agent.token)).ok()["_entities"] == [{"number": 1}]
    # Changing someone else's ticket: NOT_FOUND as well.
    update = await desk.gql(
        UPDATE, {"input": {"id": theirs["id"], "subject": "x"}}, token=desk.requester.token
    )
    assert update.error_codes == ["NOT_FOUND"]
    comment = {"input": {"ticketId": theirs["id"], "body": "me too"}}
    assert (await desk.gql(COMMENT, comment, token=desk.requester.token)).error_codes == ["NOT_FOUND"]
    # Another tenant's staff see none of it.
    elsewhere = await new_desk(runtime, gql, identity)
    assert (await elsewhere.gql(LIST, token=elsewhere.agent.token)).ok()["tickets"]["totalCount"] == 0
    assert (await elsewhere.ticket(elsewhere.agent, mine["id"])).error_codes == ["NOT_FOUND"]


async def test_internal_notes_reach_staff_only(desk: Desk) -> None:
    ticket = await desk.open()
    refused = await desk.call(COMMENT, desk.requester, ticketId=ticket["id"], body="psst", internal=True)
    assert codes(refused) == ["NOT_ALLOWED"] and refused["comment"] is None
    note = await desk.call(
        COMMENT, desk.agent, ticketId=ticket["id"], body="Looks like their router.", internal=True
    )
    assert note["comment"]["internal"] is True
    assert note["ticket"]["firstResponseAt"] is None  # a note is no response
    reply = await desk.call(COMMENT, desk.agent, ticketId=ticket["id"], body="Please restart the router.")
    assert reply["ticket"]["firstResponseAt"] is not None
    mine = await desk.call(COMMENT, desk.requester, ticketId=ticket["id"], body="Done, still drops.")
    # The requester's own payload counts only what they may see.
    assert mine["ticket"]["commentCount"] == 2

    seen = (await desk.ticket(desk.requester, ticket["id"])).ok()["ticket"]
    assert seen["commentCount"] == 2
    assert seen["comments"]["totalCount"] == 2
    assert [c["body"] for c in seen["comments"]["nodes"]] == [
        "Please restart the router.",
        "Done, still drops.",
    ]
    assert all("note" not in h["field"] for h in seen["history"])
    staff = (await desk.ticket(desk.manager, ticket["id"])).ok()["ticket"]
    assert staff["commentCount"] == 3 and staff["comments"]["totalCount"] == 3
    assert [c["internal"] for c in staff["comments"]["nodes"]] == [True, False, False]
    assert staff["comments"]["nodes"][0]["author"] == {"email": desk.agent.email}
    # The note's event says it is internal; the others do not.
    comments = [e for e in await desk.events() if e["change"] == "comment"]
    assert [e["internal"] for e in comments] == [True, False, False]
    assert all(e["comment_id"] for e in comments)


async def test_first_response_is_the_first_public_staff_reply(desk: Desk) -> None:
    ticket = await desk.open()
    await desk.call(COMMENT, desk.requester, ticketId=ticket["id"], body="Any news?")
    assert (await desk.row(ticket["id"])).first_response_at is None
    first = await desk.call(COMMENT, desk.manager, ticketId=ticket["id"], body="On it.")
    answered = await desk.row(ticket["id"])
    assert answered.first_response_at is not None
    assert (
        first["ticket"]["firstResponseSeconds"]
        == (answered.first_response_at - answered.created_at).total_seconds()
    )
    await desk.call(COMMENT, desk.agent, ticketId=ticket["id"], body="Fixed.")
    assert (await desk.row(ticket["id"])).first_response_at == answered.first_response_at


async def test_comments_are_checked_and_closed_tickets_take_none(desk: Desk) -> None:
    ticket = await desk.open()
    assert codes(await desk.call(COMMENT, desk.requester, ticketId=ticket["id"], body="  ")) == ["REQUIRED"]
    # Past the schema's longest text (20000 characters) an input is refused before it runs.
    huge = {"input": {"ticketId": ticket["id"], "body": "x" * 20_001}}
    assert (await desk.gql(COMMENT, huge, token=desk.requester.token)).error_codes == ["BAD_USER_INPUT"]
    assert codes(await desk.call(UPDATE, desk.requester, id=ticket["id"], subject="x" * 201)) == ["TOO_LONG"]
    await desk.call(
        "mutation($input: TicketInput!) { closeTicket(input: $input) { ticket { status } } }",
        desk.requester,
        id=ticket["id"],
    )
    assert codes(await desk.call(COMMENT, desk.agent, ticketId=ticket["id"], body="late")) == [
        "TICKET_CLOSED"
    ]


async def test_a_related_order_or_provisioning_request_must_be_visible(desk: Desk) -> None:
    shop = desk.shop
    product = await shop.product(1200)
    own = await shop.quick(desk.requester, line(product, 1))
    others = await shop.quick(desk.other, line(product, 1))
    linked = await desk.call(
        CREATE, desk.requester, subject="Where is it?", description="No parcel.", orderId=own["id"]
    )
    assert linked["userErrors"] == []
    query = "query($id: ID!) { ticket(id: $id) { order { number } provisioningRequest { id } } }"
    found = (await desk.gql(query, {"id": linked["ticket"]["id"]}, token=desk.requester.token)).ok()["ticket"]
    assert found == {"order": {"number": own["number"]}, "provisioningRequest": None}
    refused = await desk.call(CREATE, desk.requester, subject="Hm", description="Hm.", orderId=others["id"])
    assert codes(refused) == ["NOT_FOUND"] and refused["userErrors"][0]["field"] == ["input", "orderId"]
    # The agent sees any order of the tenant: linking one is fine.
    assert (await desk.call(CREATE, desk.agent, subject="For them", description="x", orderId=others["id"]))[
        "userErrors"
    ] == []
    async with shop.db.transaction(TenantScope.of(shop.tenant_id)) as session:
        request = new_request(
            session,
            tenant_id=shop.tenant_id,
            user_id=desk.other.user_id,
            actor="test",
            actor_user_id=None,
        )
    assert request.status == ProvisioningStatus.PENDING
    refused = await desk.call(
        CREATE,
        desk.requester,
        subject="Hm",
        description="Hm.",
        provisioningRequestId=gid("ProvisioningRequest", request.id),
    )
    assert codes(refused) == ["NOT_FOUND"]
    mine = await desk.call(
        CREATE,
        desk.other,
        subject="Slow",
        description="Set-up is slow.",
        provisioningRequestId=gid("ProvisioningRequest", request.id),
    )
    assert mine["userErrors"] == []
    assert (await desk.gql(query, {"id": mine["ticket"]["id"]}, token=desk.other.token)).ok()["ticket"][
        "provisioningRequest"
    ] == {"id": gid("ProvisioningRequest", request.id)}


async def test_who_edits_which_field(desk: Desk) -> None:
    ticket = await desk.open(category="network")
    edited = await desk.call(UPDATE, desk.requester, id=ticket["id"], subject="VPN drops hourly", category="")
    assert edited["userErrors"] == []
    assert (edited["ticket"]["subject"], edited["ticket"]["category"]) == ("VPN drops hourly", None)
    refused = await desk.call(UPDATE, desk.requester, id=ticket["id"], priority="URGENT")
    assert codes(refused) == ["NOT_ALLOWED"]
    assert (await desk.row(ticket["id"])).priority.value == "NORMAL"
    by_staff = await desk.call(UPDATE, desk.agent, id=ticket["id"], priority="HIGH", category="vpn")
    assert (by_staff["ticket"]["priority"], by_staff["ticket"]["category"]) == ("HIGH", "vpn")
    assert codes(await desk.call(UPDATE, desk.requester, id=ticket["id"], subject=" ")) == ["REQUIRED"]
    # One edit's fields share their time: compared in any order.
    assert sorted(await desk.history(ticket["id"]), key=repr) == sorted(
        [
            ("status", None, "OPEN"),
            ("subject", "The VPN drops", "VPN drops hourly"),
            ("category", "network", None),
            ("category", None, "vpn"),
            ("priority", "NORMAL", "HIGH"),
        ],
        key=repr,
    )
    # Nothing to change: no history, no event.
    events = len(await desk.events())
    assert (await desk.call(UPDATE, desk.agent, id=ticket["id"], priority="HIGH"))["userErrors"] == []
    assert len(await desk.events()) == events


async def test_assignment_only_to_agents_of_the_tenant(
    desk: Desk, runtime: Runtime, gql: GraphQLClient, identity: Identity
) -> None:
    ticket = await desk.open()
    assigned = await desk.call(ASSIGN, desk.manager, id=ticket["id"], assigneeId=desk.agent.gid)
    assert assigned["ticket"]["assignee"] == {"email": desk.agent.email}
    assert (await desk.events())[-1]["assignee_id"] == str(desk.agent.user_id)
    # A manager is staff too.
    assert (await desk.call(ASSIGN, desk.agent, id=ticket["id"], assigneeId=desk.manager.gid))[
        "userErrors"
    ] == []
    assert codes(await desk.call(ASSIGN, desk.agent, id=ticket["id"], assigneeId=desk.other.gid)) == [
        "ASSIGNEE_NOT_AGENT"
    ]
    auditor = await desk.shop.account(Role.AUDITOR)
    assert codes(await desk.call(ASSIGN, desk.agent, id=ticket["id"], assigneeId=auditor.gid)) == [
        "ASSIGNEE_NOT_AGENT"
    ]
    elsewhere = await new_desk(runtime, gql, identity)
    assert codes(await desk.call(ASSIGN, desk.agent, id=ticket["id"], assigneeId=elsewhere.agent.gid)) == [
        "ASSIGNEE_NOT_AGENT"
    ]
    assert (await desk.row(ticket["id"])).assignee_id == desk.manager.user_id
    forbidden = await desk.gql(
        ASSIGN, {"input": {"id": ticket["id"], "assigneeId": desk.agent.gid}}, token=desk.requester.token
    )
    assert forbidden.error_codes == ["FORBIDDEN"]
    unassigned = await desk.call(ASSIGN, desk.agent, id=ticket["id"], assigneeId=None)
    assert unassigned["ticket"]["assignee"] is None
    assert [h for h in await desk.history(ticket["id"]) if h[0] == "assignee"] == [
        ("assignee", None, str(desk.agent.user_id)),
        ("assignee", str(desk.agent.user_id), str(desk.manager.user_id)),
        ("assignee", str(desk.manager.user_id), None),
    ]


async def test_a_public_reply_notifies_the_requester_and_an_internal_note_never_does(desk: Desk) -> None:
    """The tickets' own events through the notification rules (services/notifications/rules.py),
    end to end: what the requester's inbox holds after real comments."""
    inbox = "{ notifications(first: 10) { nodes { type title data } } unreadNotificationCount }"
    ticket = await desk.open()

    async def requesters_inbox() -> dict[str, Any]:
        data: dict[str, Any] = (await desk.gql(inbox, token=desk.requester.token)).ok()
        return data

    before = await requesters_inbox()
    note = await desk.call(COMMENT, desk.agent, ticketId=ticket["id"], body="Seemed upset.", internal=True)
    assert note["userErrors"] == []
    assert await requesters_inbox() == before  # an internal note notifies nobody outside staff
    reply = await desk.call(COMMENT, desk.agent, ticketId=ticket["id"], body="Please restart the router.")
    assert reply["userErrors"] == []
    after = await requesters_inbox()
    assert after["unreadNotificationCount"] == before["unreadNotificationCount"] + 1
    newest = after["notifications"]["nodes"][0]
    assert (newest["type"], newest["title"]) == ("TICKET_REPLY", f"New reply on ticket #{ticket['number']}")
