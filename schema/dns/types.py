"""DNS types: zones (federation entity), records and zone templates (Relay nodes), reverse DNS,
delegation checks and the platform statistics."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.errors import BadUserInput
from core.permissions import DNS_ADMINS, DNS_READERS
from loaders.dns import RecordPageKey
from models import dns as models
from models.dns import DnsRecordType, DnsZoneStatus
from schema.enums import documented_enum
from schema.nodes import Entity, load_nodes, node_type
from schema.pagination import FILTER, After, Before, Connection, First, Last, connection, page_args
from services.dns.names import BadName, display, owner_name
from services.dns.record_writes import value_of
from services.dns.records import rdata_text
from services.dns.reverse import reverse_pointer
from services.dns.zonefile import render_zone

documented_enum(
    DnsZoneStatus,
    "A zone's life cycle: PENDING_VERIFICATION until the parent delegates it to the assigned "
    "nameservers (verifyDnsZoneDelegation), then ACTIVE; platform admins may suspend it.",
    {
        DnsZoneStatus.PENDING_VERIFICATION: "Created; the NS delegation has not been confirmed yet.",
        DnsZoneStatus.ACTIVE: "Delegated to the assigned nameservers: served.",
        DnsZoneStatus.SUSPENDED: "Suspended by a platform admin: not served, its records cannot change.",
    },
)
documented_enum(
    DnsRecordType,
    "The record types a zone holds.",
    {
        DnsRecordType.A: "An IPv4 address.",
        DnsRecordType.AAAA: "An IPv6 address.",
        DnsRecordType.CNAME: "An alias of another name: the only record at its name, never at the apex.",
        DnsRecordType.MX: "A mail exchange with its preference (`priority`).",
        DnsRecordType.TXT: "Text (split into strings of at most 255 bytes on export).",
        DnsRecordType.NS: "A delegation of a subdomain to a nameserver (the apex NS are the assigned ones).",
        DnsRecordType.SRV: "A service location: `priority`, `weight`, `port` and the target host.",
        DnsRecordType.CAA: "Which certificate authorities may issue: `flags`, `tag` and the value.",
        DnsRecordType.PTR: "A pointer to a hostname (reverse zones).",
    },
)


def _can_read(info: Info) -> bool:
    principal = info.context.principal
    return principal is not None and principal.has_any_role(*DNS_READERS)


@strawberry.type(description="A zone's SOA (start of authority) values.")
class DnsSoa:
    mname: str = strawberry.field(description="The primary nameserver.")
    rname: str = strawberry.field(description="The hostmaster's mailbox as a domain name.")
    serial: str = strawberry.field(
        description="Increases on every change of the zone or its records (YYYYMMDDnn; a string, as it "
        "can exceed 32 bits)."
    )
    refresh: int = strawberry.field(description="Seconds between secondaries' refreshes.")
    retry: int = strawberry.field(description="Seconds before a failed refresh is retried.")
    expire: int = strawberry.field(description="Seconds after which secondaries stop answering.")
    minimum: int = strawberry.field(description="Negative-caching TTL in seconds.")


@strawberry.type(description="The result of an NS-delegation check.")
class DnsDelegationCheck:
    checked_at: datetime = strawberry.field(description="When the resolvers were asked (UTC).")
    delegated: bool = strawberry.field(description="Whether the NS set holds every assigned nameserver.")
    found_nameservers: list[str] = strawberry.field(description="The NS set the resolvers answered.")
    message: str = strawberry.field(description="What the result means, for a person to read.")


@node_type
@strawberry.federation.type(keys=["id"], name="DnsRecord", description="A resource record of a zone.")
class DnsRecord(Entity):
    record_id: relay.NodeID[str]
    type: DnsRecordType = strawberry.field(description="The record type.")
    name: str = strawberry.field(
        description='The owner name relative to the zone ("@" for the apex), IDNA form.'
    )
    fqdn: str = strawberry.field(description="The owner's fully qualified name (no final dot).")
    content: str = strawberry.field(
        description="The address, the target host (FQDN), the text (TXT) or the value (CAA)."
    )
    ttl: int = strawberry.field(description="Time to live in seconds (60 to 86400).")
    priority: int | None = strawberry.field(description="MX preference or SRV priority.")
    weight: int | None = strawberry.field(description="SRV weight.")
    port: int | None = strawberry.field(description="SRV port.")
    flags: int | None = strawberry.field(description="CAA flags (0, or 128: critical).")
    tag: str | None = strawberry.field(description="CAA tag: issue, issuewild or iodef.")
    rdata: str = strawberry.field(description="The record's data as a zone file writes it.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    zone_uuid: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, record: models.DnsRecord, zone_name: str | None = None) -> Self:
        return cls(
            record_id=str(record.id),
            type=record.type,
            name=record.name,
            fqdn=record.name if zone_name is None else _fqdn(record.name, zone_name),
            content=record.content,
            ttl=record.ttl,
            priority=record.priority,
            weight=record.weight,
            port=record.port,
            flags=record.flags,
            tag=record.tag,
            rdata=rdata_text(value_of(record)),
            created_at=record.created_at,
            updated_at=record.updated_at,
            zone_uuid=record.zone_id,
        )

    @strawberry.field(description="The zone it belongs to.")
    async def zone(self, info: Info) -> DnsZone:
        zone = await info.context.loaders.dns.zone.load(self.zone_uuid)
        return DnsZone.from_model(zone)

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        if not _can_read(info):
            return [None for _ in node_ids]
        return await load_nodes(node_ids, "DnsRecord", info.context.loaders.dns.record, cls.from_model)


def _fqdn(name: str, zone: str) -> str:
    return zone if name == "@" else f"{name}.{zone}"


@strawberry.input(description="Which records of a zone to list.")
class DnsRecordFilterInput:
    type: DnsRecordType | None = strawberry.field(default=None, description="Only records of this type.")
    name: str | None = strawberry.field(
        default=None, description='Only records at this name (relative, "@" or absolute with a final dot).'
    )


@node_type
@strawberry.federation.type(keys=["id"], name="DnsZone", description="A DNS zone the tenant hosts here.")
class DnsZone(Entity):
    zone_id: relay.NodeID[str]
    name: str = strawberry.field(description="The zone's FQDN in IDNA (punycode) form, no final dot.")
    display_name: str = strawberry.field(description="The zone's name as people read it (Unicode).")
    status: DnsZoneStatus = strawberry.field(description="Where the zone is in its life cycle.")
    nameservers: list[str] = strawberry.field(
        description="The nameservers assigned to the zone: delegate it to these at the parent."
    )
    soa: DnsSoa = strawberry.field(description="The SOA values (the serial increases on every change).")
    default_ttl: int = strawberry.field(description="The TTL of records created without one (seconds).")
    last_check: DnsDelegationCheck | None = strawberry.field(
        description="The last NS-delegation check; null before the first."
    )
    verified_at: datetime | None = strawberry.field(description="When the delegation was first confirmed.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    row: strawberry.Private[models.DnsZone]

    @classmethod
    def from_model(cls, zone: models.DnsZone) -> Self:
        check = None
        if zone.checked_at is not None:
            check = DnsDelegationCheck(
                checked_at=zone.checked_at,
                delegated=bool(zone.check_delegated),
                found_nameservers=list(zone.check_nameservers or []),
                message=zone.check_message or "",
            )
        return cls(
            zone_id=str(zone.id),
            name=zone.name,
            display_name=display(zone.name),
            status=zone.status,
            nameservers=list(zone.nameservers),
            soa=DnsSoa(
                mname=zone.soa_mname,
                rname=zone.soa_rname,
                serial=str(zone.serial),
                refresh=zone.refresh,
                retry=zone.retry,
                expire=zone.expire,
                minimum=zone.minimum,
            ),
            default_ttl=zone.default_ttl,
            last_check=check,
            verified_at=zone.verified_at,
            created_at=zone.created_at,
            updated_at=zone.updated_at,
            row=zone,
        )

    @strawberry.field(description="The zone's records by name.")
    async def records(
        self,
        info: Info,
        filter: Annotated[DnsRecordFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[DnsRecord]:
        name = None
        if filter is not None and filter.name is not None:
            try:
                name = owner_name(filter.name, self.name)
            except BadName as exc:
                raise BadUserInput(f"filter.name: {exc}") from exc
        key = RecordPageKey(
            zone_id=uuid.UUID(self.zone_id),
            args=page_args(first, after, last, before),
            type=filter.type if filter else None,
            name=name,
        )
        page = await info.context.loaders.dns.records_of_zone.load(key)
        zone_name = self.name
        return connection(page, lambda record: DnsRecord.from_model(record, zone_name))

    @strawberry.field(
        description="The zone in BIND master-file format (as GET /dns/zones/{id}/export serves)."
    )
    async def bind_export(self, info: Info) -> str:
        records = await info.context.loaders.dns.all_records.load(self.row.id)
        return render_zone(self.row, records)

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        if not _can_read(info):
            return [None for _ in node_ids]
        return await load_nodes(node_ids, "DnsZone", info.context.loaders.dns.zone, cls.from_model)


@node_type
@strawberry.federation.type(
    keys=["id"], name="DnsZoneTemplate", description="A named set of records a new zone may start with."
)
class DnsZoneTemplate(Entity):
    template_id: relay.NodeID[str]
    name: str = strawberry.field(description="Unique name.")
    description: str | None = strawberry.field(description="What the template is for.")
    records: list[DnsTemplateRecord] = strawberry.field(
        description="The records (names relative to the zone)."
    )
    created_at: datetime = strawberry.field(description="When it was created (UTC).")

    @classmethod
    def from_model(cls, template: models.DnsZoneTemplate) -> Self:
        return cls(
            template_id=str(template.id),
            name=template.name,
            description=template.description,
            records=[
                DnsTemplateRecord(
                    type=DnsRecordType(item["type"]),
                    name=item["name"],
                    content=item["content"],
                    ttl=item.get("ttl"),
                    priority=item.get("priority"),
                    weight=item.get("weight"),
                    port=item.get("port"),
                    flags=item.get("flags"),
                    tag=item.get("tag"),
                )
                for item in template.records
            ],
            created_at=template.created_at,
        )

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        principal = info.context.principal
        if principal is None or not principal.has_any_role(*DNS_ADMINS):
            return [None for _ in node_ids]
        return await load_nodes(
            node_ids, "DnsZoneTemplate", info.context.loaders.dns.template, cls.from_model
        )


@strawberry.type(description="A record of a zone template.")
class DnsTemplateRecord:
    type: DnsRecordType = strawberry.field(description="The record type.")
    name: str = strawberry.field(description='Relative to the zone ("@" for the apex).')
    content: str = strawberry.field(description="As DnsRecord.content.")
    ttl: int | None = strawberry.field(description="Null: the zone's default TTL.")
    priority: int | None = strawberry.field(description="MX preference or SRV priority.")
    weight: int | None = strawberry.field(description="SRV weight.")
    port: int | None = strawberry.field(description="SRV port.")
    flags: int | None = strawberry.field(description="CAA flags.")
    tag: str | None = strawberry.field(description="CAA tag.")


@strawberry.type(description="An IP address allocated to the tenant, with its reverse-DNS name.")
class ReverseDns:
    ip: str = strawberry.field(description="The address (canonical text form).")
    reverse_name: str = strawberry.field(description="Where its PTR lives (in-addr.arpa or ip6.arpa).")
    ptr: str | None = strawberry.field(description="The hostname the address points back to; null if unset.")
    updated_at: datetime | None = strawberry.field(description="When the PTR last changed.")

    @classmethod
    def from_model(cls, allocation: models.IpAllocation) -> Self:
        return cls(
            ip=allocation.address,
            reverse_name=reverse_pointer(allocation.address),
            ptr=allocation.ptr,
            updated_at=allocation.ptr_updated_at,
        )


@strawberry.type(description="A count per zone status.")
class DnsZoneStatusCount:
    status: DnsZoneStatus = strawberry.field(description="A zone status.")
    count: int = strawberry.field(description="Zones in it, across every tenant.")


@strawberry.type(description="A count per record type.")
class DnsRecordTypeCount:
    type: DnsRecordType = strawberry.field(description="The record type.")
    count: int = strawberry.field(description="Records of it, across every tenant.")


@strawberry.type(description="DNS across every tenant (platform admins).")
class DnsStatistics:
    zones: int = strawberry.field(description="All zones.")
    records: int = strawberry.field(description="All records.")
    zones_by_status: list[DnsZoneStatusCount] = strawberry.field(description="Zones per status.")
    records_by_type: list[DnsRecordTypeCount] = strawberry.field(description="Records per type.")
    computed_at: datetime = strawberry.field(description="When it was counted (UTC).")
