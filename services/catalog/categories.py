"""Categories: the tenant's tree, listed by name and changed by catalog staff (never into a cycle)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadUserInput, FieldProblem
from core.scope import TenantScope
from loaders.pagination import Page, PageArgs
from models.catalog import Category, Product
from models.db import locked_or_not_found
from services.catalog.access import CatalogReader, write_scope
from services.catalog.errors import CatalogErrorCode
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
from services.catalog.validation import KEEP, Keep, problem, raise_if, set_given
from services.context import ServiceContext

MAX_TREE_DEPTH = 50


@dataclass(frozen=True, slots=True)
class CategoryFilter:
    parent_id: uuid.UUID | None = None
    roots_only: bool = False
    search: str | None = None
    active: bool | None = None


async def list_categories(
    ctx: ServiceContext, reader: CatalogReader, category_filter: CategoryFilter, page: PageArgs
) -> Page[Category]:
    statement = active_only(reader, select(Category), Category, category_filter.active)
    if category_filter.parent_id is not None:
        statement = statement.where(Category.parent_id == category_filter.parent_id)
    elif category_filter.roots_only:
        statement = statement.where(Category.parent_id.is_(None))
    statement = name_search(statement, Category, category_filter.search)
    return await page_by_name(ctx, reader, statement, Category, page)


@dataclass(frozen=True, slots=True)
class CategoryFields:
    name: str | Keep = KEEP
    slug: str | Keep | None = KEEP  # None on create: made from the name
    description: str | Keep | None = KEEP
    parent_id: uuid.UUID | Keep | None = KEEP
    image_url: str | Keep | None = KEEP
    active: bool | Keep = KEEP


async def _lock_category_tree(session: AsyncSession, ctx: ServiceContext, scope: TenantScope) -> None:
    """Moves within one tenant's tree are serialised, so two concurrent moves cannot make a cycle
    that neither saw (PostgreSQL; SQLite serialises writers anyway)."""
    if not ctx.db.is_sqlite:
        key = f"category-tree:{scope.tenant_id}"
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))


async def _parent_problem(
    session: AsyncSession, category_id: uuid.UUID | None, parent_id: uuid.UUID
) -> FieldProblem | None:
    """The new parent exists in this tenant and is not the category itself or below it."""
    seen: set[uuid.UUID] = set()
    current: uuid.UUID | None = parent_id
    while current is not None:
        if current == category_id:
            return problem("parentId", CatalogErrorCode.CYCLE, "A category cannot be placed below itself.")
        if current in seen or len(seen) > MAX_TREE_DEPTH:
            return problem(
                "parentId", CatalogErrorCode.TOO_DEEP, f"Categories nest at most {MAX_TREE_DEPTH} levels."
            )
        seen.add(current)
        parent = await session.get(Category, current)
        if parent is None:
            if current == parent_id:
                return problem("parentId", CatalogErrorCode.NOT_FOUND, "No such category.")
            break
        current = parent.parent_id
    return None


async def create_category(ctx: ServiceContext, fields: CategoryFields) -> Category:
    scope = write_scope(ctx, "categories:write")
    if not isinstance(fields.name, str):
        raise BadUserInput("Missing field: name.")
    raise_if(common_problems(fields.name, fields.description, "imageUrl", fields.image_url))
    async with ctx.transaction(scope) as session:
        category = Category(id=uuid.uuid4(), name=fields.name.strip(), active=True)
        await set_slug(session, category, new_slug(fields.slug, category.name))
        if isinstance(fields.parent_id, uuid.UUID):
            await _lock_category_tree(session, ctx, scope)
            raise_if([await _parent_problem(session, None, fields.parent_id)])
        _apply_category(category, fields)
        session.add(category)
        await flush_slug(session)
        return category


def _apply_category(category: Category, fields: CategoryFields) -> None:
    set_given(category, fields, "name", "description", "parent_id", "image_url", "active")


async def update_category(ctx: ServiceContext, category_id: uuid.UUID, fields: CategoryFields) -> Category:
    scope = write_scope(ctx, "categories:write")
    raise_if(common_problems(fields.name, fields.description, "imageUrl", fields.image_url))
    async with ctx.transaction(scope) as session:
        if isinstance(fields.parent_id, uuid.UUID):
            await _lock_category_tree(session, ctx, scope)
        category = await locked_or_not_found(session, Category, category_id)
        await set_slug(session, category, changed_slug(fields.slug, fields.name, category.name))
        if isinstance(fields.parent_id, uuid.UUID):
            raise_if([await _parent_problem(session, category.id, fields.parent_id)])
        _apply_category(category, fields)
        await flush_slug(session)
        return category


async def delete_category(ctx: ServiceContext, category_id: uuid.UUID) -> uuid.UUID:
    """Its children move up to its parent; its products keep no category."""
    scope = write_scope(ctx, "categories:write")
    async with ctx.transaction(scope) as session:
        await _lock_category_tree(session, ctx, scope)
        category = await locked_or_not_found(session, Category, category_id)
        await session.execute(
            update(Category).where(Category.parent_id == category.id).values(parent_id=category.parent_id)
        )
        await session.execute(
            update(Product).where(Product.category_id == category.id).values(category_id=None)
        )
        await session.delete(category)
        return category_id
