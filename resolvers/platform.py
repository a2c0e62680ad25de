"""Platform-operations resolvers: maintenance mode, announcements, feature flags, help links and
client error reports."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.permissions import CLIENT_ERROR_READERS, HELP_LINK_EDITORS, PLATFORM_ADMINS
from schema.directives import AUTHENTICATED, PUBLIC, HasRole, access
from schema.errors import mutation_payload
from schema.nodes import parse_uuid
from schema.pagination import After, Before, Connection, First, Last, connection, page_args
from schema.platform import (
    Announcement,
    AnnouncementPayload,
    ClientErrorReport,
    ClientErrorReportPayload,
    CreateAnnouncementInput,
    DeletePayload,
    FeatureFlag,
    FeatureFlagPayload,
    HelpLink,
    HelpLinkPayload,
    MaintenanceMode,
    MaintenanceModePayload,
    ReportClientErrorInput,
    SetFeatureFlagInput,
    SetMaintenanceModeInput,
    UpsertHelpLinkInput,
)
from services.platform import announcements, flags, help, maintenance
from services.platform.announcements import NewAnnouncement
from services.platform.help import ClientError, HelpLinkFields

ADMINS = HasRole(*PLATFORM_ADMINS)


def _deleted(_: None) -> DeletePayload:
    return DeletePayload(deleted=True)


@strawberry.type
class PlatformQuery:
    @strawberry.field(
        extensions=access(PUBLIC),
        description="Whether the platform is in maintenance mode, and its message (answered even "
        "while it is on). Anyone.",
    )
    async def maintenance_mode(self, info: Info) -> MaintenanceMode:
        gate = info.context.maintenance
        status = await gate.current() if gate else await maintenance.read_status(info.context.services.db)
        return MaintenanceMode.from_result(status)

    @strawberry.field(
        extensions=access(PUBLIC),
        description="The announcements shown now (inside their window), newest first, at most 50. Anyone.",
    )
    async def active_announcements(self, info: Info) -> list[Announcement]:
        return [
            Announcement.from_model(a)
            for a in await announcements.active_announcements(info.context.services.db)
        ]

    @strawberry.field(
        extensions=access(ADMINS), description="Every announcement, newest first. Platform admins."
    )
    async def announcements(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[Announcement]:
        page = await announcements.list_announcements(
            info.context.services, page_args(first, after, last, before)
        )
        return connection(page, Announcement.from_model)

    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="Your tenant's feature flags with their effective values, by name. Signed-in users.",
    )
    async def feature_flags(self, info: Info) -> list[FeatureFlag]:
        return [FeatureFlag.from_result(f) for f in await flags.tenant_flags(info.context.services)]

    @strawberry.field(
        extensions=access(ADMINS),
        description="Every feature flag with its default and one tenant's override. Platform admins.",
    )
    async def tenant_feature_flags(
        self,
        info: Info,
        tenant_id: Annotated[relay.GlobalID, strawberry.argument(description="The tenant's global id.")],
    ) -> list[FeatureFlag]:
        found = await flags.flags_of_tenant(info.context.services, parse_uuid(tenant_id, "Tenant"))
        return [FeatureFlag.from_result(f) for f in found]

    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="Your tenant's help links, in menu order. Signed-in users.",
    )
    async def help_links(self, info: Info) -> list[HelpLink]:
        return [HelpLink.from_model(link) for link in await help.help_links(info.context.services)]

    @strawberry.field(
        extensions=access(HasRole(*CLIENT_ERROR_READERS)),
        description="The UI errors your tenant's clients reported, newest first. MANAGER and TENANT_ADMIN.",
    )
    async def client_error_reports(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[ClientErrorReport]:
        page = await help.list_client_errors(info.context.services, page_args(first, after, last, before))
        return connection(page, ClientErrorReport.from_model)


@strawberry.type
class PlatformMutation:
    @strawberry.mutation(
        extensions=access(ADMINS),
        description="Maintenance mode on or off, in every process at once: while on, everyone but "
        "platform admins gets SERVICE_UNAVAILABLE (503 on REST); probes stay. Platform admins.",
    )
    async def set_maintenance_mode(
        self,
        info: Info,
        input: Annotated[SetMaintenanceModeInput, strawberry.argument(description="The switch.")],
    ) -> MaintenanceModePayload:
        context = info.context
        call = maintenance.set_maintenance(context.services, input.enabled, input.message)
        payload = await mutation_payload(
            MaintenanceModePayload,
            call,
            lambda status: MaintenanceModePayload(maintenance_mode=MaintenanceMode.from_result(status)),
        )
        if context.maintenance is not None:
            context.maintenance.forget()  # this process at once; the others by the event
        return payload

    @strawberry.mutation(extensions=access(ADMINS), description="A new announcement. Platform admins.")
    async def create_announcement(
        self, info: Info, input: Annotated[CreateAnnouncementInput, strawberry.argument(description="It.")]
    ) -> AnnouncementPayload:
        new = NewAnnouncement(input.title, input.content, input.kind, input.starts_at, input.ends_at)
        call = announcements.create_announcement(info.context.services, new)
        return await mutation_payload(
            AnnouncementPayload, call, lambda a: AnnouncementPayload(announcement=Announcement.from_model(a))
        )

    @strawberry.mutation(extensions=access(ADMINS), description="Delete an announcement. Platform admins.")
    async def delete_announcement(
        self, info: Info, id: Annotated[relay.GlobalID, strawberry.argument(description="Its global id.")]
    ) -> DeletePayload:
        call = announcements.delete_announcement(info.context.services, parse_uuid(id, "Announcement"))
        return await mutation_payload(DeletePayload, call, _deleted)

    @strawberry.mutation(
        extensions=access(ADMINS),
        description="Set a feature flag's global default (made on first use) or one tenant's "
        "override. Platform admins.",
    )
    async def set_feature_flag(
        self, info: Info, input: Annotated[SetFeatureFlagInput, strawberry.argument(description="The value.")]
    ) -> FeatureFlagPayload:
        tenant = parse_uuid(input.tenant_id, "Tenant") if input.tenant_id else None
        call = flags.set_flag(
            info.context.services, input.name, input.enabled, tenant_id=tenant, description=input.description
        )
        return await mutation_payload(
            FeatureFlagPayload, call, lambda flag: FeatureFlagPayload(name=flag.name)
        )

    @strawberry.mutation(
        extensions=access(ADMINS), description="A tenant follows a flag's default again. Platform admins."
    )
    async def clear_feature_flag_override(
        self,
        info: Info,
        name: Annotated[str, strawberry.argument(description="The flag.")],
        tenant_id: Annotated[relay.GlobalID, strawberry.argument(description="The tenant's global id.")],
    ) -> DeletePayload:
        call = flags.clear_override(info.context.services, name, parse_uuid(tenant_id, "Tenant"))
        return await mutation_payload(DeletePayload, call, _deleted)

    @strawberry.mutation(
        extensions=access(HasRole(*HELP_LINK_EDITORS)),
        description="Make or replace a help link of your tenant by key. TENANT_ADMIN.",
    )
    async def upsert_help_link(
        self, info: Info, input: Annotated[UpsertHelpLinkInput, strawberry.argument(description="The link.")]
    ) -> HelpLinkPayload:
        fields = HelpLinkFields(input.key, input.title, input.url, input.position)
        call = help.upsert_help_link(info.context.services, fields)
        return await mutation_payload(
            HelpLinkPayload, call, lambda link: HelpLinkPayload(help_link=HelpLink.from_model(link))
        )

    @strawberry.mutation(
        extensions=access(HasRole(*HELP_LINK_EDITORS)),
        description="Delete a help link of your tenant. TENANT_ADMIN.",
    )
    async def delete_help_link(
        self, info: Info, key: Annotated[str, strawberry.argument(description="The link's key.")]
    ) -> DeletePayload:
        return await mutation_payload(
            DeletePayload, help.delete_help_link(info.context.services, key), _deleted
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Report a UI error of your client (at most 64 KiB; rate-limited per user). "
        "Signed-in users.",
    )
    async def report_client_error(
        self,
        info: Info,
        input: Annotated[ReportClientErrorInput, strawberry.argument(description="The error.")],
    ) -> ClientErrorReportPayload:
        report = ClientError(input.message, input.stack, input.url, input.user_agent, input.extra)
        call = help.report_client_error(info.context.services, report)
        return await mutation_payload(
            ClientErrorReportPayload,
            call,
            lambda row: ClientErrorReportPayload(report=ClientErrorReport.from_model(row)),
        )
