"""Brands: listed by name, changed by catalog staff."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update

from core.errors import BadUserInput
from loaders.pagination import Page, PageArgs
from models.catalog import Brand, Product
from models.db import locked_or_not_found
from services.catalog.access import CatalogReader, write_scope
from services.catalog.named_rows import (
    active_only,
    changed_slug,
    common_problems,
    flush_slug,
    name_search,
    new_slug,
    page_by_name,
    set_slug,
)
from services.catalog.validation import KEEP, Keep, raise_if, set_given
from services.context import ServiceContext


@dataclass(frozen=True, slots=True)
class BrandFilter:
    search: str | None = None
    active: bool | None = None


async def list_brands(
    ctx: ServiceContext, reader: CatalogReader, brand_filter: BrandFilter, page: PageArgs
) -> Page[Brand]:
    statement = active_only(reader, select(Brand), Brand, brand_filter.active)
    statement = name_search(statement, Brand, brand_filter.search)
    return await page_by_name(ctx, reader, statement, Brand, page)


@dataclass(frozen=True, slots=True)
class BrandFields:
    name: str | Keep = KEEP
    slug: str | Keep | None = KEEP
    description: str | Keep | None = KEEP
    logo_url: str | Keep | None = KEEP
    active: bool | Keep = KEEP


def _apply_brand(brand: Brand, fields: BrandFields) -> None:
    set_given(brand, fields, "name", "description", "logo_url", "active")


async def create_brand(ctx: ServiceContext, fields: BrandFields) -> Brand:
    scope = write_scope(ctx, "brands:write")
    if not isinstance(fields.name, str):
        raise BadUserInput("Missing field: name.")
    raise_if(common_problems(fields.name, fields.description, "logoUrl", fields.logo_url))
    async with ctx.transaction(scope) as session:
        brand = Brand(id=uuid.uuid4(), name=fields.name.strip(), active=True)
        await set_slug(session, brand, new_slug(fields.slug, brand.name))
        _apply_brand(brand, fields)
        session.add(brand)
        await flush_slug(session)
        return brand


async def update_brand(ctx: ServiceContext, brand_id: uuid.UUID, fields: BrandFields) -> Brand:
    scope = write_scope(ctx, "brands:write")
    raise_if(common_problems(fields.name, fields.description, "logoUrl", fields.logo_url))
    async with ctx.transaction(scope) as session:
        brand = await locked_or_not_found(session, Brand, brand_id)
        await set_slug(session, brand, changed_slug(fields.slug, fields.name, brand.name))
        _apply_brand(brand, fields)
        await flush_slug(session)
        return brand


async def delete_brand(ctx: ServiceContext, brand_id: uuid.UUID) -> uuid.UUID:
    """Its products keep no brand."""
    scope = write_scope(ctx, "brands:write")
    async with ctx.transaction(scope) as session:
        brand = await locked_or_not_found(session, Brand, brand_id)
        await session.execute(update(Product).where(Product.brand_id == brand.id).values(brand_id=None))
        await session.delete(brand)
        return brand_id
