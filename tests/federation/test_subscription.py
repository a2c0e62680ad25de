"""A subscription through Hive Gateway over graphql-transport-ws: the client's token, given in
`connectionParams`, reaches our server twice: in the connection_init of the websocket the gateway
opens to us, and with the follow-up `_entities` fetches that resolve each event's fields (ours ->
the partner's -> ours), so that each caller gets the event as they may see it."""

from __future__ import annotations

import pytest

from core.settings import Settings
from realtime.stream import channel_name
from services.orders.states import ORDER_STATUS_CHANGED
from tests.federation.conftest import Catalog, Gateway
from tests.orders.conftest import line, uuid_of
from tests.support.live_server import TransportWsClient, wait_listening

ORDER_EVENTS = """
subscription {
  orderStatusChanged {
    to
    order { number items { product { name ratingSummary { count } alsoRated { name status } } } }
  }
}
"""
TIMEOUT = 15.0


@pytest.mark.parametrize("gateway", ["hive"], indirect=True)
async def test_order_events_through_hive_gateway_as_each_caller(
    gateway: Gateway, catalog: Catalog, settings: Settings
) -> None:
    staff = await TransportWsClient.connected(gateway.ws_url, catalog.manager.token)
    shopper = await TransportWsClient.connected(gateway.ws_url, catalog.user.token)
    try:
        await staff.subscribe(ORDER_EVENTS)
        await shopper.subscribe(ORDER_EVENTS)
        await wait_listening(
            settings.broadcast_url, channel_name(ORDER_STATUS_CHANGED, catalog.shop.tenant_id)
        )

        order = await catalog.shop.place(catalog.user, line(uuid_of(catalog.router), 1))

        # The manager sees the DRAFT prototype the partner names: their token reached our `_entities`.
        event = (await staff.next_data("1", TIMEOUT))["orderStatusChanged"]
        assert event == {
            "to": "PENDING",
            "order": {
                "number": order["number"],
                "items": [
                    {
                        "product": {
                            "name": "Router",
                            "ratingSummary": {"count": 2},
                            "alsoRated": [
                                {"name": "Switch", "status": "ACTIVE"},
                                {"name": "Prototype", "status": "DRAFT"},
                            ],
                        }
                    }
                ],
            },
        }
        # The shopper's own order reaches them as theirs; the prototype is NOT_FOUND for them.
        message = await shopper.receive(TIMEOUT)
        assert message["type"] == "next", message
        payload = message["payload"]
        assert [e["extensions"]["code"] for e in payload["errors"]] == ["NOT_FOUND"], payload
        assert payload["errors"][0]["path"][:2] == ["orderStatusChanged", "order"], payload
    finally:
        await staff.close()
        await shopper.close()
