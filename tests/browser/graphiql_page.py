"""GraphiQL in Debian's chromium, driven by playwright: one page, everything it requested, and the
few actions the tests need (sign in, set the operation, run it, read the response)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Request, WebSocket

ROOT = Path(__file__).resolve().parent.parent.parent
# Git-ignored; CI keeps it as an artifact.
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
# Debian's chromium (scripts/install-clients.sh): playwright downloads no browser of its own.
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
TIMEOUT_MS = 10_000

# securitypolicyviolation events, kept where the test can read them.
_WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""
# The Monaco editor of one of GraphiQL's models, by the end of its URI (GraphiQL sets __MONACO).
_EDITOR = "name => globalThis.__MONACO.editor.getEditors().find(e => e.getModel()?.uri.path.endsWith(name))"


@dataclass
class GraphiQLPage:
    page: Page
    context: BrowserContext
    base_url: str
    requests: list[str] = field(default_factory=list)
    websockets: list[WebSocket] = field(default_factory=list)
    # Every message the page sent on its websockets, in order (JSON).
    sent: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @classmethod
    async def open(cls, browser: Browser, base_url: str) -> GraphiQLPage:
        """GraphiQL in a context of its own (GraphiQL keeps its state in local storage)."""
        opened = await cls.open_page(browser, base_url, None)
        # The schema is loaded (introspection answered) before GraphiQL is of any use.
        async with opened.page.expect_response(lambda r: "IntrospectionQuery" in (r.request.post_data or "")):
            await opened.page.goto(f"{base_url}/graphql")
        await opened.page.locator(".graphiql-query-editor .monaco-editor").wait_for()
        return opened

    @classmethod
    async def open_page(cls, browser: Browser, base_url: str, path: str | None) -> GraphiQLPage:
        """A page of ours in a context of its own, watched (requests, websockets, console, CSP);
        at ``path`` unless None."""
        context = await browser.new_context(viewport={"width": 1400, "height": 850})
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        opened = cls(page, context, base_url)
        page.on("request", opened._requested)
        page.on("websocket", opened._opened)
        page.on("console", opened._console)
        page.on("pageerror", lambda error: opened.problems.append(f"page error: {error}"))
        await page.add_init_script(_WATCH_CSP)
        if path is not None:
            await page.goto(f"{base_url}{path}")
        return opened

    def _requested(self, request: Request) -> None:
        self.requests.append(request.url)

    def _opened(self, socket: WebSocket) -> None:
        self.websockets.append(socket)
        socket.on("framesent", self._sent)

    def _sent(self, payload: str | bytes) -> None:
        self.sent.append(json.loads(payload))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    async def close(self) -> None:
        await self.context.close()

    def foreign_requests(self) -> list[str]:
        """Every URL the page asked for (HTTP and websockets) that is not of our origin."""
        ours = urlsplit(self.base_url).netloc
        urls = self.requests + [socket.url for socket in self.websockets]
        return [url for url in urls if urlsplit(url).netloc != ours or not url.startswith(("http", "ws"))]

    async def csp_violations(self) -> list[str]:
        violations: list[str] = await self.page.evaluate("window.__cspViolations")
        return violations

    async def sign_in(self, tenant_slug: str | None, email: str | None, password: str | None) -> str:
        """Fills the sign-in panel (None keeps a field's default), submits it and returns its status."""
        form = self.page.get_by_role("form", name="Sign in")
        for label, value in (("Tenant slug", tenant_slug), ("Email", email), ("Password", password)):
            if value is not None:
                await form.get_by_label(label).fill(value)
        status = form.get_by_role("status")
        await form.get_by_role("button", name="Sign in", exact=True).click()
        await status.filter(has_text=re.compile(r"^(?!Signing in).+")).wait_for()
        return await status.inner_text()

    async def editor_text(self, model: str) -> str:
        text: str = await self.page.evaluate(f"({_EDITOR})({json.dumps(model)}).getValue()")
        return text

    async def headers(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(await self.editor_text("request-headers.json"))
        return parsed

    async def run(self, operation: str) -> None:
        """Puts ``operation`` into the query editor and runs it."""
        await self.page.evaluate(
            f"([model, text]) => ({_EDITOR})(model).setValue(text)", ["operation.graphql", operation]
        )
        await self.page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()

    async def response_containing(self, text: str) -> dict[str, Any]:
        """The response pane's JSON, once it contains ``text``."""
        await self.page.locator(".graphiql-response").filter(has_text=text).wait_for()
        parsed: dict[str, Any] = json.loads(await self.editor_text("response.json"))
        return parsed

    async def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=path)
        return path
