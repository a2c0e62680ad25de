"""Writing the catalog: products (validation as userErrors with field paths, SKU conflicts, archive,
delete only when never ordered), the category tree (no cycles) and brands; who may write."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from core.permissions import Role
from core.scope import TenantScope
from models.catalog import Category, Product, ProductStatus
from models.orders import OrderStatus
from services.money import MAX_AMOUNT
from tests.catalog.conftest import Shop, gid, raw_id
from tests.support.graphql import GraphQLClient

PRODUCT_FIELDS = """
  id sku name description status stockQuantity inStock attributes imageUrls averageRating reviewCount
  basePrice { amount currency } salePrice { amount currency } price { amount currency }
  category { name } brand { name }
"""
CREATE = f"""
mutation($input: CreateProductInput!) {{
  createProduct(input: $input) {{ product {{ {PRODUCT_FIELDS} }} userErrors {{ field code message }} }}
}}"""
UPDATE = f"""
mutation($input: UpdateProductInput!) {{
  updateProduct(input: $input) {{ product {{ {PRODUCT_FIELDS} }} userErrors {{ field code message }} }}
}}"""
ARCHIVE = """
mutation($id: ID!) { archiveProduct(input: {id: $id}) { product { status } userErrors { code } } }"""
DELETE = """
mutation($id: ID!) {
  deleteProduct(input: {id: $id}) { deletedProductId userErrors { field code message } }
}"""


def eur(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR"}


def product_input(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"sku": "tool-1", "name": "Tool", "basePrice": eur(1000)}
    values.update(overrides)
    return values


async def create(gql: GraphQLClient, token: str, **overrides: Any) -> dict[str, Any]:
    return (await gql(CREATE, {"input": product_input(**overrides)}, token=token)).ok()["createProduct"]


def codes(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def test_create_and_update_a_product(gql: GraphQLClient, acme: Shop) -> None:
    category = await acme.category("Tools")
    brand = await acme.brand("Bosch")
    token = acme.admin.token
    created = await create(
        gql,
        token,
        sku=" ab-12.x ",
        name=" Drill ",
        description="Drills holes.",
        categoryId=gid("Category", category),
        brandId=gid("Brand", brand),
        basePrice=eur(12_000),
        salePrice=eur(9_900),
        stockQuantity=3,
        attributes={"voltage": 18, "colours": ["green"]},
        imageUrls=["https://img.example/drill.png"],
    )
    assert created["userErrors"] == []
    product = created["product"]
    assert product == {
        "id": product["id"],
        "sku": "AB-12.X",
        "name": "Drill",
        "description": "Drills holes.",
        "status": "DRAFT",
        "stockQuantity": 3,
        "inStock": True,
        "attributes": {"voltage": 18, "colours": ["green"]},
        "imageUrls": ["https://img.example/drill.png"],
        "averageRating": None,
        "reviewCount": 0,
        "basePrice": eur(12_000),
        "salePrice": eur(9_900),
        "price": eur(9_900),
        "category": {"name": "Tools"},
        "brand": {"name": "Bosch"},
    }
    # Omitted fields stay; null clears an optional one.
    updated = (
        await gql(
            UPDATE,
            {
                "input": {
                    "id": product["id"],
                    "salePrice": None,
                    "brandId": None,
                    "status": "ACTIVE",
                    "stockQuantity": 0,
                }
            },
            token=token,
        )
    ).ok()["updateProduct"]
    assert updated["userErrors"] == []
    assert {
        k: updated["product"][k] for k in ("salePrice", "price", "brand", "status", "inStock", "name")
    } == {
        "salePrice": None,
        "price": eur(12_000),
        "brand": None,
        "status": "ACTIVE",
        "inStock": False,
        "name": "Drill",
    }
    archived = (await gql(ARCHIVE, {"id": product["id"]}, token=token)).ok()["archiveProduct"]
    assert archived == {"product": {"status": "ARCHIVED"}, "userErrors": []}
    async with acme.db.session(TenantScope.of(acme.tenant_id)) as session:
        stored = await session.get(Product, raw_id(product["id"]))
    assert stored is not None and stored.status == ProductStatus.ARCHIVED and stored.sale_price is None


async def test_invalid_input_is_reported_field_by_field(gql: GraphQLClient, acme: Shop, globex: Shop) -> None:
    token = acme.admin.token
    foreign_category = await globex.category("Theirs")
    foreign_brand = await globex.brand("Theirs")
    cases: list[tuple[dict[str, Any], list[tuple[list[str] | None, str]]]] = [
        ({"sku": "no spaces"}, [(["input", "sku"], "INVALID_SKU")]),
        ({"sku": "-dash-first"}, [(["input", "sku"], "INVALID_SKU")]),
        ({"name": "   "}, [(["input", "name"], "REQUIRED")]),
        ({"basePrice": eur(-1)}, [(["input", "basePrice", "amount"], "INVALID_AMOUNT")]),
        ({"basePrice": eur(MAX_AMOUNT + 1)}, [(["input", "basePrice", "amount"], "INVALID_AMOUNT")]),
        (
            {"basePrice": {"amount": 100, "currency": "euro"}},
            [(["input", "basePrice", "currency"], "INVALID_CURRENCY")],
        ),
        ({"salePrice": eur(1001)}, [(["input", "salePrice", "amount"], "SALE_ABOVE_BASE")]),
        (
            {"salePrice": {"amount": 500, "currency": "USD"}},
            [(["input", "salePrice", "currency"], "CURRENCY_MISMATCH")],
        ),
        ({"categoryId": gid("Category", foreign_category)}, [(["input", "categoryId"], "NOT_FOUND")]),
        ({"brandId": gid("Brand", foreign_brand)}, [(["input", "brandId"], "NOT_FOUND")]),
        ({"brandId": gid("Brand", uuid.uuid4())}, [(["input", "brandId"], "NOT_FOUND")]),
        ({"categoryId": gid("Brand", foreign_brand)}, [(["input", "categoryId"], "NOT_FOUND")]),
        (
            {"imageUrls": ["https://ok.example/a.png", "javascript:alert(1)", "http://"]},
            [(["input", "imageUrls", "1"], "INVALID_URL"), (["input", "imageUrls", "2"], "INVALID_URL")],
        ),
        ({"stockQuantity": -1}, [(["input", "stockQuantity"], "INVALID_QUANTITY")]),
        ({"attributes": [1, 2]}, [(["input", "attributes"], "INVALID_ATTRIBUTES")]),
        ({"name": "", "sku": "?"}, [(["input", "sku"], "INVALID_SKU"), (["input", "name"], "REQUIRED")]),
    ]
    for overrides, expected in cases:
        payload = (await gql(CREATE, {"input": product_input(**overrides)}, token=token)).ok()[
            "createProduct"
        ]
        assert payload["product"] is None, overrides
        assert codes(payload) == expected, overrides
        assert all(e["message"] for e in payload["userErrors"])
    async with acme.db.session(TenantScope.all_tenants()) as session:
        assert list(await session.scalars(select(Product))) == []


async def test_skus_are_unique_per_tenant(gql: GraphQLClient, acme: Shop, globex: Shop) -> None:
    first = await create(gql, acme.admin.token, sku="SKU-1")
    assert first["userErrors"] == []
    again = await create(gql, acme.admin.token, sku="sku-1", name="Other")
    assert codes(again) == [(["input", "sku"], "CONFLICT")]
    elsewhere = await create(gql, globex.admin.token, sku="SKU-1")
    assert elsewhere["userErrors"] == [] and elsewhere["product"]["sku"] == "SKU-1"
    second = await create(gql, acme.admin.token, sku="SKU-2")
    renamed = (
        await gql(UPDATE, {"input": {"id": second["product"]["id"], "sku": "SKU-1"}}, token=acme.admin.token)
    ).ok()["updateProduct"]
    assert codes(renamed) == [(["input", "sku"], "CONFLICT")]
    # Update rules see the product as it will be: a sale price above the stored base price.
    above = (
        await gql(
            UPDATE, {"input": {"id": second["product"]["id"], "salePrice": eur(5000)}}, token=acme.admin.token
        )
    ).ok()["updateProduct"]
    assert codes(above) == [(["input", "salePrice", "amount"], "SALE_ABOVE_BASE")]
    null_name = (
        await gql(UPDATE, {"input": {"id": second["product"]["id"], "name": None}}, token=acme.admin.token)
    ).ok()["updateProduct"]
    assert codes(null_name) == [(["input", "name"], "REQUIRED")]


async def test_only_catalog_staff_write_and_only_in_their_tenant(
    gql: GraphQLClient, acme: Shop, globex: Shop
) -> None:
    product = await acme.product("Mine", 100)
    for role in (Role.USER, Role.SUPPORT_AGENT, Role.AUDITOR):
        account = await acme.account(role)
        result = await gql(CREATE, {"input": product_input()}, token=account.token)
        assert result.error_codes == ["FORBIDDEN"], role
    anonymous = await gql(CREATE, {"input": product_input()})
    assert anonymous.error_codes == ["UNAUTHENTICATED"]
    manager = await acme.account(Role.MANAGER)
    assert (await create(gql, manager.token))["userErrors"] == []

    # Tenant B's admin cannot touch A's product: NOT_FOUND, like a random id, and nothing changes.
    for mutation, variables in (
        (UPDATE, {"input": {"id": gid("Product", product), "name": "Stolen"}}),
        (ARCHIVE, {"id": gid("Product", product)}),
        (DELETE, {"id": gid("Product", product)}),
        (DELETE, {"id": gid("Product", uuid.uuid4())}),
    ):
        result = await gql(mutation, variables, token=globex.admin.token)
        assert result.error_codes == ["NOT_FOUND"], mutation
        assert result.errors[0]["message"] == "Product not found."
    async with acme.db.session(TenantScope.of(acme.tenant_id)) as session:
        stored = await session.get(Product, product)
    assert stored is not None and stored.name == "Mine" and stored.status == ProductStatus.ACTIVE


async def test_delete_only_what_was_never_ordered(gql: GraphQLClient, acme: Shop) -> None:
    ordered = await acme.product("Ordered", 100)
    fresh = await acme.product("Fresh", 100)
    buyer = await acme.account(Role.USER)
    await acme.order(buyer.user_id, [ordered], OrderStatus.CANCELLED)

    refused = (await gql(DELETE, {"id": gid("Product", ordered)}, token=acme.admin.token)).ok()[
        "deleteProduct"
    ]
    assert refused["deletedProductId"] is None
    assert codes(refused) == [(["input", "id"], "PRODUCT_ORDERED")]
    deleted = (await gql(DELETE, {"id": gid("Product", fresh)}, token=acme.admin.token)).ok()["deleteProduct"]
    assert deleted == {"deletedProductId": gid("Product", fresh), "userErrors": []}
    async with acme.db.session(TenantScope.of(acme.tenant_id)) as session:
        assert list(await session.scalars(select(Product.name))) == ["Ordered"]


CATEGORY = """
mutation($input: CreateCategoryInput!) {
  createCategory(input: $input) { category { id name slug parent { name } } userErrors { field code } }
}"""
MOVE = """
mutation($input: UpdateCategoryInput!) {
  updateCategory(input: $input) { category { name slug parent { name } } userErrors { field code } }
}"""


async def test_category_tree_refuses_cycles(gql: GraphQLClient, acme: Shop, globex: Shop) -> None:
    token = acme.admin.token

    async def new(name: str, parent: str | None = None, slug: str | None = None) -> dict[str, Any]:
        payload = {"name": name, "parentId": parent, "slug": slug}
        return (await gql(CATEGORY, {"input": payload}, token=token)).ok()["createCategory"]

    root = (await new("Home & Garden"))["category"]
    assert root["slug"] == "home-garden" and root["parent"] is None
    child = (await new("Lamps", root["id"]))["category"]
    grandchild = (await new("Desk lamps", child["id"]))["category"]
    assert grandchild["parent"] == {"name": "Lamps"}
    assert (await new("Lamps", slug="lamps"))["userErrors"] == [
        {"field": ["input", "slug"], "code": "CONFLICT"}
    ]
    assert (await new("Bad", slug="Not A Slug"))["userErrors"] == [
        {"field": ["input", "slug"], "code": "INVALID_SLUG"}
    ]
    foreign = await globex.category("Elsewhere")
    assert (await new("Orphan", gid("Category", foreign)))["userErrors"] == [
        {"field": ["input", "parentId"], "code": "NOT_FOUND"}
    ]

    for target, parent in ((root, grandchild), (root, root), (child, grandchild)):
        moved = (await gql(MOVE, {"input": {"id": target["id"], "parentId": parent["id"]}}, token=token)).ok()
        assert moved["updateCategory"] == {
            "category": None,
            "userErrors": [{"field": ["input", "parentId"], "code": "CYCLE"}],
        }
    # A legal move, and back to the root with null.
    moved = (await gql(MOVE, {"input": {"id": grandchild["id"], "parentId": root["id"]}}, token=token)).ok()
    assert moved["updateCategory"]["category"]["parent"] == {"name": "Home & Garden"}
    rooted = (
        await gql(MOVE, {"input": {"id": child["id"], "parentId": None, "slug": None}}, token=token)
    ).ok()
    assert rooted["updateCategory"]["category"] == {"name": "Lamps", "slug": "lamps", "parent": None}

    # Deleting a category moves its children up to its parent and leaves its products uncategorised.
    middle = (await new("Middle", root["id"]))["category"]
    leaf = (await new("Leaf", middle["id"]))["category"]
    product = await acme.product("Bulb", 100, category=raw_id(middle["id"]))
    deleted = (
        await gql(
            "mutation($id: ID!) { deleteCategory(input: {id: $id}) { deletedCategoryId userErrors { code }}}",
            {"id": middle["id"]},
            token=token,
        )
    ).ok()["deleteCategory"]
    assert deleted == {"deletedCategoryId": middle["id"], "userErrors": []}
    async with acme.db.session(TenantScope.of(acme.tenant_id)) as session:
        moved_leaf = await session.get(Category, raw_id(leaf["id"]))
        stored = await session.get(Product, product)
    assert moved_leaf is not None and moved_leaf.parent_id == raw_id(root["id"])
    assert stored is not None and stored.category_id is None


async def test_brands_are_created_renamed_and_deleted(gql: GraphQLClient, acme: Shop) -> None:
    token = acme.admin.token
    created = (
        await gql(
            """mutation { createBrand(input: {name: "Zeiss Optics", logoUrl: "https://logo.example/z.svg"}) {
                 brand { id name slug logoUrl active } userErrors { field code } } }""",
            token=token,
        )
    ).ok()["createBrand"]
    brand = created["brand"]
    assert brand == {
        "id": brand["id"],
        "name": "Zeiss Optics",
        "slug": "zeiss-optics",
        "logoUrl": "https://logo.example/z.svg",
        "active": True,
    }
    bad = (
        await gql(
            'mutation { createBrand(input: {name: "X", logoUrl: "ftp://x"}) { userErrors { field code } } }',
            token=token,
        )
    ).ok()["createBrand"]
    assert bad["userErrors"] == [{"field": ["input", "logoUrl"], "code": "INVALID_URL"}]
    product = await acme.product("Lens", 100, brand=raw_id(brand["id"]))
    renamed = (
        await gql(
            """mutation($id: ID!) { updateBrand(input: {id: $id, name: "Zeiss", active: false}) {
                 brand { name slug active } userErrors { code } } }""",
            {"id": brand["id"]},
            token=token,
        )
    ).ok()["updateBrand"]
    assert renamed == {"brand": {"name": "Zeiss", "slug": "zeiss-optics", "active": False}, "userErrors": []}
    deleted = (
        await gql(
            "mutation($id: ID!) { deleteBrand(input: {id: $id}) { deletedBrandId } }",
            {"id": brand["id"]},
            token=token,
        )
    ).ok()["deleteBrand"]
    assert deleted == {"deletedBrandId": brand["id"]}
    async with acme.db.session(TenantScope.of(acme.tenant_id)) as session:
        stored = await session.get(Product, product)
    assert stored is not None and stored.brand_id is None


async def test_attributes_keep_what_json_allows_beyond_64_bits(gql: GraphQLClient, acme: Shop) -> None:
    """Attributes are read back exactly as stored, integers beyond 64 bits and non-ASCII text
    included: core/fast_json.py hands what orjson refuses to the standard library."""
    attributes = {"serial": 2**70, "label": "Größe ✓", "nested": [1, {"x": -(2**65)}]}
    created = await create(gql, acme.admin.token, attributes=attributes)
    assert created["userErrors"] == []
    read = await gql(
        "query($id: ID!) { product(id: $id) { attributes } }",
        {"id": created["product"]["id"]},
        token=acme.admin.token,
    )
    assert read.ok()["product"]["attributes"] == attributes
