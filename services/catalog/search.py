"""Product listing: full-text search, filters, orderings on keyset pages, and autocomplete."""

from __future__ import annotations

import dataclasses
import enum
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Select, case, func, literal_column, or_, select

from core.errors import BadUserInput
from core.lengths import MAX_PREFIX_LENGTH, MAX_SEARCH_LENGTH
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.catalog import Category, Product, ProductStatus, product_search_document
from services.catalog.access import CatalogReader
from services.context import ServiceContext
from services.money import MAX_AMOUNT

MAX_SUGGESTIONS = 10


class ProductOrderField(enum.StrEnum):
    RELEVANCE = "RELEVANCE"
    CREATED_AT = "CREATED_AT"
    NAME = "NAME"
    PRICE = "PRICE"


@dataclass(frozen=True, slots=True)
class ProductFilter:
    search: str | None = None
    category_id: uuid.UUID | None = None
    brand_id: uuid.UUID | None = None
    min_price: int | None = None
    max_price: int | None = None
    currency: str | None = None
    status: ProductStatus | None = None


def effective_price() -> Any:
    """What a buyer pays: the sale price if set, else the base price (Product.price in SQL)."""
    return func.coalesce(Product.sale_price, Product.base_price)


def _search_query(term: str) -> Any:
    return func.websearch_to_tsquery(literal_column("'english'::regconfig"), term)


def search_condition(term: str) -> Any:
    """Matches the GIN expression index ix_products_search (same document text, no parameters)."""
    return product_search_document().op("@@")(_search_query(term))


# Ranking weighs where a term occurs: name and SKU (A) far above the description (D). Only the
# matching rows (found through the index on the unweighted document) are ranked.
_RANKED_DOCUMENT = (
    "setweight(to_tsvector('english', coalesce(products.name, '') || ' ' || coalesce(products.sku, '')), 'A')"
    " || setweight(to_tsvector('english', coalesce(products.description, '')), 'D')"
)


def search_rank(term: str) -> Any:
    return func.ts_rank(literal_column(_RANKED_DOCUMENT), _search_query(term), type_=Float)


def _search_term(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    term = raw.strip()
    if len(term) > MAX_SEARCH_LENGTH:
        raise BadUserInput(f"Search for at most {MAX_SEARCH_LENGTH} characters.")
    return term


def _category_subtree(category_id: uuid.UUID) -> Any:
    """The category and every category below it (UNION, not UNION ALL: ends even on a cycle)."""
    tree = select(Category.id).where(Category.id == category_id).cte("category_tree", recursive=True)
    tree = tree.union(select(Category.id).where(Category.parent_id == tree.c.id))
    return select(tree.c.id)


def _filtered_products(
    reader: CatalogReader, product_filter: ProductFilter, postgres: bool, term: str | None
) -> Select[Any]:
    statement = select(Product)
    if not reader.staff:
        statement = statement.where(Product.status == ProductStatus.ACTIVE)
    if product_filter.status is not None:
        statement = statement.where(Product.status == product_filter.status)
    if product_filter.category_id is not None:
        statement = statement.where(Product.category_id.in_(_category_subtree(product_filter.category_id)))
    if product_filter.brand_id is not None:
        statement = statement.where(Product.brand_id == product_filter.brand_id)
    for bound in (product_filter.min_price, product_filter.max_price):
        if bound is not None and not 0 <= bound <= MAX_AMOUNT:
            raise BadUserInput(f"Price bounds are minor units from 0 to {MAX_AMOUNT}.")
    if product_filter.min_price is not None:
        statement = statement.where(effective_price() >= product_filter.min_price)
    if product_filter.max_price is not None:
        statement = statement.where(effective_price() <= product_filter.max_price)
    if product_filter.currency:
        statement = statement.where(Product.currency == product_filter.currency.strip().upper())
    if term is not None:
        if postgres:
            statement = statement.where(search_condition(term))
        else:
            lowered = term.lower()
            statement = statement.where(
                or_(
                    func.lower(Product.name).contains(lowered, autoescape=True),
                    func.lower(Product.sku).contains(lowered, autoescape=True),
                    func.lower(func.coalesce(Product.description, "")).contains(lowered, autoescape=True),
                )
            )
    return statement


def _sort_expression(order: ProductOrderField, postgres: bool, term: str | None) -> Any:
    if order == ProductOrderField.RELEVANCE:
        if term is None:
            # Nothing to rank by: newest (DESC) or oldest (ASC) first.
            return Product.created_at
        # Without full-text search (SQLite) relevance falls back to the name.
        return search_rank(term) if postgres else Product.name
    if order == ProductOrderField.NAME:
        return Product.name
    if order == ProductOrderField.PRICE:
        return effective_price()
    return Product.created_at


async def list_products(
    ctx: ServiceContext,
    reader: CatalogReader,
    product_filter: ProductFilter,
    order: ProductOrderField,
    descending: bool,
    page: PageArgs,
) -> Page[Product]:
    """Keyset pages. RELEVANCE (with a search term, on PostgreSQL) orders by ts_rank, then id: the
    cursor holds (rank, id), computed by the same expression, so no OFFSET is ever used."""
    postgres = not ctx.db.is_sqlite
    term = _search_term(product_filter.search)
    sort = _sort_expression(order, postgres, term)
    if order == ProductOrderField.RELEVANCE and term is not None and not postgres:
        descending = not descending  # the name fallback: "most relevant first" reads A to Z
    statement = _filtered_products(reader, product_filter, postgres, term).add_columns(
        sort.label("sort_value")
    )

    found = await paginate(
        lambda: ctx.read(reader.scope),
        statement,
        SortKey(sort, Product.id, descending),
        page,
        whole_rows=True,
        sort_value=lambda row: row[1],
        row_id=lambda row: row[0].id,
    )
    return dataclasses.replace(found, rows=[row[0] for row in found.rows])


async def product_suggestions(
    ctx: ServiceContext, reader: CatalogReader, prefix: str, first: int
) -> list[Product]:
    """Autocomplete: ACTIVE products whose name starts with the prefix, then those containing it."""
    text_ = prefix.strip().lower()
    if not 1 <= first <= MAX_SUGGESTIONS:
        raise BadUserInput(f"`first` must be between 1 and {MAX_SUGGESTIONS}.")
    if not text_:
        return []
    if len(text_) > MAX_PREFIX_LENGTH:
        raise BadUserInput(f"The prefix has at most {MAX_PREFIX_LENGTH} characters.")
    name = func.lower(Product.name)
    starts = case((name.startswith(text_, autoescape=True), 0), else_=1)
    statement = (
        select(Product)
        .where(Product.status == ProductStatus.ACTIVE, name.contains(text_, autoescape=True))
        .order_by(starts, Product.name, Product.id)
        .limit(first)
    )
    async with ctx.read(reader.scope) as session:
        return list(await session.scalars(statement))
