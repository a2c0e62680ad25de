"""The demo dashboard's page and assets over HTTP: served in development with the same strict CSP as
GraphiQL and its bundle (graphql-ws inside, licences beside it); absent in production and when
switched off. tests/browser/test_demo_dashboard.py runs it in chromium."""

from __future__ import annotations

import re

import httpx

from core.settings import Settings
from demo import DEMO_PASSWORD
from server.graphiql import CONTENT_SECURITY_POLICY
from tests.conftest import PRODUCTION_SETTINGS, gql_of_own_app

REFERENCE = re.compile(r"""(?:src|href)="(demo/[^"]+)\"""")


async def test_the_page_and_its_bundle_are_served_in_development(http: httpx.AsyncClient) -> None:
    page = await http.get("/demo")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert sorted(REFERENCE.findall(page.text)) == ["demo/dashboard.css", "demo/dashboard.js"]
    assert f'data-password="{DEMO_PASSWORD}"' in page.text and 'data-email="user@acme.example"' in page.text
    script = await http.get("/demo/dashboard.js", headers={"Accept-Encoding": "gzip"})
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert script.headers["content-encoding"] == "gzip"
    assert "graphql-transport-ws" in script.text and "provisioningUpdates" in script.text
    assert "http://" not in script.text.replace("http://www.w3.org", "") and "https://" not in script.text
    again = {"Accept-Encoding": "gzip", "If-None-Match": script.headers["etag"]}
    assert (await http.get("/demo/dashboard.js", headers=again)).status_code == 304
    licences = await http.get("/demo/THIRD_PARTY_LICENSES.txt")
    assert "graphql-ws 6.0.8 (MIT)" in licences.text
    assert (await http.get("/demo/nothing.js")).status_code == 404


async def test_production_and_a_switched_off_dashboard_serve_nothing(settings: Settings) -> None:
    for overrides in (PRODUCTION_SETTINGS, {"demo_dashboard": False}):
        async with gql_of_own_app(settings.database_url, **overrides) as client:
            assert (await client.http.get("/demo")).status_code == 404
            assert (await client.http.get("/demo/dashboard.js")).status_code == 404
