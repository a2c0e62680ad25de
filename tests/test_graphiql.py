"""GraphiQL over HTTP: the page at GET /graphql (ours, no other origin, a strict CSP), its assets
(types, caching, gzip), the setting that turns it on or off, and the licences of the bundle. The
browser itself runs it in tests/browser/."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from server.graphiql import ASSET_DIR, CONTENT_SECURITY_POLICY, IMMUTABLE
from tests.conftest import PRODUCTION_SETTINGS, gql_of_own_app

ROOT = Path(__file__).resolve().parent.parent
HTML = {"Accept": "text/html,application/xhtml+xml"}
# What the page and the bundle name: their own files, relative to the page.
REFERENCE = re.compile(r"""(?:src|href)="(graphiql/[^"]+)\"""")
WORKER = re.compile(r"[a-z]+\.worker-[A-Z0-9]{8}\.js")
FONT = re.compile(r"codicon-[A-Z0-9]{8}\.ttf")


@pytest.fixture(scope="module")
async def production(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with gql_of_own_app(settings.database_url, **PRODUCTION_SETTINGS) as client:
        yield client.http


@pytest.fixture(scope="module")
async def production_with_graphiql(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with gql_of_own_app(settings.database_url, **PRODUCTION_SETTINGS, graphiql=True) as client:
        yield client.http


async def page_assets(http: httpx.AsyncClient) -> dict[str, str]:
    """The script and style the page loads, by suffix (".js", ".css")."""
    page = await http.get("/graphql", headers=HTML)
    assert page.status_code == 200, page.text
    return {Path(path).suffix: "/" + path for path in REFERENCE.findall(page.text)}


async def test_a_browser_gets_our_page_with_nothing_from_elsewhere(http: httpx.AsyncClient) -> None:
    page = await http.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY and "https:" not in CONTENT_SECURITY_POLICY
    assert page.headers["cache-control"] == "no-cache"
    assert "://" not in page.text  # no absolute URL: no CDN, no web font
    assert "<script>" not in page.text  # no inline script (the CSP would refuse it)
    assert 'data-sign-in="true"' in page.text  # development
    assets = REFERENCE.findall(page.text)
    assert sorted(Path(path).suffix for path in assets) == [".css", ".js"], assets


async def test_every_file_the_page_and_bundle_name_is_served(http: httpx.AsyncClient) -> None:
    assets = await page_assets(http)
    script, style = assets[".js"], assets[".css"]
    bundle = await http.get(script)
    assert bundle.status_code == 200
    assert bundle.headers["content-type"] == "text/javascript; charset=utf-8"
    assert bundle.headers["cache-control"] == IMMUTABLE
    assert bundle.headers["x-content-type-options"] == "nosniff"
    css = await http.get(style)
    assert (css.status_code, css.headers["content-type"]) == (200, "text/css; charset=utf-8")
    assert "url(http" not in css.text and "@import" not in css.text  # fonts are inline or ours

    workers = sorted(set(WORKER.findall(bundle.text)))
    assert [name.split(".")[0] for name in workers] == ["editor", "graphql", "json"]
    for name in workers:
        worker = await http.get(f"/graphiql/{name}")
        assert (worker.status_code, worker.headers["content-type"]) == (200, "text/javascript; charset=utf-8")
    (font,) = set(FONT.findall(css.text))
    served = await http.get(f"/graphiql/{font}")
    assert (served.status_code, served.headers["content-type"]) == (200, "font/ttf")
    assert served.content == (ASSET_DIR / font).read_bytes()


async def test_assets_are_gzipped_and_revalidated(http: httpx.AsyncClient) -> None:
    script = (await page_assets(http))[".js"]
    plain = await http.get(script, headers={"Accept-Encoding": "identity"})
    zipped = await http.get(script, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    # Origin too: CORS answers depend on it (tenants list origins of their own).
    assert zipped.headers["vary"] == "Accept-Encoding, Origin"
    assert int(zipped.headers["content-length"]) < len(plain.content) / 2
    assert zipped.content == plain.content  # httpx decoded it
    assert zipped.headers["etag"] != plain.headers["etag"]

    revalidate = {"If-None-Match": plain.headers["etag"], "Accept-Encoding": "identity"}
    again = await http.get(script, headers=revalidate)
    assert (again.status_code, again.content) == (304, b"")
    licences = await http.get("/graphiql/THIRD_PARTY_LICENSES.txt")
    assert licences.headers["cache-control"] == "no-cache"
    assert licences.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    "path", ["/graphiql/app.py", "/graphiql/", "/graphiql/..%2Fgraphiql.py", "/graphiql/x.js"]
)
async def test_anything_else_under_graphiql_is_not_found(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path)
    assert response.status_code == 404


async def test_queries_over_get_still_answer_json(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": "{ __typename }"}, headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["data"] == {"__typename": "Query"}


async def test_production_serves_no_graphiql(production: httpx.AsyncClient) -> None:
    page = await production.get("/graphql", headers=HTML)
    assert page.status_code == 404
    assert "graphiql" not in page.text.lower()
    manifest = json.loads((ASSET_DIR / "manifest.json").read_text())
    assert (await production.get(f"/graphiql/{manifest['script']}")).status_code == 404


async def test_production_serves_graphiql_when_enabled_without_the_sign_in_panel(
    production_with_graphiql: httpx.AsyncClient,
) -> None:
    page = await production_with_graphiql.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert 'data-sign-in="false"' in page.text
    for asset in (await page_assets(production_with_graphiql)).values():
        assert (await production_with_graphiql.get(asset)).status_code == 200


async def test_development_can_turn_graphiql_off(settings: Settings) -> None:
    async with gql_of_own_app(settings.database_url, graphiql=False) as client:
        assert (await client.http.get("/graphql", headers=HTML)).status_code == 404


def test_the_setting_defaults_by_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().graphiql_enabled is True
    assert Settings(production=True).graphiql_enabled is False
    monkeypatch.setenv("TENANTGRAPH_GRAPHIQL", "true")
    assert Settings(production=True).graphiql_enabled is True
    monkeypatch.setenv("TENANTGRAPH_GRAPHIQL", "false")
    assert Settings().graphiql_enabled is False


def test_the_licences_name_every_bundled_package_at_its_locked_version() -> None:
    lock = json.loads((ROOT / "web" / "graphiql" / "package-lock.json").read_text())["packages"]
    licences = (ASSET_DIR / "THIRD_PARTY_LICENSES.txt").read_text()
    for name in ("graphiql", "@graphiql/plugin-explorer", "@graphiql/react", "graphql-ws", "monaco-editor"):
        entry = lock[f"node_modules/{name}"]
        assert f"\n{name} {entry['version']} ({entry['license']})" in licences, name
    assert "GraphQL Contributors" in licences  # GraphiQL's own copyright line
    assert "esbuild" not in licences  # the bundler is not in the bundle
