"""Catalog loaders: products, categories and brands by id, batched per request."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from loaders.base import LoaderSet
from models.catalog import Brand, Category, Product
from models.db import Database
from models.tenancy import TenantScope


class CatalogLoaders(LoaderSet):
    def __init__(self, db: Database, scope: TenantScope) -> None:
        super().__init__(db, scope)
        self.product = self.loader(self._products)
        self.category = self.loader(self._categories)
        self.brand = self.loader(self._brands)

    async def _products(self, ids: Sequence[uuid.UUID]) -> list[Product | None]:
        return self.by_id(await self.fetch(select(Product).where(Product.id.in_(ids))), ids)

    async def _categories(self, ids: Sequence[uuid.UUID]) -> list[Category | None]:
        return self.by_id(await self.fetch(select(Category).where(Category.id.in_(ids))), ids)

    async def _brands(self, ids: Sequence[uuid.UUID]) -> list[Brand | None]:
        return self.by_id(await self.fetch(select(Brand).where(Brand.id.in_(ids))), ids)
