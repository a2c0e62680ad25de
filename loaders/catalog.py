"""Catalog loaders: products, categories and brands by id, a category's children, reviews by id and
pages of a product's reviews, batched per request."""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import aliased

from core.scope import TenantScope
from loaders.base import LoaderSet
from loaders.pagination import encode_cursor
from models.catalog import Brand, Category, Product, Review
from models.db import Reads

# A category's children come as a list (sorted by name), so they are capped like a page.
MAX_CHILDREN = 100
_ANY_PRODUCT = uuid.UUID(int=0)


@dataclass(frozen=True, slots=True)
class ReviewPageKey:
    """One page of one product's reviews, newest first; the cursors were checked by the caller."""

    product_id: uuid.UUID
    size: int
    forward: bool
    after: tuple[datetime, uuid.UUID] | None = None
    before: tuple[datetime, uuid.UUID] | None = None


@dataclass(frozen=True, slots=True)
class ReviewPage:
    rows: list[Review]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


class CatalogLoaders(LoaderSet):
    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        super().__init__(reads, scope)
        self.product = self.loader(self._products)
        self.category = self.loader(self._categories)
        self.brand = self.loader(self._brands)
        self.children = self.loader(self._children)
        self.review = self.loader(self._reviews)
        self.review_page = self.loader(self._review_pages)

    async def _products(self, ids: Sequence[uuid.UUID]) -> list[Product | None]:
        return await self.rows_by_id(Product, ids)

    async def _categories(self, ids: Sequence[uuid.UUID]) -> list[Category | None]:
        return await self.rows_by_id(Category, ids)

    async def _brands(self, ids: Sequence[uuid.UUID]) -> list[Brand | None]:
        return await self.rows_by_id(Brand, ids)

    async def _reviews(self, ids: Sequence[uuid.UUID]) -> list[Review | None]:
        return await self.rows_by_id(Review, ids)

    async def _children(self, parent_ids: Sequence[uuid.UUID]) -> list[list[Category]]:
        """The first MAX_CHILDREN children of each parent by name, in one query (a window per parent)."""
        number = func.row_number().over(
            partition_by=Category.parent_id, order_by=(Category.name, Category.id)
        )
        ranked = (
            select(Category, number.label("position")).where(Category.parent_id.in_(parent_ids)).subquery()
        )
        child = aliased(Category, ranked)
        rows = await self.fetch(
            select(child).where(ranked.c.position <= MAX_CHILDREN).order_by(ranked.c.position)
        )
        children: dict[uuid.UUID, list[Category]] = defaultdict(list)
        for row in rows:
            if row.parent_id is not None:
                children[row.parent_id].append(row)
        return [children[parent_id] for parent_id in parent_ids]

    async def _review_pages(self, keys: Sequence[ReviewPageKey]) -> list[ReviewPage]:
        """Keys asking for the same window (the usual case: one page size for every product of a
        list) share one query; each product's page is cut out of it with a window function."""
        groups: dict[ReviewPageKey, list[uuid.UUID]] = defaultdict(list)
        for key in keys:
            # One group per window: the key without its product.
            groups[dataclasses.replace(key, product_id=_ANY_PRODUCT)].append(key.product_id)
        pages: dict[ReviewPageKey, ReviewPage] = {}
        for window, product_ids in groups.items():
            found = await self._review_window(product_ids, window)
            for product_id in product_ids:
                pages[dataclasses.replace(window, product_id=product_id)] = found[product_id]
        return [pages[key] for key in keys]

    async def _review_window(
        self, product_ids: list[uuid.UUID], window: ReviewPageKey
    ) -> dict[uuid.UUID, ReviewPage]:
        size, forward, after, before = window.size, window.forward, window.after, window.before
        created, review_id = Review.created_at, Review.id
        conditions: list[ColumnElement[bool]] = [Review.product_id.in_(product_ids)]
        # Newest first: "after" a cursor means older than it, "before" newer.
        if after:
            conditions.append(or_(created < after[0], and_(created == after[0], review_id < after[1])))
        if before:
            conditions.append(or_(created > before[0], and_(created == before[0], review_id > before[1])))
        order = (created.desc(), review_id.desc()) if forward else (created.asc(), review_id.asc())
        number = func.row_number().over(partition_by=Review.product_id, order_by=order)
        ranked = select(Review, number.label("position")).where(*conditions).subquery()
        review = aliased(Review, ranked)
        rows = await self.fetch(
            select(review).where(ranked.c.position <= size + 1).order_by(ranked.c.position)
        )
        by_product: dict[uuid.UUID, list[Review]] = defaultdict(list)
        for row in rows:
            by_product[row.product_id].append(row)
        pages = {}
        for product_id in product_ids:
            found = by_product[product_id]
            has_more = len(found) > size
            found = found[:size]
            if not forward:
                found.reverse()
            pages[product_id] = ReviewPage(
                rows=found,
                cursors=[encode_cursor(r.created_at, r.id) for r in found],
                has_next_page=has_more if forward else before is not None,
                has_previous_page=after is not None if forward else has_more,
            )
        return pages
