"""Browser tests: one chromium per module, one tenantgraph server process per module (on the
session's PostgreSQL and Redis), a fresh page per test whose last state is saved as a screenshot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

from core.settings import Settings
from tests.browser.graphiql_page import CHROMIUM, GraphiQLPage
from tests.conftest import TEST_SIGNING_KEY
from tests.support.live_server import LiveServer, server_env


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        # --no-sandbox: the tests may run as root (CI containers), where chromium's sandbox cannot.
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture(scope="module")
async def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    env = server_env(settings.database_url, settings.broadcast_url, TEST_SIGNING_KEY)
    live = LiveServer("graphiql", tmp_path_factory.mktemp("graphiql-server"), env)
    live.spawn()
    try:
        await live.wait_healthy()
        yield live
    finally:
        await live.stop_async()


@pytest.fixture
async def graphiql(
    browser: Browser, server: LiveServer, request: pytest.FixtureRequest
) -> AsyncIterator[GraphiQLPage]:
    page = await GraphiQLPage.open(browser, server.base_url)
    try:
        yield page
    finally:
        await page.screenshot(request.node.name)
        await page.close()
