"""Catalog queries: the storefront and staff reads of products, categories and brands."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.scopes import ApiScope
from schema.catalog.inputs import (
    BrandFilterInput,
    CategoryFilterInput,
    ProductFilterInput,
    ProductOrderInput,
)
from schema.catalog.types import Brand, Category, Product
from schema.directives import PUBLIC, HasScope, access
from schema.nodes import node_or_not_found, optional_reference
from schema.pagination import (
    FILTER,
    SORT,
    After,
    Before,
    Connection,
    First,
    Last,
    OrderDirection,
    connection,
    page_args,
)
from services.catalog import brands, categories, search
from services.catalog.access import CatalogReader, catalog_reader
from services.catalog.brands import BrandFilter
from services.catalog.categories import CategoryFilter
from services.catalog.search import ProductFilter, ProductOrderField

READ = HasScope(ApiScope.PRODUCTS_READ)
_SLUG_HELP = "Anonymous storefronts name the tenant; signed-in callers read their own."
TenantSlug = Annotated[
    str | None,
    strawberry.argument(
        description="The tenant whose storefront to read, when not signed in; ignored otherwise."
    ),
]


async def _reader(info: Info, tenant_slug: str | None) -> CatalogReader:
    """Who reads which tenant; anonymous storefront reads switch the request's loaders to it."""
    reader = await catalog_reader(info.context.services, tenant_slug)
    if reader.storefront_tenant_id is not None:
        info.context.read_as_storefront(reader.storefront_tenant_id)
    return reader


def _direction(order: ProductOrderInput) -> bool:
    """True for descending."""
    if order.direction is not None:
        return order.direction == OrderDirection.DESC
    return order.field in (ProductOrderField.RELEVANCE, ProductOrderField.CREATED_AT)


@strawberry.type
class CatalogQuery:
    @strawberry.field(
        extensions=access(PUBLIC, READ),
        description="Products of a tenant: search, filters, ordering. " + _SLUG_HELP,
    )
    async def products(
        self,
        info: Info,
        filter: Annotated[ProductFilterInput | None, FILTER] = None,
        order_by: Annotated[ProductOrderInput | None, SORT] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        tenant_slug: TenantSlug = None,
    ) -> Connection[Product]:
        f = filter or ProductFilterInput()
        order = order_by or ProductOrderInput()
        reader = await _reader(info, tenant_slug)
        page = await search.list_products(
            info.context.services,
            reader,
            ProductFilter(
                search=f.search,
                category_id=optional_reference(f.category_id, "Category"),
                brand_id=optional_reference(f.brand_id, "Brand"),
                min_price=f.min_price,
                max_price=f.max_price,
                currency=f.currency,
                status=f.status,
            ),
            order.field,
            _direction(order),
            page_args(first, after, last, before),
        )
        return connection(page, Product.from_model)

    @strawberry.field(extensions=access(PUBLIC, READ), description="A product by id. " + _SLUG_HELP)
    async def product(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The product's global id.")],
        tenant_slug: TenantSlug = None,
    ) -> Product:
        await _reader(info, tenant_slug)
        return await node_or_not_found(Product, info, id)

    @strawberry.field(
        extensions=access(PUBLIC, READ),
        description="Autocomplete: ACTIVE products whose name starts with (then contains) the prefix. "
        + _SLUG_HELP,
    )
    async def product_suggestions(
        self,
        info: Info,
        prefix: Annotated[str, strawberry.argument(description="The start of a product name (any case).")],
        first: Annotated[int, strawberry.argument(description="How many, 1 to 10.")] = 10,
        tenant_slug: TenantSlug = None,
    ) -> list[Product]:
        reader = await _reader(info, tenant_slug)
        found = await search.product_suggestions(info.context.services, reader, prefix, first)
        return [Product.from_model(p) for p in found]

    @strawberry.field(extensions=access(PUBLIC, READ), description="Categories by name. " + _SLUG_HELP)
    async def categories(
        self,
        info: Info,
        filter: Annotated[CategoryFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        tenant_slug: TenantSlug = None,
    ) -> Connection[Category]:
        f = filter or CategoryFilterInput()
        reader = await _reader(info, tenant_slug)
        page = await categories.list_categories(
            info.context.services,
            reader,
            CategoryFilter(
                parent_id=optional_reference(f.parent_id, "Category"),
                roots_only=f.roots_only,
                search=f.search,
                active=f.active,
            ),
            page_args(first, after, last, before),
        )
        return connection(page, Category.from_model)

    @strawberry.field(extensions=access(PUBLIC, READ), description="Brands by name. " + _SLUG_HELP)
    async def brands(
        self,
        info: Info,
        filter: Annotated[BrandFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        tenant_slug: TenantSlug = None,
    ) -> Connection[Brand]:
        f = filter or BrandFilterInput()
        reader = await _reader(info, tenant_slug)
        page = await brands.list_brands(
            info.context.services,
            reader,
            BrandFilter(search=f.search, active=f.active),
            page_args(first, after, last, before),
        )
        return connection(page, Brand.from_model)
