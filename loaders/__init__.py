"""Per-request dataloaders, one set per domain."""

from __future__ import annotations

from dataclasses import dataclass

from loaders.catalog import CatalogLoaders
from loaders.identity import IdentityLoaders
from models.db import Database
from models.tenancy import TenantScope


@dataclass
class Loaders:
    identity: IdentityLoaders
    catalog: CatalogLoaders

    @classmethod
    def create(cls, db: Database, scope: TenantScope) -> Loaders:
        return cls(identity=IdentityLoaders(db, scope), catalog=CatalogLoaders(db, scope))
