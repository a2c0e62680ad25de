"""DNS inputs and payloads."""

from __future__ import annotations

import strawberry
from strawberry import relay

from models.dns import DnsRecordType, DnsZoneStatus
from schema.dns.types import DnsDelegationCheck, DnsRecord, DnsZone, DnsZoneTemplate, ReverseDns
from schema.errors import UserError, user_errors_field

_TTL = "Seconds, 60 to 86400; the zone's default TTL when omitted."


@strawberry.input(description="Which zones to list; the conditions given all apply.")
class DnsZoneFilterInput:
    status: DnsZoneStatus | None = strawberry.field(default=None, description="Only zones in this status.")
    search: str | None = strawberry.field(default=None, description="Part of the zone name.")


@strawberry.input(description="Which zones of every tenant to list (platform admins).")
class AdminDnsZoneFilterInput:
    status: DnsZoneStatus | None = strawberry.field(default=None, description="Only zones in this status.")
    search: str | None = strawberry.field(default=None, description="Part of the zone name.")
    tenant_id: relay.GlobalID | None = strawberry.field(default=None, description="Only this tenant's zones.")


@strawberry.input(description="A new zone.")
class CreateDnsZoneInput:
    name: str = strawberry.field(
        description="The zone's FQDN, e.g. example.com (Unicode names are IDNA-encoded)."
    )
    default_ttl: int | None = strawberry.field(
        default=None, description="Default TTL (seconds; 3600 if omitted)."
    )
    refresh: int | None = strawberry.field(default=None, description="SOA refresh (seconds, 1200 to 604800).")
    retry: int | None = strawberry.field(default=None, description="SOA retry (seconds, 180 to 86400).")
    expire: int | None = strawberry.field(default=None, description="SOA expire (seconds, 86400 to 5184000).")
    minimum: int | None = strawberry.field(default=None, description="SOA minimum (seconds, 60 to 86400).")
    template_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A zone template whose records the zone starts with."
    )


@strawberry.input(description="Changes to a zone's settings; omitted fields stay as they are.")
class UpdateDnsZoneInput:
    id: relay.GlobalID = strawberry.field(description="The zone.")
    default_ttl: int | None = strawberry.field(
        default=None, description="Default TTL (seconds, 60 to 86400)."
    )
    refresh: int | None = strawberry.field(default=None, description="SOA refresh (seconds, 1200 to 604800).")
    retry: int | None = strawberry.field(default=None, description="SOA retry (seconds, 180 to 86400).")
    expire: int | None = strawberry.field(default=None, description="SOA expire (seconds, 86400 to 5184000).")
    minimum: int | None = strawberry.field(default=None, description="SOA minimum (seconds, 60 to 86400).")


@strawberry.input(description="A zone, by id.")
class DnsZoneIdInput:
    id: relay.GlobalID = strawberry.field(description="The zone.")


@strawberry.input(description="Suspend a zone, or lift its suspension (platform admins).")
class SetDnsZoneSuspendedInput:
    id: relay.GlobalID = strawberry.field(description="The zone.")
    suspended: bool = strawberry.field(description="True: suspend; false: back to PENDING_VERIFICATION.")


@strawberry.input(description="A record: `type`, `name` and `content`, plus what the type needs.")
class DnsRecordInput:
    type: DnsRecordType = strawberry.field(description="The record type.")
    name: str = strawberry.field(
        description='The owner: "@" for the apex, relative ("www"), or absolute with a final dot '
        '("www.example.com."); a name ending in the zone\'s name is taken as absolute.'
    )
    content: str = strawberry.field(
        description="A: IPv4, AAAA: IPv6, CNAME/MX/NS/SRV/PTR: a fully qualified hostname, TXT: the text "
        "(any length up to 4000; split into 255-byte strings on export), CAA: the value."
    )
    ttl: int | None = strawberry.field(default=None, description=_TTL)
    priority: int | None = strawberry.field(
        default=None, description="MX preference, SRV priority (0 to 65535)."
    )
    weight: int | None = strawberry.field(default=None, description="SRV weight (0 to 65535).")
    port: int | None = strawberry.field(default=None, description="SRV port (0 to 65535).")
    flags: int | None = strawberry.field(default=None, description="CAA flags: 0 (default) or 128.")
    tag: str | None = strawberry.field(default=None, description="CAA tag: issue, issuewild or iodef.")


@strawberry.input(description="A new record of a zone.")
class CreateDnsRecordInput:
    zone_id: relay.GlobalID = strawberry.field(description="The zone.")
    record: DnsRecordInput = strawberry.field(description="The new record's type, name, content and fields.")


@strawberry.input(
    description="Changes to a record; omitted fields stay (a new type drops the old type's fields)."
)
class DnsRecordChangeInput:
    type: DnsRecordType | None = strawberry.field(default=None, description="The record type.")
    name: str | None = strawberry.field(default=None, description="As DnsRecordInput.name.")
    content: str | None = strawberry.field(default=None, description="As DnsRecordInput.content.")
    ttl: int | None = strawberry.field(default=None, description="Seconds, 60 to 86400.")
    priority: int | None = strawberry.field(default=None, description="MX preference, SRV priority.")
    weight: int | None = strawberry.field(default=None, description="SRV weight.")
    port: int | None = strawberry.field(default=None, description="SRV port.")
    flags: int | None = strawberry.field(default=None, description="CAA flags.")
    tag: str | None = strawberry.field(default=None, description="CAA tag.")


