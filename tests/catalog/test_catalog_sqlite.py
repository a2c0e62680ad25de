"""Smoke test of the catalog on the embedded default (SQLite): the demo catalog seeds idempotently
and an anonymous storefront searches it with the LIKE fallback, ordered by name."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from core.scope import TenantScope
from demo import DEMO_TENANTS
from demo.catalog import seed_demo_catalog
from models.db import Database
from models.identity.accounts import TenantKind
from server.app import create_app
from server.cli import migrate
from services.identity.bootstrap import ensure_tenant
from tests.conftest import make_settings
from tests.support.graphql import GraphQLClient


@pytest.fixture(scope="module")
def sqlite_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("catalog-sqlite") / "catalog.db"
    migrate(make_settings(f"sqlite+aiosqlite:///{path}", "memory://"))
    return path


@pytest.fixture(scope="module")
async def sqlite_app(sqlite_path: Path) -> AsyncIterator[Starlette]:
    url = f"sqlite+aiosqlite:///{sqlite_path}"
    db = Database(url)
    for _ in range(2):  # the demo catalog is re-runnable: the second run adds nothing
        async with db.transaction(TenantScope.all_tenants()) as session:
            for slug, name, kind in DEMO_TENANTS:
                tenant = await ensure_tenant(session, slug, name, TenantKind(kind))
                await seed_demo_catalog(session, tenant)
    await db.dispose()
    application = create_app(make_settings(url, "memory://", outbox_poll_seconds=0.1))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def storefront(sqlite_app: Starlette) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=sqlite_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield GraphQLClient(client)


SEARCH = """
query($slug: String!, $search: String, $after: String, $first: Int) {
  products(tenantSlug: $slug, filter: {search: $search}, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { name sku status price { amount currency } category { name parent { name } } brand { name } }
  }
}"""


async def search(gql: GraphQLClient, slug: str, text: str | None, **more: Any) -> dict[str, Any]:
    return (await gql(SEARCH, {"slug": slug, "search": text, **more})).ok()["products"]


async def test_demo_catalog_is_seeded_once_per_tenant(sqlite_path: Path, sqlite_app: Starlette) -> None:
    with sqlite3.connect(sqlite_path) as db:
        per_tenant = db.execute(
            "select t.slug, count(*), sum(p.status = 'DRAFT') from products p"
            " join tenants t on t.id = p.tenant_id group by t.slug order by t.slug"
        ).fetchall()
        categories = db.execute("select count(*) from categories").fetchone()
        brands = db.execute("select count(*) from brands").fetchone()
    assert per_tenant == [("acme", 7, 1), ("globex", 7, 1)]
    assert categories == (8,) and brands == (4,)


async def test_storefront_search_falls_back_to_like_ordered_by_name(storefront: GraphQLClient) -> None:
    found = await search(storefront, "acme", "PASS")
    # Case-insensitive, in name or description; ordered by name.
    assert [p["name"] for p in found["nodes"]] == ["Hardware Security Key", "Vault Password Manager"]
    assert found["nodes"][1]["category"] == {"name": "Security software", "parent": {"name": "Software"}}
    assert found["nodes"][1]["brand"] == {"name": "Acme Corporation Labs"}
    # The DRAFT product matching "firewall" stays hidden from the public.
    assert [p["sku"] for p in (await search(storefront, "acme", "firewall"))["nodes"]] == ["SW-SHIELD"]
    # LIKE wildcards in the search are plain characters.
    assert (await search(storefront, "acme", "%"))["nodes"] == []

    everything = await search(storefront, "globex", None)
    assert everything["totalCount"] == 6
    assert {p["status"] for p in everything["nodes"]} == {"ACTIVE"}
    assert {p["brand"]["name"] for p in everything["nodes"]} == {
        "Globex Resellers Labs",
        "Globex Resellers Works",
    }

    # Keyset pages over the name fallback.
    names: list[str] = []
    after = None
    while True:
        page = await search(storefront, "acme", "e", first=2, after=after)
        names += [p["name"] for p in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert names == sorted(names) and len(names) == page["totalCount"] == 6
