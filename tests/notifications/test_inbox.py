"""The inbox: only its user reads a notification (anyone else's is NOT_FOUND, in lists, by id,
through federation and in every mutation); filters and keyset cursors; marking read one by one and
all at once; deleting; preferences with their defaults; sendNotification for services only; the
list costs the same statements for 3 rows as for 30."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from core.permissions import Role
from core.scope import TenantScope
from models.notifications import Notification
from server.runtime import Runtime
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from services.notifications.rules import TICKET_CHANGED
from tests.notifications.conftest import COUNT, LIST, mails_to, notifications_of, record
from tests.orders.conftest import Shop, gid
from tests.support.api_keys import create_client, token_of
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import Account, quick_account

MARK = """
mutation($input: MarkNotificationsReadInput!) {
  markNotificationsRead(input: $input) {
    notifications { id unread readAt } unreadCount userErrors { field code }
  }
}
"""
MARK_ALL = "mutation { markAllNotificationsRead { markedCount userErrors { code } } }"
DELETE = """
mutation($input: DeleteNotificationInput!) {
  deleteNotification(input: $input) { deletedId userErrors { code } }
}
"""
NODE = "query($id: ID!) { node(id: $id) { ... on Notification { id title } } }"
ENTITIES = """
query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Notification { id title } } }
"""
PREFERENCES = "{ notificationPreferences { type channel enabled isDefault } }"
UPDATE_PREFERENCES = """
mutation($input: UpdateNotificationPreferencesInput!) {
  updateNotificationPreferences(input: $input) {
    preferences { type channel enabled isDefault } userErrors { field code }
  }
}
"""
SEND = """
mutation($input: SendNotificationInput!) {
  sendNotification(input: $input) { sentCount userErrors { field code } }
}
"""


async def give(shop: Shop, account: Account, count: int) -> list[str]:
    """``count`` notifications for ``account`` (ticket assignments); their global ids, newest first."""
    for number in range(count):
        payload = {
            "ticket_id": str(uuid.uuid4()),
            "number": number,
            "subject": f"Ticket {number}",
            "change": "assigned",
            "status": "OPEN",
            "requester_id": str(uuid.uuid4()),
            "assignee_id": str(account.user_id),
            "actor_id": None,
            "comment_id": None,
            "internal": False,
        }
        await record(shop.runtime, shop.tenant_id, TICKET_CHANGED, payload)
    rows = await notifications_of(shop.runtime, account.user_id)
    return [gid("Notification", n.id) for n in reversed(rows)][:count]


async def listed(gql: GraphQLClient, account: Account, **variables: Any) -> dict[str, Any]:
    data: dict[str, Any] = (await gql(LIST, variables, token=account.token)).ok()["notifications"]
    return data


async def test_only_its_user_reads_a_notification(shop: Shop, runtime: Runtime) -> None:
    alice, bob = await shop.account(), await shop.account(Role.TENANT_ADMIN)
    (mine,) = await give(shop, alice, 1)
    assert [n["id"] for n in (await listed(shop.gql, alice))["nodes"]] == [mine]
    assert (await listed(shop.gql, bob))["nodes"] == []
    assert (await shop.gql(NODE, {"id": mine}, token=alice.token)).ok()["node"]["title"]
    assert (await shop.gql(NODE, {"id": mine}, token=bob.token)).error_codes == ["NOT_FOUND"]
    reps = {"reps": [{"__typename": "Notification", "id": mine}]}
    assert (await shop.gql(ENTITIES, reps, token=bob.token)).error_codes == ["NOT_FOUND"]
    assert (await shop.gql(ENTITIES, reps, token=alice.token)).ok()["_entities"][0]["id"] == mine
    # Nobody else's mutation touches it: a userError NOT_FOUND, or the NOT_FOUND error.
    marked = (await shop.gql(MARK, {"input": {"ids": [mine]}}, token=bob.token)).ok()["markNotificationsRead"]
    assert marked["userErrors"] == [{"field": ["input", "ids"], "code": "NOT_FOUND"}]
    assert (await shop.gql(DELETE, {"input": {"id": mine}}, token=bob.token)).error_codes == ["NOT_FOUND"]
    assert (await shop.gql(MARK_ALL, token=bob.token)).ok()["markAllNotificationsRead"]["markedCount"] == 0
    other = await quick_account(runtime, "other-tenant", Role.TENANT_ADMIN)
    assert (await shop.gql(NODE, {"id": mine}, token=other.token)).error_codes == ["NOT_FOUND"]
    (row,) = await notifications_of(runtime, alice.user_id)
    assert row.read_at is None


async def test_filters_cursors_read_and_delete(shop: Shop) -> None:
    alice = await shop.account()
    ids = await give(shop, alice, 5)
    page = await listed(shop.gql, alice, first=2)
    assert [n["id"] for n in page["nodes"]] == ids[:2] and page["totalCount"] == 5
    rest = await listed(shop.gql, alice, first=10, after=page["pageInfo"]["endCursor"])
    assert [n["id"] for n in rest["nodes"]] == ids[2:] and not rest["pageInfo"]["hasNextPage"]
    assert (await shop.gql(COUNT, token=alice.token)).ok() == {"unreadNotificationCount": 5}

    marked = (await shop.gql(MARK, {"input": {"ids": ids[:2]}}, token=alice.token)).ok()[
        "markNotificationsRead"
    ]
    assert marked["userErrors"] == [] and marked["unreadCount"] == 3
    assert [(n["id"], n["unread"]) for n in marked["notifications"]] == [(ids[0], False), (ids[1], False)]
    first_read = marked["notifications"][0]["readAt"]
    again = (await shop.gql(MARK, {"input": {"ids": ids[:1]}}, token=alice.token)).ok()[
        "markNotificationsRead"
    ]
    assert again["notifications"][0]["readAt"] == first_read  # read once, its time kept
    assert [n["id"] for n in (await listed(shop.gql, alice, filter={"unread": True}))["nodes"]] == ids[2:]
    assert [n["id"] for n in (await listed(shop.gql, alice, filter={"unread": False}))["nodes"]] == ids[:2]
    assert len((await listed(shop.gql, alice, filter={"type": "TICKET_ASSIGNED"}))["nodes"]) == 5
    assert (await listed(shop.gql, alice, filter={"type": "ORDER_PAID"}))["nodes"] == []

    empty = (await shop.gql(MARK, {"input": {"ids": []}}, token=alice.token)).ok()["markNotificationsRead"]
    assert empty["userErrors"] == [{"field": ["input", "ids"], "code": "REQUIRED"}]
    assert (await shop.gql(MARK_ALL, token=alice.token)).ok()["markAllNotificationsRead"]["markedCount"] == 3
    assert (await shop.gql(COUNT, token=alice.token)).ok() == {"unreadNotificationCount": 0}

    deleted = (await shop.gql(DELETE, {"input": {"id": ids[0]}}, token=alice.token)).ok()[
        "deleteNotification"
    ]
    assert deleted == {"deletedId": ids[0], "userErrors": []}
    assert (await shop.gql(DELETE, {"input": {"id": ids[0]}}, token=alice.token)).error_codes == ["NOT_FOUND"]
    assert (await listed(shop.gql, alice))["totalCount"] == 4


async def test_preferences_list_defaults_and_update(shop: Shop) -> None:
    alice = await shop.account()
    found = (await shop.gql(PREFERENCES, token=alice.token)).ok()["notificationPreferences"]
    by_key = {(p["type"], p["channel"]): p for p in found}
    assert len(found) == 11 * 3 and all(p["isDefault"] for p in found)
    assert by_key["ORDER_PAID", "IN_APP"]["enabled"] and not by_key["ORDER_PAID", "EMAIL"]["enabled"]
    assert by_key["PAYMENT_FAILED", "EMAIL"]["enabled"] and by_key["ORDER_PAID", "WEB_PUSH"]["enabled"]
    changes = [
        {"type": "ORDER_PAID", "channel": "EMAIL", "enabled": True},
        {"type": "TICKET_ASSIGNED", "channel": "IN_APP", "enabled": False},
    ]
    updated = (
        await shop.gql(UPDATE_PREFERENCES, {"input": {"preferences": changes}}, token=alice.token)
    ).ok()
    after = {(p["type"], p["channel"]): p for p in updated["updateNotificationPreferences"]["preferences"]}
    assert after["ORDER_PAID", "EMAIL"] == {
        "type": "ORDER_PAID",
        "channel": "EMAIL",
        "enabled": True,
        "isDefault": False,
    }
    assert after["TICKET_ASSIGNED", "IN_APP"]["enabled"] is False
    # Set again (the row exists): still one choice, the new value.
    changes = [{"type": "ORDER_PAID", "channel": "EMAIL", "enabled": False}]
    again = (await shop.gql(UPDATE_PREFERENCES, {"input": {"preferences": changes}}, token=alice.token)).ok()
    assert {
        (p["type"], p["channel"]): p["enabled"] for p in again["updateNotificationPreferences"]["preferences"]
    }["ORDER_PAID", "EMAIL"] is False
    twice = (
        await shop.gql(UPDATE_PREFERENCES, {"input": {"preferences": changes * 2}}, token=alice.token)
    ).ok()
    assert twice["updateNotificationPreferences"]["userErrors"] == [
        {"field": ["input", "preferences"], "code": "DUPLICATE"}
    ]
    # In-app off for assignments: none arrives.
    assert await give(shop, alice, 1) == []
    # Another user's defaults are untouched.
    bob = await shop.account()
    assert all(
        p["isDefault"] for p in (await shop.gql(PREFERENCES, token=bob.token)).ok()["notificationPreferences"]
    )


async def test_send_notification_is_for_services(shop: Shop, http: httpx.AsyncClient) -> None:
    alice, bob = await shop.account(), await shop.account(Role.TENANT_ADMIN)
    message = {
        "userIds": [alice.gid],
        "title": "Maintenance tonight",
        "body": "From 22:00 UTC.",
        "link": "/status",
    }
    assert (await shop.gql(SEND, {"input": message}, token=bob.token)).error_codes == ["FORBIDDEN"]
    platform_admin = await quick_account(shop.runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    secret, client = await create_client(shop.gql, platform_admin, ["NOTIFICATIONS_SEND"])
    token = (await token_of(http, client["clientId"], secret))["access_token"]
    sent = (await shop.gql(SEND, {"input": message | {"userIds": [alice.gid, bob.gid]}}, token=token)).ok()
    assert sent["sendNotification"] == {"sentCount": 2, "userErrors": []}
    (row,) = await notifications_of(shop.runtime, alice.user_id)
    assert (row.type, row.title, row.body, row.link, row.tenant_id) == (
        "MESSAGE",
        "Maintenance tonight",
        "From 22:00 UTC.",
        "/status",
        shop.tenant_id,
    )
    assert await mails_to(shop.runtime, alice.email) == []  # MESSAGE is in-app only by default

    async def errors(**change: Any) -> list[dict[str, str]]:
        result = (await shop.gql(SEND, {"input": message | change}, token=token)).ok()
        found: list[dict[str, str]] = result["sendNotification"]["userErrors"]
        return found

    assert await errors(title=" ") == [{"field": ["input", "title"], "code": "REQUIRED"}]
    assert await errors(title="x" * 201) == [{"field": ["input", "title"], "code": "TOO_LONG"}]
    assert await errors(link="javascript:alert(1)") == [{"field": ["input", "link"], "code": "INVALID_LINK"}]
    assert await errors(link="//evil.example") == [{"field": ["input", "link"], "code": "INVALID_LINK"}]
    assert await errors(data={"big": "x" * 5000}) == [{"field": ["input", "data"], "code": "TOO_LONG"}]
    assert await errors(userIds=[]) == [{"field": ["input", "userIds"], "code": "REQUIRED"}]
    assert await errors(userIds=[gid("User", uuid.uuid4())]) == [
        {"field": ["input", "userIds"], "code": "USER_NOT_FOUND"}
    ]
    assert len(await notifications_of(shop.runtime, alice.user_id)) == 1


async def test_the_list_costs_the_same_for_3_rows_as_for_30(shop: Shop, runtime: Runtime) -> None:
    alice = await shop.account()
    await give(shop, alice, 30)
    costs = {}
    await shop.gql.warm(alice.token)
    for first in (3, 30):
        with count_statements(runtime.db.engine) as counter:
            page = await listed(shop.gql, alice, first=first)
        assert len(page["nodes"]) == first
        costs[first] = [s for s in counter.statements if "outbox_events" not in s]
    assert len(costs[3]) == len(costs[30]), (costs[3], costs[30])
    # The page and its total.
    assert len(costs[30]) == 2, costs[30]


async def test_a_notification_is_tenant_owned(shop: Shop) -> None:
    alice = await shop.account()
    await give(shop, alice, 1)
    (row,) = await notifications_of(shop.runtime, alice.user_id)
    async with shop.db.session(TenantScope.of(uuid.uuid4())) as session:
        assert await session.get(Notification, row.id) is None
