"""Reading the catalog: keyset pages in every ordering, full-text search and its index, filters,
storefront reads by tenant slug, visibility of DRAFT products, tenant isolation, loaders."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, text

from core.permissions import Role
from core.scope import TenantScope
from models.catalog import Product, ProductStatus
from models.db import create_engine
from server.runtime import Runtime
from services.catalog.search import search_condition
from tests.catalog.conftest import Shop, gid
from tests.harness.servers import PostgresServer
from tests.support.graphql import GraphQLClient, StatementCounter, count_statements

PRODUCTS = """
query Products($filter: ProductFilterInput, $orderBy: ProductOrderInput, $first: Int, $after: String,
               $last: Int, $before: String, $slug: String) {
  products(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last,
           before: $before, tenantSlug: $slug) {
    edges { cursor node { id sku name status price { amount currency } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}
"""

PRODUCT = """
query Product($id: ID!, $slug: String) {
  product(id: $id, tenantSlug: $slug) { id name status category { name } brand { name } }
}
"""


async def products(gql: GraphQLClient, token: str | None = None, **variables: Any) -> dict[str, Any]:
    return (await gql(PRODUCTS, variables, token=token)).ok()["products"]


def names(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["name"] for edge in connection["edges"]]


async def walk(
    gql: GraphQLClient, token: str, order: dict[str, str], size: int
) -> tuple[list[str], list[str]]:
    """Every product page by page forwards (first/after), then backwards from the end (last/before)."""
    forward: list[str] = []
    after = None
    while True:
        page = await products(gql, token, orderBy=order, first=size, after=after)
        forward += names(page)
        assert len(page["edges"]) <= size
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    backward: list[str] = []
    before = None
    while True:
        page = await products(gql, token, orderBy=order, last=size, before=before)
        backward = names(page) + backward
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    return forward, backward


async def test_pages_by_price_and_name_in_both_directions(gql: GraphQLClient, acme: Shop) -> None:
    # Effective prices: sale price if set. Three products cost 300: ties are ordered by id.
    specs = [
        ("Delta", 500, None),
        ("alpha", 900, 200),
        ("Echo", 300, None),
        ("Bravo", 700, None),
        ("Golf", 100, None),
        ("Foxtrot", 300, None),
        ("Charlie", 300, None),
        ("Hotel", 800, None),
    ]
    ids = {name: await acme.product(name, price, sale=sale) for name, price, sale in specs}
    effective = {name: sale if sale is not None else price for name, price, sale in specs}
    by_price = sorted(ids, key=lambda n: (effective[n], ids[n]))
    token = acme.admin.token

    forward, backward = await walk(gql, token, {"field": "PRICE", "direction": "ASC"}, 3)
    assert forward == backward == by_price
    assert forward[0] == "Golf" and forward[1] == "alpha"  # alpha's sale price, not its base price
    forward, backward = await walk(gql, token, {"field": "PRICE", "direction": "DESC"}, 3)
    assert forward == backward == list(reversed(by_price))

    # PostgreSQL's collation orders names case-insensitively here; the database decides.
    async with acme.db.session(TenantScope.of(acme.tenant_id)) as session:
        by_name = list(await session.scalars(select(Product.name).order_by(Product.name, Product.id)))
    forward, backward = await walk(gql, token, {"field": "NAME", "direction": "ASC"}, 3)
    assert forward == backward == by_name
    forward, backward = await walk(gql, token, {"field": "NAME", "direction": "DESC"}, 4)
    assert forward == backward == list(reversed(by_name))

    page = await products(gql, token, orderBy={"field": "PRICE"}, first=2)
    assert page["totalCount"] == 8
    assert [e["node"]["price"] for e in page["edges"]] == [
        {"amount": 100, "currency": "EUR"},
        {"amount": 200, "currency": "EUR"},
    ]
    # Default CREATED_AT ordering is newest first.
    page = await products(gql, token, orderBy={"field": "CREATED_AT"}, first=2)
    assert names(page) == ["Hotel", "Charlie"]


async def test_a_cursor_of_another_ordering_is_bad_input(gql: GraphQLClient, acme: Shop) -> None:
    await acme.product("One", 100)
    await acme.product("Two", 200)
    page = await products(gql, acme.admin.token, orderBy={"field": "NAME"}, first=1)
    cursor = page["pageInfo"]["endCursor"]
    result = await gql(PRODUCTS, {"orderBy": {"field": "PRICE"}, "after": cursor}, token=acme.admin.token)
    assert result.error_codes == ["BAD_USER_INPUT"]
    result = await gql(PRODUCTS, {"first": 101}, token=acme.admin.token)
    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_search_ranks_name_matches_first_and_combines_with_filters(
    gql: GraphQLClient, acme: Shop
) -> None:
    tools = await acme.category("Tools")
    saws = await acme.category("Saws", parent=tools)
    other = await acme.category("Garden")
    makita = await acme.brand("Makita")
    await acme.product("Cordless Drill", 9900, description="A strong tool for any wall.", category=tools)
    await acme.product("Hammer", 1500, description="Pairs well with a cordless drill.", category=tools)
    await acme.product("Drill bits", 900, description="Ten pieces.", category=saws, brand=makita)
    await acme.product("Garden hose", 2500, description="Twenty metres.", category=other)
    await acme.product("Drill press", 50000, status=ProductStatus.DRAFT, category=tools)
    token = acme.admin.token

    ranked = await products(gql, token, filter={"search": "cordless drill", "status": "ACTIVE"})
    # Name match above a description-only match; the garden hose does not match at all.
    assert names(ranked) == ["Cordless Drill", "Hammer"]
    # Stemming: "drills" finds every drill; the DRAFT one only for staff (status filter off).
    assert set(names(await products(gql, token, filter={"search": "drills"}))) == {
        "Cordless Drill",
        "Hammer",
        "Drill bits",
        "Drill press",
    }
    # Filters combine with search: category (with its subcategories), brand, price range.
    in_tools = await products(gql, token, filter={"search": "drill", "categoryId": gid("Category", tools)})
    assert set(names(in_tools)) == {"Cordless Drill", "Hammer", "Drill bits", "Drill press"}
    in_saws = await products(gql, token, filter={"search": "drill", "categoryId": gid("Category", saws)})
    assert names(in_saws) == ["Drill bits"]
    branded = await products(gql, token, filter={"search": "drill", "brandId": gid("Brand", makita)})
    assert names(branded) == ["Drill bits"]
    cheap = await products(gql, token, filter={"search": "drill", "minPrice": 1000, "maxPrice": 10000})
    assert set(names(cheap)) == {"Cordless Drill", "Hammer"}
    assert names(await products(gql, token, filter={"search": "chainsaw"})) == []
    # A category of the wrong type or a malformed id matches nothing.
    assert names(await products(gql, token, filter={"categoryId": gid("Brand", makita)})) == []


async def test_relevance_pages_use_rank_cursors(gql: GraphQLClient, acme: Shop) -> None:
    await acme.product("Lamp", 100, description="lamp lamp lamp: the lamp for lamp lovers")
    await acme.product("Desk lamp", 100, description="with a bulb")
    await acme.product("Bulb", 100, description="fits any lamp")
    await acme.product("Chair", 100)
    token = acme.admin.token
    everything = names(await products(gql, token, filter={"search": "lamp"}))
    assert everything[0] == "Lamp" and everything[-1] == "Bulb" and len(everything) == 3
    seen: list[str] = []
    after = None
    for _ in range(3):
        page = await products(gql, token, filter={"search": "lamp"}, first=1, after=after)
        seen += names(page)
        after = page["pageInfo"]["endCursor"]
    assert seen == everything
    assert page["pageInfo"]["hasNextPage"] is False
    back = await products(gql, token, filter={"search": "lamp"}, last=2, before=None)
    assert names(back) == everything[1:]
    ascending = await products(
        gql, token, filter={"search": "lamp"}, orderBy={"field": "RELEVANCE", "direction": "ASC"}
    )
    assert names(ascending) == list(reversed(everything))


async def test_the_search_condition_can_use_the_gin_index(
    runtime: Runtime, acme: Shop, postgres: PostgresServer
) -> None:
    """The condition matches the index expression. Seen as the superuser: for the application's
    role, row-level security puts its policy before any condition that is not leakproof (this one),
    which therefore filters the tenant's rows instead of using the index."""
    for n in range(30):
        await acme.product(f"Widget {n}", 100 + n, description="A thing")
    statement = select(Product.id).where(search_condition("widget"))
    compiled = statement.compile(runtime.db.engine.sync_engine, compile_kwargs={"literal_binds": True})
    superuser = create_engine(postgres.superuser_url())
    async with superuser.connect() as connection:
        await connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(row[0] for row in await connection.execute(text(f"EXPLAIN {compiled}")))
        await connection.rollback()
    await superuser.dispose()
    async with runtime.db.session(TenantScope.of(acme.tenant_id)) as session:
        found = (await session.execute(statement)).all()
    assert "ix_products_search" in plan, plan
    assert len(found) == 30


async def test_storefront_by_slug_shows_active_products_of_that_tenant_only(
    gql: GraphQLClient, acme: Shop, globex: Shop
) -> None:
    shelf = await acme.category("Shelf")
    brand = await acme.brand("Acme Originals")
    active = await acme.product("Rocket skates", 4000, category=shelf, brand=brand)
    draft = await acme.product("Secret rocket", 9000, status=ProductStatus.DRAFT)
    await acme.product("Old rocket", 100, status=ProductStatus.ARCHIVED)
    foreign = await globex.product("Globex rocket", 500)

    query = """
    query($slug: String) {
      products(tenantSlug: $slug, filter: {search: "rocket"}) {
        totalCount edges { node { id name category { name } brand { name } } }
      }
    }"""
    page = (await gql(query, {"slug": "acme"})).ok()["products"]
    assert page["totalCount"] == 1
    # Relations load in the storefront's tenant (the loaders switched to it).
    assert [e["node"] for e in page["edges"]] == [
        {
            "id": gid("Product", active),
            "name": "Rocket skates",
            "category": {"name": "Shelf"},
            "brand": {"name": "Acme Originals"},
        }
    ]
    # Asking for DRAFT changes nothing for the public.
    drafts = await products(gql, slug="acme", filter={"status": "DRAFT"})
    assert drafts["edges"] == [] and drafts["totalCount"] == 0
    assert names(await products(gql, slug="globex")) == ["Globex rocket"]

    anonymous = await gql(PRODUCT, {"id": gid("Product", active), "slug": "acme"})
    assert anonymous.ok()["product"]["category"] == {"name": "Shelf"}
    for hidden, slug in ((draft, "acme"), (foreign, "acme"), (active, "globex")):
        result = await gql(PRODUCT, {"id": gid("Product", hidden), "slug": slug})
        assert result.error_codes == ["NOT_FOUND"], (hidden, slug)

    assert (await gql(PRODUCTS, {})).error_codes == ["BAD_USER_INPUT"]
    assert (await gql(PRODUCTS, {"slug": "no-such-shop"})).error_codes == ["NOT_FOUND"]
    two_shops = await gql(
        '{ a: products(tenantSlug: "acme") { totalCount } b: products(tenantSlug: "globex") { totalCount } }'
    )
    assert "BAD_USER_INPUT" in two_shops.error_codes
    # Signed-in callers read their own tenant; naming another one is refused.
    user = await acme.account(Role.USER)
    assert names(await products(gql, user.token, slug="acme")) == ["Rocket skates"]
    assert (await gql(PRODUCTS, {"slug": "globex"}, token=user.token)).error_codes == ["BAD_USER_INPUT"]


async def test_draft_products_are_not_found_for_users_and_foreign_ids_for_everyone(
    gql: GraphQLClient, acme: Shop, globex: Shop
) -> None:
    draft = await acme.product("Prototype", 100, status=ProductStatus.DRAFT)
    active = await acme.product("Released", 100)
    user = await acme.account(Role.USER)
    manager = await acme.account(Role.MANAGER)
    support = await acme.account(Role.SUPPORT_AGENT)
    node = "query($id: ID!) { node(id: $id) { id ... on Product { name status } } }"

    for token in (user.token, support.token):
        assert (await gql(PRODUCT, {"id": gid("Product", draft)}, token=token)).error_codes == ["NOT_FOUND"]
        assert (await gql(node, {"id": gid("Product", draft)}, token=token)).error_codes == ["NOT_FOUND"]
        assert names(await products(gql, token, filter={"status": "DRAFT"})) == []
        assert names(await products(gql, token)) == ["Released"]
    seen = (await gql(node, {"id": gid("Product", draft)}, token=manager.token)).ok()["node"]
    assert seen == {"id": gid("Product", draft), "name": "Prototype", "status": "DRAFT"}
    assert names(await products(gql, manager.token, filter={"status": "DRAFT"})) == ["Prototype"]
    assert set(names(await products(gql, manager.token))) == {"Prototype", "Released"}

    # Tenant B's admin: A's product id answers exactly like a random id.
    for product_id in (active, draft, uuid.uuid4()):
        result = await gql(PRODUCT, {"id": gid("Product", product_id)}, token=globex.admin.token)
        assert result.error_codes == ["NOT_FOUND"]
        assert result.errors[0]["message"] == "Product not found."
    assert names(await products(gql, globex.admin.token)) == []

    entities = """
    query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { name } } }"""
    reps = [{"__typename": "Product", "id": str(active)}]
    assert (await gql(entities, {"reps": reps}, token=user.token)).ok()["_entities"] == [{"name": "Released"}]
    foreign = await gql(entities, {"reps": reps}, token=globex.admin.token)
    assert foreign.error_codes == ["NOT_FOUND"]


def request_statements(counter: StatementCounter) -> int:
    """The request's statements: the outbox dispatcher polls the same engine meanwhile."""
    return len([s for s in counter.statements if "outbox_events" not in s])


async def test_list_statements_do_not_grow_with_rows(
    gql: GraphQLClient, acme: Shop, runtime: Runtime
) -> None:
    categories = [await acme.category(f"Category {n}") for n in range(5)]
    brands = [await acme.brand(f"Brand {n}") for n in range(5)]
    for n in range(50):
        await acme.product(f"Product {n:02d}", 100 + n, category=categories[n % 5], brand=brands[n % 4])
    query = """
    query($first: Int) {
      products(first: $first, orderBy: {field: NAME}) {
        edges { node { name category { name parent { name } } brand { name } } }
      }
    }"""
    counts = []
    await gql.warm(acme.admin.token)
    for first in (5, 50):
        with count_statements(runtime.db.engine) as counter:
            page = (await gql(query, {"first": first}, token=acme.admin.token)).ok()["products"]
        assert len(page["edges"]) == first
        assert page["edges"][1]["node"] == {
            "name": "Product 01",
            "category": {"name": "Category 1", "parent": None},
            "brand": {"name": "Brand 1"},
        }
        counts.append(request_statements(counter))
    # products, categories, brands (the session's access state is held in memory)
    assert counts[0] == counts[1] == 3, counts

    anonymous = []
    for first in (5, 50):
        with count_statements(runtime.db.engine) as counter:
            result = await gql(
                query.replace("first: $first,", 'first: $first, tenantSlug: "acme",'), {"first": first}
            )
        assert len(result.ok()["products"]["edges"]) == first
        anonymous.append(request_statements(counter))
    assert anonymous[0] == anonymous[1] == 4, anonymous  # tenant by slug, products, categories, brands


async def test_suggestions_prefer_prefix_matches_and_skip_drafts(gql: GraphQLClient, acme: Shop) -> None:
    await acme.product("Router mini", 100)
    await acme.product("Mesh router", 100)
    await acme.product("ROUTER max", 100)
    await acme.product("Router draft", 100, status=ProductStatus.DRAFT)
    await acme.product("Switch", 100)
    query = """
    query($prefix: String!, $first: Int!, $slug: String) {
      productSuggestions(prefix: $prefix, first: $first, tenantSlug: $slug) { name }
    }"""
    found = (await gql(query, {"prefix": "rou", "first": 10, "slug": "acme"})).ok()["productSuggestions"]
    assert [p["name"] for p in found] == ["ROUTER max", "Router mini", "Mesh router"]
    found = (await gql(query, {"prefix": "rou", "first": 2}, token=acme.admin.token)).ok()[
        "productSuggestions"
    ]
    assert [p["name"] for p in found] == ["ROUTER max", "Router mini"]
    assert (await gql(query, {"prefix": "  ", "first": 5, "slug": "acme"})).ok()["productSuggestions"] == []
    too_many = await gql(query, {"prefix": "r", "first": 11, "slug": "acme"})
    assert too_many.error_codes == ["BAD_USER_INPUT"]


async def test_category_tree_and_brand_lists(gql: GraphQLClient, acme: Shop, globex: Shop) -> None:
    root = await acme.category("Computers")
    laptops = await acme.category("Laptops", parent=root)
    await acme.category("Desktops", parent=root)
    await acme.category("Gaming", parent=laptops)
    await acme.category("Hidden", active=False)
    await acme.brand("Zeta")
    await acme.brand("Alpha")
    await globex.category("Globex only")
    query = """
    query($slug: String, $filter: CategoryFilterInput) {
      categories(tenantSlug: $slug, filter: $filter) {
        totalCount
        nodes { name parent { name } children { name children { name } } }
      }
      brands(tenantSlug: $slug) { nodes { name } }
    }"""
    data = (await gql(query, {"slug": "acme", "filter": {"rootsOnly": True}})).ok()
    assert data["categories"]["nodes"] == [
        {
            "name": "Computers",
            "parent": None,
            "children": [
                {"name": "Desktops", "children": []},
                {"name": "Laptops", "children": [{"name": "Gaming"}]},
            ],
        }
    ]
    assert [b["name"] for b in data["brands"]["nodes"]] == ["Alpha", "Zeta"]
    every = (await gql(query, {}, token=acme.admin.token)).ok()["categories"]
    assert every["totalCount"] == 5  # staff also see the inactive one
    children = (await gql(query, {"slug": "acme", "filter": {"parentId": gid("Category", laptops)}})).ok()
    assert children["categories"]["nodes"][0]["name"] == "Gaming"
    assert children["categories"]["nodes"][0]["parent"] == {"name": "Laptops"}
