"""``ticketUpdated`` end to end: a real server process speaking graphql-transport-ws, the outbox and
Redis. Tickets change through the test's own app; the events reach the server process through
Redis. Internal notes reach staff only, strangers and other tenants cannot subscribe, and a staff
member who loses the role gets nothing more."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.settings import Settings
from realtime.stream import channel_name
from server.runtime import Runtime
from services.tickets.states import TICKET_CHANGED
from tests.conftest import TEST_SIGNING_KEY
from tests.support.graphql import GraphQLClient
from tests.support.identity import Identity
from tests.support.live_server import LiveServer, TransportWsClient, one_server, wait_listening
from tests.tickets.conftest import ASSIGN, COMMENT, SET_STATUS, Desk, new_desk

UPDATED = """
subscription($id: ID!) {
  ticketUpdated(ticketId: $id) {
    change status comment { body internal }
    ticket { number status commentCount comments { totalCount } assignee { email } }
  }
}
"""
ASSIGN_ROLES = "mutation($input: UserRolesInput!) { assignRoles(input: $input) { userErrors { code } } }"
REMOVE_ROLES = "mutation($input: UserRolesInput!) { removeRoles(input: $input) { userErrors { code } } }"
TIMEOUT = 10.0


@pytest.fixture(scope="module")
async def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    async with one_server(
        settings.database_url,
        settings.broadcast_url,
        TEST_SIGNING_KEY,
        tmp_path_factory.mktemp("ticket-servers"),
        TENANTGRAPH_PROVISIONING_POLL_SECONDS="0",
    ) as started:
        yield started


async def update(ws: TransportWsClient) -> dict[str, Any]:
    found: dict[str, Any] = (await ws.next_data("1", TIMEOUT))["ticketUpdated"]
    return found


async def refused(ws: TransportWsClient) -> list[str]:
    message = await ws.receive(TIMEOUT)
    assert message["type"] in ("error", "next"), message
    errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
    return [e["extensions"]["code"] for e in errors or []]


async def test_updates_reach_requester_and_staff_internal_notes_staff_only(
    desk: Desk,
    server: LiveServer,
    settings: Settings,
    runtime: Runtime,
    gql: GraphQLClient,
    identity: Identity,
) -> None:
    ticket = await desk.open()
    elsewhere = await new_desk(runtime, gql, identity)
    accounts = {
        "requester": desk.requester,
        "agent": desk.agent,
        "manager": desk.manager,
        "other": desk.other,
        "elsewhere": elsewhere.agent,
    }
    clients = {
        name: await TransportWsClient.connected(server.ws_url, a.token) for name, a in accounts.items()
    }
    try:
        for client in clients.values():
            await client.subscribe(UPDATED, {"id": ticket["id"]})
        # Someone else's ticket, or another tenant's, does not exist for them.
        assert await refused(clients["other"]) == ["NOT_FOUND"]
        assert await refused(clients["elsewhere"]) == ["NOT_FOUND"]
        await wait_listening(settings.broadcast_url, channel_name(TICKET_CHANGED, desk.shop.tenant_id))

        await desk.call(COMMENT, desk.agent, ticketId=ticket["id"], body="Their router again.", internal=True)
        await desk.call(COMMENT, desk.agent, ticketId=ticket["id"], body="Please restart the router.")
        await desk.call(SET_STATUS, desk.agent, id=ticket["id"], status="PENDING")
        await desk.call(ASSIGN, desk.manager, id=ticket["id"], assigneeId=desk.agent.gid)

        for name in ("agent", "manager"):
            seen = [await update(clients[name]) for _ in range(4)]
            assert [(u["change"], u["comment"] and u["comment"]["internal"]) for u in seen] == [
                ("COMMENT", True),
                ("COMMENT", False),
                ("STATUS", None),
                ("ASSIGNED", None),
            ]
            assert seen[-1]["ticket"]["commentCount"] == 2
        # The requester: the public reply first (the note never came), counts without the note.
        seen = [await update(clients["requester"]) for _ in range(3)]
        assert [u["change"] for u in seen] == ["COMMENT", "STATUS", "ASSIGNED"]
        assert seen[0]["comment"] == {"body": "Please restart the router.", "internal": False}
        assert all(
            u["ticket"]["commentCount"] == 1 and u["ticket"]["comments"]["totalCount"] == 1 for u in seen
        )
        assert (seen[1]["status"], seen[2]["ticket"]["assignee"]) == ("PENDING", {"email": desk.agent.email})
        await clients["requester"].expect_nothing(0.3)

        # The manager loses the staff role: the next change no longer reaches them.
        for mutation, role in ((ASSIGN_ROLES, "USER"), (REMOVE_ROLES, "MANAGER")):
            variables = {"input": {"id": desk.manager.gid, "roles": [role]}}
            assert (await desk.gql(mutation, variables, token=desk.shop.admin.token)).ok()
        await desk.call(COMMENT, desk.requester, ticketId=ticket["id"], body="Restarted, still drops.")
        assert (await update(clients["requester"]))["comment"]["body"] == "Restarted, still drops."
        assert (await update(clients["agent"]))["comment"]["body"] == "Restarted, still drops."
        await clients["manager"].expect_nothing(0.7)
    finally:
        for client in clients.values():
            await client.close()
