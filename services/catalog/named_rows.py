"""What categories and brands share: a name, a slug unique in the tenant, an active flag that hides
them from storefronts, and lists by name."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, InvalidInput, invalid
from core.lengths import MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.catalog import Brand, Category
from services.catalog.access import CatalogReader
from services.catalog.errors import CatalogErrorCode
from services.catalog.validation import (
    Keep,
    raise_if,
    slug_problem,
    slugify,
    text_problem,
    url_problem,
)
from services.context import ServiceContext

NamedModel = type[Category] | type[Brand]


# ---- lists --------------------------------------------------------------------------------


def name_search(statement: Select[Any], model: NamedModel, search: str | None) -> Select[Any]:
    if search and search.strip():
        term = search.strip().lower()
        statement = statement.where(
            or_(
                func.lower(model.name).contains(term, autoescape=True),
                model.slug.contains(term, autoescape=True),
            )
        )
    return statement


def active_only(
    reader: CatalogReader, statement: Select[Any], model: NamedModel, active: bool | None
) -> Select[Any]:
    # Inactive categories and brands are hidden from storefronts; staff may list either.
    if not reader.staff:
        return statement.where(model.active.is_(True))
    return statement if active is None else statement.where(model.active.is_(active))


async def page_by_name(
    ctx: ServiceContext, reader: CatalogReader, statement: Select[Any], model: NamedModel, page: PageArgs
) -> Page[Any]:
    return await paginate(lambda: ctx.read(reader.scope), statement, SortKey(model.name, model.id), page)


# ---- writes -------------------------------------------------------------------------------


def common_problems(
    name: object, description: object, url_field: str, url: object
) -> list[FieldProblem | None]:
    return [
        text_problem("name", name, MAX_NAME_LENGTH) if isinstance(name, str) else None,
        text_problem("description", description, MAX_DESCRIPTION_LENGTH, required=False)
        if isinstance(description, str)
        else None,
        url_problem(url_field, url) if isinstance(url, str) else None,
    ]


def new_slug(slug: str | Keep | None, name: str) -> str:
    """The slug given, or one made from the name."""
    return slug.strip().lower() if isinstance(slug, str) else slugify(name)


def changed_slug(slug: str | Keep | None, name: str | Keep, current_name: str) -> str | None:
    """On update: the slug given, a fresh one from the (new) name when null; None: unchanged."""
    if isinstance(slug, Keep):
        return None
    return new_slug(slug, name if isinstance(name, str) else current_name)


async def _slug_taken(
    session: AsyncSession, model: NamedModel, slug: str, other_than: uuid.UUID | None
) -> bool:
    statement = select(model.id).where(model.slug == slug)
    if other_than is not None:
        statement = statement.where(model.id != other_than)
    return await session.scalar(statement) is not None


def _slug_conflict() -> InvalidInput:
    return invalid("slug", CatalogErrorCode.CONFLICT, "This slug is already used.")


async def set_slug(session: AsyncSession, row: Category | Brand, slug: str | None) -> None:
    if slug is None:
        return
    raise_if([slug_problem(slug)])
    if await _slug_taken(session, type(row), slug, row.id):
        raise _slug_conflict()
    row.slug = slug


async def flush_slug(session: AsyncSession) -> None:
    """Flushes the row; a slug a concurrent write took after our check is a CONFLICT too."""
    try:
        await session.flush()
    except IntegrityError as error:
        raise _slug_conflict() from error