@strawberry.input(description="A record and its changes.")
class UpdateDnsRecordInput:
    id: relay.GlobalID = strawberry.field(description="The record.")
    changes: DnsRecordChangeInput = strawberry.field(description="What to change.")


@strawberry.input(description="A record, by id.")
class DnsRecordIdInput:
    id: relay.GlobalID = strawberry.field(description="The record.")


@strawberry.input(description="Record operations on one zone, applied together or not at all (at most 100).")
class BulkDnsRecordsInput:
    zone_id: relay.GlobalID = strawberry.field(description="The zone.")
    create: list[DnsRecordInput] = strawberry.field(
        default_factory=list, description="Records to add (userErrors name them input.create.<index>)."
    )
    update: list[UpdateDnsRecordInput] = strawberry.field(
        default_factory=list, description="Records to change (input.update.<index>)."
    )
    delete: list[relay.GlobalID] = strawberry.field(
        default_factory=list, description="Records to delete (input.delete.<index>)."
    )


@strawberry.input(description="A BIND zone file to load into a zone, all or nothing.")
class ImportDnsZoneInput:
    zone_id: relay.GlobalID = strawberry.field(description="The zone.")
    zone_file: str = strawberry.field(
        description="Master-file text ($ORIGIN, $TTL, parentheses, comments); its SOA and apex NS are "
        "skipped (the zone's own). userErrors name the line: input.zoneFile.<line>[.<field>]."
    )
    replace: bool = strawberry.field(
        default=False, description="Delete the zone's records first; otherwise the file's are added."
    )


@strawberry.input(description="A zone template (platform admins).")
class CreateDnsZoneTemplateInput:
    name: str = strawberry.field(description="Unique name.")
    description: str | None = strawberry.field(default=None, description="What it is for.")
    records: list[DnsRecordInput] = strawberry.field(
        description="1 to 50 records, names relative to the zone."
    )


@strawberry.input(description="A zone template, by id.")
class DnsZoneTemplateIdInput:
    id: relay.GlobalID = strawberry.field(description="The template.")


@strawberry.input(description="The reverse-DNS name of one of the tenant's addresses.")
class SetReverseDnsInput:
    ip: str = strawberry.field(description="The IPv4 or IPv6 address (allocated to your tenant).")
    ptr: str = strawberry.field(description="The hostname it points back to.")


@strawberry.input(description="An address, by its text.")
class ReverseDnsIpInput:
    ip: str = strawberry.field(description="The IPv4 or IPv6 address.")


@strawberry.input(description="Allocate an IP address to a tenant (platform admins).")
class AllocateIpAddressInput:
    tenant_id: relay.GlobalID = strawberry.field(description="The tenant.")
    ip: str = strawberry.field(description="The IPv4 or IPv6 address (free).")


@strawberry.type(description="The result of a zone change: the zone, or userErrors.")
class DnsZonePayload:
    zone: DnsZone | None = strawberry.field(default=None, description="The zone after the change.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of deleting a zone.")
class DeleteDnsZonePayload:
    deleted_zone_id: relay.GlobalID | None = strawberry.field(default=None, description="The zone deleted.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of an NS-delegation check.")
class VerifyDnsZonePayload:
    zone: DnsZone | None = strawberry.field(default=None, description="The zone (ACTIVE once delegated).")
    check: DnsDelegationCheck | None = strawberry.field(
        default=None, description="What the resolvers answered."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of a record change: the record and its zone, or userErrors.")
class DnsRecordPayload:
    record: DnsRecord | None = strawberry.field(default=None, description="The record after the change.")
    zone: DnsZone | None = strawberry.field(default=None, description="Its zone, with the new serial.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of deleting a record.")
class DeleteDnsRecordPayload:
    deleted_record_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The record deleted."
    )
    zone: DnsZone | None = strawberry.field(default=None, description="Its zone, with the new serial.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of bulk record operations or an import: all applied, or none.")
class BulkDnsRecordsPayload:
    zone: DnsZone | None = strawberry.field(default=None, description="The zone, with the new serial.")
    created: list[DnsRecord] = strawberry.field(default_factory=list, description="Records added.")
    updated: list[DnsRecord] = strawberry.field(default_factory=list, description="Records changed.")
    deleted_record_ids: list[relay.GlobalID] = strawberry.field(
        default_factory=list, description="Records deleted."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of a zone template change.")
class DnsZoneTemplatePayload:
    template: DnsZoneTemplate | None = strawberry.field(default=None, description="The template as stored.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of deleting a zone template.")
class DeleteDnsZoneTemplatePayload:
    deleted_template_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The template deleted."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of a reverse-DNS or allocation change.")
class ReverseDnsPayload:
    reverse_dns: ReverseDns | None = strawberry.field(default=None, description="The address as it is now.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of releasing an address.")
class ReleaseIpAddressPayload:
    released_ip: str | None = strawberry.field(default=None, description="The address released.")
    user_errors: list[UserError] = user_errors_field()
