"""``notificationReceived`` and ``unreadCount`` end to end: a real server process speaking
graphql-transport-ws, the outbox and Redis. Notifications are made in the test's process (an event
recorded in a transaction) and reach the server through Redis; each reaches only its user —
never another user of the tenant, nor another tenant."""

from __future__ import annotations

from core.settings import Settings
from realtime.stream import channel_name
from services.notifications.delivery import NOTIFICATION_CHANGED
from tests.notifications.conftest import Shop
from tests.notifications.test_inbox import MARK_ALL, give
from tests.support.identity import quick_account
from tests.support.live_server import LiveServer, TransportWsClient, wait_listening

RECEIVED = "subscription { notificationReceived { id type title unread } }"
UNREAD = "subscription { unreadCount { count } }"
TIMEOUT = 10.0


async def test_notifications_and_counts_reach_only_their_user(
    shop: Shop, server: LiveServer, settings: Settings
) -> None:
    alice, bob = await shop.account(), await shop.account()
    carol = await quick_account(shop.runtime, "another-tenant")
    received = await TransportWsClient.connected(server.ws_url, alice.token)
    counts = await TransportWsClient.connected(server.ws_url, alice.token)
    others = [await TransportWsClient.connected(server.ws_url, who.token) for who in (bob, carol)]
    try:
        await received.subscribe(RECEIVED)
        await counts.subscribe(UNREAD)
        for ws in others:
            await ws.subscribe(RECEIVED)
        await wait_listening(settings.broadcast_url, channel_name(NOTIFICATION_CHANGED, shop.tenant_id))
        (made,) = await give(shop, alice, 1)
        got = (await received.next_data("1", TIMEOUT))["notificationReceived"]
        assert got == {
            "id": made,
            "type": "TICKET_ASSIGNED",
            "title": "Ticket #0 was assigned to you",
            "unread": True,
        }
        assert (await counts.next_data("1", TIMEOUT))["unreadCount"] == {"count": 1}
        # Reading changes the count, and is no new notification.
        marked = await shop.gql(MARK_ALL, token=alice.token)
        assert marked.ok()["markAllNotificationsRead"]["markedCount"] == 1
        assert (await counts.next_data("1", TIMEOUT))["unreadCount"] == {"count": 0}
        await received.expect_nothing(0.3)
        for ws in others:
            await ws.expect_nothing(0.2)
    finally:
        for ws in (received, counts, *others):
            await ws.close()
