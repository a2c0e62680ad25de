"""DNS queries: the tenant's zones and records, reverse DNS; the cross-tenant zone list, statistics
and zone templates for platform admins."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.permissions import DNS_ADMINS, DNS_READERS
from schema.directives import HasRole, access
from schema.dns.inputs import AdminDnsZoneFilterInput, DnsZoneFilterInput
from schema.dns.types import (
    DnsRecord,
    DnsRecordTypeCount,
    DnsStatistics,
    DnsZone,
    DnsZoneStatusCount,
    DnsZoneTemplate,
    ReverseDns,
)
from schema.nodes import node_or_not_found, optional_reference
from schema.pagination import FILTER, After, Before, Connection, First, Last, connection, page_args
from services.dns import reverse, templates, zones
from services.dns.access import read_scope
from services.dns.zones import ZoneFilter

READERS = HasRole(*DNS_READERS)
ADMINS = HasRole(*DNS_ADMINS)
ZoneId = Annotated[relay.GlobalID, strawberry.argument(description="The zone's global id.")]


@strawberry.type
class DnsQuery:
    @strawberry.field(extensions=access(READERS), description="The tenant's DNS zones by name.")
    async def dns_zones(
        self,
        info: Info,
        filter: Annotated[DnsZoneFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[DnsZone]:
        f = filter or DnsZoneFilterInput()
        page = await zones.list_zones(
            info.context.services,
            ZoneFilter(status=f.status, search=f.search),
            page_args(first, after, last, before),
        )
        return connection(page, DnsZone.from_model)

    @strawberry.field(extensions=access(READERS), description="A zone of the tenant by id.")
    async def dns_zone(self, info: Info, id: ZoneId) -> DnsZone:
        read_scope(info.context.services)
        return await node_or_not_found(DnsZone, info, id)

    @strawberry.field(extensions=access(READERS), description="A record of the tenant's zones by id.")
    async def dns_record(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The record's global id.")],
    ) -> DnsRecord:
        read_scope(info.context.services)
        return await node_or_not_found(DnsRecord, info, id)

    @strawberry.field(
        extensions=access(READERS),
        description="The reverse-DNS name of an address allocated to the tenant (NOT_FOUND for any other).",
    )
    async def reverse_dns(
        self, info: Info, ip: Annotated[str, strawberry.argument(description="An IPv4 or IPv6 address.")]
    ) -> ReverseDns:
        return ReverseDns.from_model(await reverse.get_reverse(info.context.services, ip))

    @strawberry.field(extensions=access(ADMINS), description="DNS zones of every tenant by name.")
    async def admin_dns_zones(
        self,
        info: Info,
        filter: Annotated[AdminDnsZoneFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[DnsZone]:
        f = filter or AdminDnsZoneFilterInput()
        zone_filter = ZoneFilter(
            status=f.status, search=f.search, tenant_id=optional_reference(f.tenant_id, "Tenant")
        )
        page = await zones.list_all_zones(
            info.context.services, zone_filter, page_args(first, after, last, before)
        )
        return connection(page, DnsZone.from_model)

    @strawberry.field(
        extensions=access(ADMINS), description="Zones per status and records per type, every tenant."
    )
    async def dns_statistics(self, info: Info) -> DnsStatistics:
        stats = await zones.statistics(info.context.services)
        return DnsStatistics(
            zones=sum(stats.zones_by_status.values()),
            records=sum(stats.records_by_type.values()),
            zones_by_status=[DnsZoneStatusCount(status=s, count=n) for s, n in stats.zones_by_status.items()],
            records_by_type=[DnsRecordTypeCount(type=t, count=n) for t, n in stats.records_by_type.items()],
            computed_at=stats.computed_at,
        )

    @strawberry.field(extensions=access(ADMINS), description="Zone templates by name.")
    async def dns_zone_templates(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[DnsZoneTemplate]:
        page = await templates.list_templates(info.context.services, page_args(first, after, last, before))
        return connection(page, DnsZoneTemplate.from_model)
