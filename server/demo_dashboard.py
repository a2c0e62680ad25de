"""The live demo dashboard at GET /demo (development only: Settings.demo_dashboard_enabled): a plain
page whose script (web/demo/src/dashboard.js, bundled with graphql-ws into server/static/demo/ by
web/build.sh demo) signs in as the demo user, shows their provisioning requests as progress bars
that move, their orders' status changes as they happen and their notifications with the unread
count. It carries the demo user's password,
which the README prints anyway; production never serves it."""

from __future__ import annotations

from functools import cache
from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from core.settings import ConfigurationError, Settings
from demo import DEMO_PASSWORD, DEMO_TENANTS
from server.graphiql import PAGE_HEADERS, asset_response, assets

DEMO_DIR = Path(__file__).resolve().parent / "static" / "demo"
DEMO_PATH = "/demo"
DEMO_TENANT = DEMO_TENANTS[0][0]
DEMO_EMAIL = f"user@{DEMO_TENANT}.example"


@cache
def page_html() -> str:
    # Relative URLs: the page works behind a proxy that serves us under a path prefix too.
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tenantgraph · live demo</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="demo/dashboard.css">
<script type="module" src="demo/dashboard.js"></script>
</head>
<body>
<main data-tenant="{escape(DEMO_TENANT)}" data-email="{escape(DEMO_EMAIL)}"
 data-password="{escape(DEMO_PASSWORD)}">
<header>
<h1>tenantgraph live demo</h1>
<p>Signed in as <strong id="whoami">…</strong> ·
<span id="connection" data-kind="pending">loading …</span></p>
</header>
<section>
<h2>Provisioning</h2>
<button id="start" type="button" disabled>Start a provisioning run</button>
<ul id="runs"></ul>
</section>
<section>
<h2>Order status changes</h2>
<ul id="orders"></ul>
</section>
<section>
<h2>Notifications <span id="unread" title="unread">0</span></h2>
<ul id="notifications"></ul>
</section>
<noscript>The dashboard needs JavaScript.</noscript>
</main>
</body>
</html>
"""


async def demo_page(_request: Request) -> HTMLResponse:
    return HTMLResponse(page_html(), headers=PAGE_HEADERS)


async def demo_asset(request: Request) -> Response:
    return await asset_response(request, DEMO_DIR)


def demo_routes(settings: Settings) -> list[BaseRoute]:
    """The page and its assets, when the dashboard is on; the assets are read now, once per process."""
    if not settings.demo_dashboard_enabled:
        return []
    if "dashboard.js" not in assets(DEMO_DIR):
        raise ConfigurationError(
            f"The demo dashboard's assets are missing from {DEMO_DIR}: run web/build.sh demo, "
            "or set TENANTGRAPH_DEMO_DASHBOARD=false"
        )
    return [
        Route(DEMO_PATH, demo_page, methods=["GET"]),
        Route(DEMO_PATH + "/{name}", demo_asset, methods=["GET"]),
    ]
