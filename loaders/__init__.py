"""Per-request dataloaders, one set per domain."""

from __future__ import annotations

from dataclasses import dataclass

from loaders.billing import BillingLoaders
from loaders.catalog import CatalogLoaders
from loaders.identity import IdentityLoaders
from loaders.orders import OrderLoaders
from models.db import Database
from models.tenancy import TenantScope


@dataclass
class Loaders:
    identity: IdentityLoaders
    catalog: CatalogLoaders
    orders: OrderLoaders
    billing: BillingLoaders

    @classmethod
    def create(cls, db: Database, scope: TenantScope) -> Loaders:
        return cls(
            identity=IdentityLoaders(db, scope),
            catalog=CatalogLoaders(db, scope),
            orders=OrderLoaders(db, scope),
            billing=BillingLoaders(db, scope),
        )
