"""DNS mutations: parse input, call the DNS services, map the results (userErrors for every rule)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.errors import NotFound, invalid
from core.permissions import DNS_ADMINS, DNS_WRITERS
from models import dns as models
from schema.directives import HasRole, access
from schema.dns.inputs import (
    AllocateIpAddressInput,
    BulkDnsRecordsInput,
    BulkDnsRecordsPayload,
    CreateDnsRecordInput,
    CreateDnsZoneInput,
    CreateDnsZoneTemplateInput,
    DeleteDnsRecordPayload,
    DeleteDnsZonePayload,
    DeleteDnsZoneTemplatePayload,
    DnsRecordChangeInput,
    DnsRecordIdInput,
    DnsRecordInput,
    DnsRecordPayload,
    DnsZoneIdInput,
    DnsZonePayload,
    DnsZoneTemplateIdInput,
    DnsZoneTemplatePayload,
    ImportDnsZoneInput,
    ReleaseIpAddressPayload,
    ReverseDnsIpInput,
    ReverseDnsPayload,
    SetDnsZoneSuspendedInput,
    SetReverseDnsInput,
    UpdateDnsRecordInput,
    UpdateDnsZoneInput,
    VerifyDnsZonePayload,
)
from schema.dns.types import DnsRecord, DnsZone, DnsZoneTemplate, ReverseDns
from schema.errors import mutation_payload
from schema.nodes import parse_uuid, reference_uuid
from services.dns import delegation, record_writes, reverse, templates, zonefile, zones
from services.dns.errors import DnsErrorCode
from services.dns.record_writes import Applied, Changes, RecordPatch
from services.dns.records import RecordDraft
from services.dns.zones import ZoneSettings

WRITERS = HasRole(*DNS_WRITERS)
ADMINS = HasRole(*DNS_ADMINS)


def _draft(record: DnsRecordInput) -> RecordDraft:
    return RecordDraft(
        type=record.type,
        name=record.name,
        content=record.content,
        ttl=record.ttl,
        priority=record.priority,
        weight=record.weight,
        port=record.port,
        flags=record.flags,
        tag=record.tag,
    )


def _patch(changes: DnsRecordChangeInput) -> RecordPatch:
    return RecordPatch(
        type=changes.type,
        name=changes.name,
        content=changes.content,
        ttl=changes.ttl,
        priority=changes.priority,
        weight=changes.weight,
        port=changes.port,
        flags=changes.flags,
        tag=changes.tag,
    )


def _zone_settings(input: CreateDnsZoneInput | UpdateDnsZoneInput) -> ZoneSettings:
    return ZoneSettings(
        default_ttl=input.default_ttl,
        refresh=input.refresh,
        retry=input.retry,
        expire=input.expire,
        minimum=input.minimum,
    )


def _template_id(raw: relay.GlobalID | None) -> Any:
    if raw is None:
        return None
    try:
        return parse_uuid(raw, "DnsZoneTemplate")
    except NotFound as error:
        raise invalid("templateId", DnsErrorCode.NOT_FOUND, "No such zone template.") from error


def _zone_payload(zone: Any) -> DnsZonePayload:
    return DnsZonePayload(zone=DnsZone.from_model(zone))


def _record_payload(applied: Applied, record: models.DnsRecord) -> DnsRecordPayload:
    """The one record a write changed, with its zone (whose serial rose)."""
    return DnsRecordPayload(
        record=DnsRecord.from_model(record, applied.zone.name), zone=DnsZone.from_model(applied.zone)
    )


def _bulk_payload(applied: Applied) -> BulkDnsRecordsPayload:
    name = applied.zone.name
    return BulkDnsRecordsPayload(
        zone=DnsZone.from_model(applied.zone),
        created=[DnsRecord.from_model(r, name) for r in applied.created],
        updated=[DnsRecord.from_model(r, name) for r in applied.updated],
        deleted_record_ids=[relay.GlobalID("DnsRecord", str(i)) for i in applied.deleted],
    )


def _bulk_changes(input: BulkDnsRecordsInput) -> Changes:
    return Changes(
        create=[(f"create.{i}", _draft(r)) for i, r in enumerate(input.create)],
        update=[
            (f"update.{i}", reference_uuid(item.id, "DnsRecord"), _patch(item.changes))
            for i, item in enumerate(input.update)
        ],
        delete=[(f"delete.{i}", reference_uuid(raw, "DnsRecord")) for i, raw in enumerate(input.delete)],
    )


@strawberry.type
class DnsMutation:
    @strawberry.mutation(
        extensions=access(WRITERS),
        description="Host a zone: it is assigned our nameservers and waits (PENDING_VERIFICATION) until "
        "the parent delegates to them. A zone name is hosted once across all tenants.",
    )
    async def create_dns_zone(
        self, info: Info, input: Annotated[CreateDnsZoneInput, strawberry.argument(description="The zone.")]
    ) -> DnsZonePayload:
        async def work() -> Any:
            template_id = _template_id(input.template_id)
            return await zones.create_zone(
                info.context.services, input.name, _zone_settings(input), template_id
            )

        return await mutation_payload(DnsZonePayload, work(), _zone_payload)

    @strawberry.mutation(extensions=access(WRITERS), description="Change a zone's SOA timers or default TTL.")
    async def update_dns_zone(
        self,
        info: Info,
        input: Annotated[UpdateDnsZoneInput, strawberry.argument(description="The changes.")],
    ) -> DnsZonePayload:
        call = zones.update_zone(
            info.context.services, parse_uuid(input.id, "DnsZone"), _zone_settings(input)
        )
        return await mutation_payload(DnsZonePayload, call, _zone_payload)

    @strawberry.mutation(extensions=access(WRITERS), description="Delete a zone and all its records.")
    async def delete_dns_zone(
        self, info: Info, input: Annotated[DnsZoneIdInput, strawberry.argument(description="The zone.")]
    ) -> DeleteDnsZonePayload:
        call = zones.delete_zone(info.context.services, parse_uuid(input.id, "DnsZone"))
        return await mutation_payload(
            DeleteDnsZonePayload,
            call,
            lambda deleted: DeleteDnsZonePayload(deleted_zone_id=relay.GlobalID("DnsZone", str(deleted))),
        )

    @strawberry.mutation(
        extensions=access(WRITERS),
        description="Check the NS delegation through the configured resolvers; the zone becomes ACTIVE "
        "when it is delegated to every assigned nameserver. The result is recorded either way.",
    )
    async def verify_dns_zone_delegation(
        self, info: Info, input: Annotated[DnsZoneIdInput, strawberry.argument(description="The zone.")]
    ) -> VerifyDnsZonePayload:
        call = delegation.verify_delegation(info.context.services, parse_uuid(input.id, "DnsZone"))
        return await mutation_payload(
            VerifyDnsZonePayload,
            call,
            lambda found: VerifyDnsZonePayload(
                zone=DnsZone.from_model(found[0]), check=DnsZone.from_model(found[0]).last_check
            ),
        )

    @strawberry.mutation(extensions=access(ADMINS), description="Suspend a zone or lift its suspension.")
    async def set_dns_zone_suspended(
        self,
        info: Info,
        input: Annotated[SetDnsZoneSuspendedInput, strawberry.argument(description="The zone and state.")],
    ) -> DnsZonePayload:
        call = zones.set_zone_status(info.context.services, parse_uuid(input.id, "DnsZone"), input.suspended)
        return await mutation_payload(DnsZonePayload, call, _zone_payload)

    @strawberry.mutation(extensions=access(WRITERS), description="Add a record to a zone.")
    async def create_dns_record(
        self,
        info: Info,
        input: Annotated[CreateDnsRecordInput, strawberry.argument(description="The record.")],
    ) -> DnsRecordPayload:
        call = record_writes.change_records(
            info.context.services,
            parse_uuid(input.zone_id, "DnsZone"),
            Changes(create=[("record", _draft(input.record))]),
        )
        return await mutation_payload(
            DnsRecordPayload,
            call,
            lambda applied: _record_payload(applied, applied.created[0]),
        )

    @strawberry.mutation(extensions=access(WRITERS), description="Change a record.")
    async def update_dns_record(
        self,
        info: Info,
        input: Annotated[UpdateDnsRecordInput, strawberry.argument(description="The changes.")],
    ) -> DnsRecordPayload:
        call = record_writes.update_record(
            info.context.services, parse_uuid(input.id, "DnsRecord"), _patch(input.changes)
        )
        return await mutation_payload(
            DnsRecordPayload,
            call,
            lambda applied: _record_payload(applied, applied.updated[0]),
        )

    @strawberry.mutation(extensions=access(WRITERS), description="Delete a record.")
    async def delete_dns_record(
        self, info: Info, input: Annotated[DnsRecordIdInput, strawberry.argument(description="The record.")]
    ) -> DeleteDnsRecordPayload:
        call = record_writes.delete_record(info.context.services, parse_uuid(input.id, "DnsRecord"))
        return await mutation_payload(
            DeleteDnsRecordPayload,
            call,
            lambda applied: DeleteDnsRecordPayload(
                deleted_record_id=relay.GlobalID("DnsRecord", str(applied.deleted[0])),
                zone=DnsZone.from_model(applied.zone),
            ),
        )

    @strawberry.mutation(
        extensions=access(WRITERS),
        description="Create, change and delete up to 100 records of a zone in one step: all or nothing. "
        "Each userError names its item (input.create.2.content).",
    )
    async def bulk_dns_records(
        self,
        info: Info,
        input: Annotated[BulkDnsRecordsInput, strawberry.argument(description="The operations.")],
    ) -> BulkDnsRecordsPayload:
        call = record_writes.bulk_change(
            info.context.services, parse_uuid(input.zone_id, "DnsZone"), _bulk_changes(input)
        )
        return await mutation_payload(BulkDnsRecordsPayload, call, _bulk_payload)

    @strawberry.mutation(
        extensions=access(WRITERS),
        description="Load a BIND zone file (at most 20000 characters) into a zone: all or nothing, "
        "each line at fault a userError.",
    )
    async def import_dns_zone(
        self, info: Info, input: Annotated[ImportDnsZoneInput, strawberry.argument(description="The file.")]
    ) -> BulkDnsRecordsPayload:
        call = zonefile.import_zone_file(
            info.context.services, parse_uuid(input.zone_id, "DnsZone"), input.zone_file, input.replace
        )
        return await mutation_payload(BulkDnsRecordsPayload, call, _bulk_payload)

    @strawberry.mutation(
        extensions=access(WRITERS), description="Set the PTR of an address allocated to the tenant."
    )
    async def set_reverse_dns(
        self,
        info: Info,
        input: Annotated[SetReverseDnsInput, strawberry.argument(description="Address and name.")],
    ) -> ReverseDnsPayload:
        call = reverse.set_reverse(info.context.services, input.ip, input.ptr)
        return await mutation_payload(
            ReverseDnsPayload, call, lambda a: ReverseDnsPayload(reverse_dns=ReverseDns.from_model(a))
        )

    @strawberry.mutation(
        extensions=access(WRITERS), description="Remove the PTR of an address of the tenant."
    )
    async def remove_reverse_dns(
        self, info: Info, input: Annotated[ReverseDnsIpInput, strawberry.argument(description="The address.")]
    ) -> ReverseDnsPayload:
        call = reverse.remove_reverse(info.context.services, input.ip)
        return await mutation_payload(
            ReverseDnsPayload, call, lambda a: ReverseDnsPayload(reverse_dns=ReverseDns.from_model(a))
        )

    @strawberry.mutation(extensions=access(ADMINS), description="Allocate an IP address to a tenant.")
    async def allocate_ip_address(
        self,
        info: Info,
        input: Annotated[AllocateIpAddressInput, strawberry.argument(description="Tenant and address.")],
    ) -> ReverseDnsPayload:
        async def work() -> Any:
            try:
                tenant_id = parse_uuid(input.tenant_id, "Tenant")
            except NotFound as error:
                raise invalid("tenantId", DnsErrorCode.NOT_FOUND, "No such tenant.") from error
            return await reverse.allocate(info.context.services, tenant_id, input.ip)

        return await mutation_payload(
            ReverseDnsPayload, work(), lambda a: ReverseDnsPayload(reverse_dns=ReverseDns.from_model(a))
        )

    @strawberry.mutation(
        extensions=access(ADMINS), description="Release an allocated IP address (its PTR goes too)."
    )
    async def release_ip_address(
        self, info: Info, input: Annotated[ReverseDnsIpInput, strawberry.argument(description="The address.")]
    ) -> ReleaseIpAddressPayload:
        call = reverse.release(info.context.services, input.ip)
        return await mutation_payload(
            ReleaseIpAddressPayload, call, lambda ip: ReleaseIpAddressPayload(released_ip=ip)
        )

    @strawberry.mutation(extensions=access(ADMINS), description="Create a zone template.")
    async def create_dns_zone_template(
        self,
        info: Info,
        input: Annotated[CreateDnsZoneTemplateInput, strawberry.argument(description="The template.")],
    ) -> DnsZoneTemplatePayload:
        call = templates.create_template(
            info.context.services, input.name, input.description, [_draft(r) for r in input.records]
        )
        return await mutation_payload(
            DnsZoneTemplatePayload,
            call,
            lambda t: DnsZoneTemplatePayload(template=DnsZoneTemplate.from_model(t)),
        )

    @strawberry.mutation(
        extensions=access(ADMINS), description="Delete a zone template (zones keep their records)."
    )
    async def delete_dns_zone_template(
        self,
        info: Info,
        input: Annotated[DnsZoneTemplateIdInput, strawberry.argument(description="The template.")],
    ) -> DeleteDnsZoneTemplatePayload:
        call = templates.delete_template(info.context.services, parse_uuid(input.id, "DnsZoneTemplate"))
        return await mutation_payload(
            DeleteDnsZoneTemplatePayload,
            call,
            lambda deleted: DeleteDnsZoneTemplatePayload(
                deleted_template_id=relay.GlobalID("DnsZoneTemplate", str(deleted))
            ),
        )
