"""`/`: an HTML page saying what this server is in development (nothing loaded from elsewhere), a
small JSON answer in production; `/schema.graphql`, the running schema's SDL, in development only."""

from __future__ import annotations

import re

import httpx
from starlette.applications import Starlette

from core.settings import Settings
from demo import DEMO_PASSWORD
from subgraph.build import build_schema
from tests.conftest import PRODUCTION_SETTINGS, gql_of_own_app

# Every URL the page points to or loads: attributes and CSS url(...).
_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']([^"']*)["']|url\(\s*["']?([^"')]*)""", re.IGNORECASE)


async def test_development_landing_page(http: httpx.AsyncClient) -> None:
    response = await http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert "<title>tenantgraph 0.1.0</title>" in page
    urls = [href or css for href, css in _URL.findall(page)]
    # Only our own paths (and the empty data: favicon, so the browser asks nobody for one).
    assert urls == ["data:,", "/graphql", "/demo", "/readyz", "/health/deep", "/metrics", "/schema.graphql"]
    assert "//" not in page.replace("<!doctype html>", "")  # no scheme-relative or absolute URL at all
    assert f"<code>{DEMO_PASSWORD}</code>" in page
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page)
    assert rows == [
        ("platform", "admin@platform.example", "PLATFORM_ADMIN"),
        ("acme", "admin@acme.example", "TENANT_ADMIN"),
        ("acme", "manager@acme.example", "MANAGER"),
        ("acme", "user@acme.example", "USER"),
        ("acme", "seller@acme.example", "USER"),
        ("globex", "admin@globex.example", "TENANT_ADMIN"),
        ("globex", "manager@globex.example", "MANAGER"),
        ("globex", "user@globex.example", "USER"),
        ("globex", "seller@globex.example", "USER"),
        ("acme", "mfa@acme.example", "USER"),
    ]


async def test_schema_download_is_the_running_schema(
    http: httpx.AsyncClient, app: Starlette, settings: Settings
) -> None:
    response = await http.get("/schema.graphql")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-disposition"] == 'inline; filename="schema.graphql"'
    assert response.text == build_schema(settings).as_str() + "\n"
    assert "type Query" in response.text


async def test_production_answers_json_and_serves_no_schema(settings: Settings) -> None:
    async with gql_of_own_app(settings.database_url, **PRODUCTION_SETTINGS) as gql:
        landing = await gql.http.get("/")
        schema = await gql.http.get("/schema.graphql")
    assert landing.status_code == 200
    assert landing.json() == {
        "name": "tenantgraph",
        "version": "0.1.0",
        "links": {"graphql": "/graphql", "readiness": "/readyz"},
    }
    assert schema.status_code == 404
