"""Web Push against a local push service speaking the real protocol (tests/support/web_push.py):
browsers register and unregister subscriptions (validated: https only unless allowed), a
notification queues one delivery per browser in its own transaction, the worker sends it after
commit with a VAPID header the service verifies and an aes128gcm body it decrypts with the
browser's keys; a 410 removes the subscription; the WEB_PUSH preference is respected."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid02
from sqlalchemy import func, select

from core.errors import InvalidInput
from core.settings import Settings
from models.notifications import PushDelivery, PushStatus, PushSubscription
from server.runtime import Runtime
from services.notifications.push import NewSubscription, checked_subscription, public_key, send_pushes_once
from tests.notifications.conftest import ALL, Shop
from tests.notifications.test_inbox import give
from tests.support.identity import Account
from tests.support.web_push import FakePushService, b64url

REGISTER = """
mutation($input: RegisterPushSubscriptionInput!) {
  registerPushSubscription(input: $input) { subscription { endpoint createdAt } userErrors { field code } }
}
"""
UNREGISTER = """
mutation($input: UnregisterPushSubscriptionInput!) {
  unregisterPushSubscription(input: $input) { removed userErrors { code } }
}
"""
PREFERENCES = """
mutation($input: UpdateNotificationPreferencesInput!) {
  updateNotificationPreferences(input: $input) { userErrors { code } }
}
"""


@pytest.fixture(scope="module")
def push_service() -> Iterator[FakePushService]:
    service = FakePushService()
    service.start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def vapid() -> Vapid02:
    key = Vapid02()
    key.generate_keys()
    return key


def with_vapid(runtime: Runtime, vapid: Vapid02) -> Settings:
    raw = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    return runtime.settings.model_copy(update={"web_push_vapid_private_key": b64url(raw)})


async def register(shop: Shop, account: Account, subscription: dict[str, str]) -> dict[str, Any]:
    result = await shop.gql(REGISTER, {"input": subscription}, token=account.token)
    payload: dict[str, Any] = result.ok()["registerPushSubscription"]
    return payload


async def deliveries(runtime: Runtime) -> list[PushDelivery]:
    async with runtime.db.session(ALL) as session:
        return list(await session.scalars(select(PushDelivery).order_by(PushDelivery.created_at)))


async def test_a_notification_reaches_every_browser_encrypted_and_signed(
    shop: Shop, push_service: FakePushService, vapid: Vapid02
) -> None:
    alice, bob = await shop.account(), await shop.account()
    laptop, phone, elsewhere = push_service.browser(), push_service.browser(), push_service.browser()
    for browser in (laptop, phone):
        registered = await register(shop, alice, browser.subscription)
        assert registered["userErrors"] == [] and registered["subscription"]["endpoint"] == browser.endpoint
    assert (await register(shop, bob, elsewhere.subscription))["userErrors"] == []
    # Registering again renews, it does not add.
    assert (await register(shop, alice, laptop.subscription))["userErrors"] == []
    await give(shop, alice, 1)
    queued = await deliveries(shop.runtime)
    assert [d.status for d in queued] == [PushStatus.QUEUED] * 2  # nothing is sent inside the transaction
    settings = with_vapid(shop.runtime, vapid)
    assert await send_pushes_once(shop.runtime.db, settings) == 2
    assert push_service.refused == []
    got = {r.token: r for r in push_service.received}
    assert set(got) == {laptop.token, phone.token}  # not bob's browser
    message = got[laptop.token]
    assert message.payload == {
        "type": "TICKET_ASSIGNED",
        "title": "Ticket #0 was assigned to you",
        "body": "Ticket 0",
        "link": message.payload["link"],
    }
    assert message.payload["link"].startswith("/tickets/")
    point = vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    assert message.vapid_key == b64url(point) == public_key(settings)
    assert message.claims["aud"] == push_service.origin and message.claims["sub"].startswith("mailto:")
    assert {d.status for d in await deliveries(shop.runtime)} == {PushStatus.SENT}
    assert await send_pushes_once(shop.runtime.db, settings) == 0  # each is sent once


async def test_gone_subscriptions_are_removed_and_preferences_apply(
    shop: Shop, push_service: FakePushService, vapid: Vapid02
) -> None:
    alice = await shop.account()
    browser = push_service.browser()
    assert (await register(shop, alice, browser.subscription))["userErrors"] == []
    changes = [{"type": "TICKET_ASSIGNED", "channel": "WEB_PUSH", "enabled": False}]
    await shop.gql(PREFERENCES, {"input": {"preferences": changes}}, token=alice.token)
    await give(shop, alice, 1)
    assert await deliveries(shop.runtime) == []  # push turned off for this type
    changes[0]["enabled"] = True
    await shop.gql(PREFERENCES, {"input": {"preferences": changes}}, token=alice.token)
    await give(shop, alice, 1)
    push_service.gone.add(browser.token)
    before = len(push_service.received)
    assert await send_pushes_once(shop.runtime.db, with_vapid(shop.runtime, vapid)) == 1
    assert len(push_service.received) == before
    async with shop.runtime.db.session(ALL) as session:
        assert await session.scalar(select(func.count()).select_from(PushSubscription)) == 0
    assert await deliveries(shop.runtime) == []


async def test_register_validates_and_unregister_removes(shop: Shop, push_service: FakePushService) -> None:
    alice = await shop.account()
    browser = push_service.browser()
    good = browser.subscription

    async def codes(**change: str) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = (await register(shop, alice, good | change))["userErrors"]
        return errors

    assert await codes(endpoint="ftp://push.example/x") == [
        {"field": ["input", "endpoint"], "code": "INVALID_SUBSCRIPTION"}
    ]
    assert await codes(p256dh=b64url(b"\x04" + b"x" * 10)) == [
        {"field": ["input", "p256dh"], "code": "INVALID_SUBSCRIPTION"}
    ]
    assert await codes(auth="c2hvcnQ") == [{"field": ["input", "auth"], "code": "INVALID_SUBSCRIPTION"}]
    # https only, unless web_push_allow_http (the tests' setting).
    production = Settings(web_push_allow_http=False)
    with pytest.raises(InvalidInput):
        checked_subscription(production, NewSubscription(good["endpoint"], good["p256dh"], good["auth"]))
    https = checked_subscription(
        production, NewSubscription("https://push.example/x", good["p256dh"], good["auth"])
    )
    assert https.endpoint == "https://push.example/x"
    assert (await register(shop, alice, good))["userErrors"] == []
    removed = await shop.gql(UNREGISTER, {"input": {"endpoint": good["endpoint"]}}, token=alice.token)
    assert removed.ok()["unregisterPushSubscription"] == {"removed": True, "userErrors": []}
    again = await shop.gql(UNREGISTER, {"input": {"endpoint": good["endpoint"]}}, token=alice.token)
    assert again.ok()["unregisterPushSubscription"]["removed"] is False
    assert (await shop.gql("{ webPushPublicKey }", token=alice.token)).ok() == {"webPushPublicKey": None}
