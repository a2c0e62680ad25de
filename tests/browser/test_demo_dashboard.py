"""The live demo dashboard (/demo) in real headless chromium against a real server process (its
in-server workers starting and running provisioning on the simulated provider): it signs in as the
demo user, starts a provisioning run whose bar reaches 100 % as provisioningUpdates arrive over
graphql-transport-ws and whose "ready" notification then shows in the feed with the unread count,
shows an order's status change as it happens, loads nothing from another
origin and breaks no CSP rule. Its last state is the README's screenshot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser

from core.settings import Settings
from demo import DEMO_PASSWORD, seed_demo
from server.runtime import Runtime
from tests.browser.graphiql_page import GraphiQLPage
from tests.conftest import TEST_SIGNING_KEY
from tests.support.live_server import LiveServer, server_env

PRODUCT = "{ products(first: 100) { nodes { id sku } } }"
PLACE = """mutation($input: CreateOrderInput!) {
  createOrder(input: $input) { order { id number } userErrors { code } } }"""
SUBMIT = """mutation($input: OrderTransitionInput!) {
  submitOrder(input: $input) { order { status } userErrors { code } } }"""
RUN_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
async def dashboard_server(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    env = server_env(
        settings.database_url,
        settings.broadcast_url,
        TEST_SIGNING_KEY,
        TENANTGRAPH_PROVISIONING_AUTO_START="true",
        TENANTGRAPH_PROVISIONING_POLL_SECONDS="0.2",
        TENANTGRAPH_PROVISIONING_STEP_SECONDS="0.4",
    )
    live = LiveServer("demo-dashboard", tmp_path_factory.mktemp("demo-server"), env)
    live.spawn()
    try:
        await live.wait_healthy()
        yield live
    finally:
        await live.stop_async()


async def _as_demo_user(server: LiveServer, query: str, variables: dict[str, object] | None = None) -> dict:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        login = await client.post(
            "/graphql",
            json={
                "query": "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
                "variables": {
                    "input": {"tenantSlug": "acme", "email": "user@acme.example", "password": DEMO_PASSWORD}
                },
            },
        )
        token = login.json()["data"]["login"]["accessToken"]
        answer = await client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
    body: dict = answer.json()
    assert "errors" not in body, body
    return body["data"]


async def test_the_dashboard_runs_a_provisioning_to_100_percent_live(
    browser: Browser, dashboard_server: LiveServer, runtime: Runtime
) -> None:
    await seed_demo(runtime.db)
    page = await GraphiQLPage.open_page(browser, dashboard_server.base_url, "/demo")
    try:
        await page.page.locator("#connection[data-kind=live]").wait_for()
        assert await page.page.locator("#whoami").text_content() == "user@acme.example"
        # The demo user's seeded request is listed and running.
        seeded = page.page.locator(".run").first
        assert await seeded.locator(".name").text_content() == "Managed PostgreSQL"
        start = page.page.get_by_role("button", name="Start a provisioning run")
        await start.click()
        runs = page.page.locator(".run")
        await runs.nth(1).wait_for()
        assert await runs.count() == 2
        newest = runs.first
        assert (await newest.get_attribute("data-status")) in ("PENDING", "RUNNING")
        # The workers start and run it; each step arrives over the websocket and moves the bar.
        await newest.locator(".percent", has_text="100 %").wait_for(timeout=RUN_TIMEOUT_MS)
        assert await newest.get_attribute("data-status") == "ACTIVE"
        assert await newest.locator(".percent").text_content() == "100 %"
        # Its ACTIVE made a notification in the worker's transaction: the feed and the count show it.
        ready = page.page.locator(".note[data-unread=true]", has_text="Your service is ready")
        await ready.first.wait_for(timeout=RUN_TIMEOUT_MS)
        # The count follows over its own subscription: it comes to the unread notes listed (the
        # demo user's are fewer than the ten the page loads).
        counts: tuple[int, int] = (0, -1)
        for _ in range(100):
            shown = await page.page.locator(".note[data-unread=true]").count()
            counts = (int(await page.page.locator("#unread").text_content() or "0"), shown)
            if counts[0] == counts[1]:
                break
            await asyncio.sleep(0.1)
        assert counts[0] == counts[1] >= 1, counts
        # An order status change shows as it happens.
        products = (await _as_demo_user(dashboard_server, PRODUCT))["products"]["nodes"]
        service = next(p["id"] for p in products if p["sku"] == "SV-MANAGED-DB")
        line = {"productId": service, "quantity": 1}
        placed = await _as_demo_user(dashboard_server, PLACE, {"input": {"items": [line]}})
        order = placed["createOrder"]["order"]
        await _as_demo_user(dashboard_server, SUBMIT, {"input": {"id": order["id"]}})
        change = page.page.locator(
            ".order-change", has_text=f"order {order['number']}: PENDING -> AWAITING_PAYMENT"
        )
        await change.wait_for(timeout=RUN_TIMEOUT_MS)
        # Nothing from elsewhere, no CSP violation, no script error.
        assert page.foreign_requests() == []
        assert await page.csp_violations() == []
        assert page.problems == []
        # Four subscriptions on one graphql-transport-ws connection, authenticated in connection_init.
        kinds = [message.get("type") for message in page.sent]
        assert kinds.count("subscribe") == 4 and kinds[0] == "connection_init"
        assert page.sent[0]["payload"]["Authorization"].startswith("Bearer ")
    finally:
        await page.screenshot("demo-dashboard")
        await page.close()
