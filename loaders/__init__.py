"""Per-request dataloaders, one set per domain, each built on first use in the request."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from aiodataloader import DataLoader

from core.scope import TenantScope
from loaders.billing import BillingLoaders
from loaders.catalog import CatalogLoaders
from loaders.delivery import DeliveryLoaders
from loaders.dns import DnsLoaders
from loaders.identity import IdentityLoaders
from loaders.notifications import NotificationLoaders
from loaders.orders import OrderLoaders
from loaders.promotions import PromotionLoaders
from loaders.provisioning import ProvisioningLoaders
from loaders.streams import StreamLoaders
from loaders.tenant_profile import TenantProfileLoaders
from loaders.tickets import TicketLoaders
from loaders.usage import UsageLoaders
from loaders.wallet import WalletLoaders
from models.db import Reads


class Loaders:
    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        self.reads = reads
        self.scope = scope
        # Federation references of each entity type in this request, over the type's own load
        # (schema/nodes.py: Entity.resolve_reference); keyed by the type, which lives above.
        self.references: dict[type, DataLoader[str, Any]] = {}

    @cached_property
    def identity(self) -> IdentityLoaders:
        return IdentityLoaders(self.reads, self.scope)

    @cached_property
    def tenant_profile(self) -> TenantProfileLoaders:
        return TenantProfileLoaders(self.reads, self.scope)

    @cached_property
    def wallet(self) -> WalletLoaders:
        return WalletLoaders(self.reads, self.scope)

    @cached_property
    def catalog(self) -> CatalogLoaders:
        return CatalogLoaders(self.reads, self.scope)

    @cached_property
    def orders(self) -> OrderLoaders:
        return OrderLoaders(self.reads, self.scope)

    @cached_property
    def billing(self) -> BillingLoaders:
        return BillingLoaders(self.reads, self.scope)

    @cached_property
    def delivery(self) -> DeliveryLoaders:
        return DeliveryLoaders(self.reads, self.scope)

    @cached_property
    def usage(self) -> UsageLoaders:
        return UsageLoaders(self.reads, self.scope)

    @cached_property
    def promotions(self) -> PromotionLoaders:
        return PromotionLoaders(self.reads, self.scope)

    @cached_property
    def dns(self) -> DnsLoaders:
        return DnsLoaders(self.reads, self.scope)

    @cached_property
    def provisioning(self) -> ProvisioningLoaders:
        return ProvisioningLoaders(self.reads, self.scope)

    @cached_property
    def streams(self) -> StreamLoaders:
        return StreamLoaders(self.reads, self.scope)

    @cached_property
    def tickets(self) -> TicketLoaders:
        return TicketLoaders(self.reads, self.scope)

    @cached_property
    def notifications(self) -> NotificationLoaders:
        return NotificationLoaders(self.reads, self.scope)
