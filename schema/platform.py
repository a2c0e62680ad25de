"""Platform-operations types, inputs and payloads: maintenance mode, announcements, feature
flags, help links and client error reports."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models import platform as models
from models.platform import AnnouncementKind
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from services.platform.flags import EffectiveFlag
from services.platform.maintenance import MaintenanceStatus

documented_enum(
    AnnouncementKind,
    "How an announcement banner looks.",
    {
        AnnouncementKind.INFO: "News.",
        AnnouncementKind.WARNING: "Something to watch out for (planned maintenance, say).",
        AnnouncementKind.ERROR: "Something is wrong now (an outage).",
    },
)


@strawberry.type(description="Whether the platform is in maintenance mode.")
class MaintenanceMode:
    enabled: bool = strawberry.field(description="True while every non-admin operation is refused (503).")
    message: str = strawberry.field(description="What the refusals say; empty when off.")

    @classmethod
    def from_result(cls, status: MaintenanceStatus) -> Self:
        return cls(enabled=status.enabled, message=status.message)


@strawberry.type(description="A banner of the platform operator to every tenant's users.")
class Announcement:
    id: relay.GlobalID = strawberry.field(description="The announcement's global id.")
    title: str = strawberry.field(description="Its title.")
    content: str = strawberry.field(description="Its text.")
    kind: AnnouncementKind = strawberry.field(description="INFO, WARNING or ERROR.")
    starts_at: datetime | None = strawberry.field(description="Shown from then (UTC); at once when null.")
    ends_at: datetime | None = strawberry.field(description="Shown until then (UTC); for good when null.")
    created_at: datetime = strawberry.field(description="When it was made (UTC).")

    @classmethod
    def from_model(cls, row: models.Announcement) -> Self:
        return cls(
            id=relay.GlobalID("Announcement", str(row.id)),
            title=row.title,
            content=row.content,
            kind=row.kind,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            created_at=row.created_at,
        )


@strawberry.type(description="A feature flag's value for one tenant.")
class FeatureFlag:
    name: str = strawberry.field(description="The flag's name (a-z, 0-9, '.', '_', '-').")
    description: str = strawberry.field(description="What it switches.")
    enabled: bool = strawberry.field(
        description="Its effective value: the tenant's override, else the default."
    )
    default_enabled: bool = strawberry.field(description="The global default.")
    tenant_override: bool | None = strawberry.field(
        description="The tenant's own value; null: the default applies."
    )

    @classmethod
    def from_result(cls, flag: EffectiveFlag) -> Self:
        return cls(
            name=flag.name,
            description=flag.description,
            enabled=flag.enabled,
            default_enabled=flag.default_enabled,
            tenant_override=flag.tenant_override,
        )


@strawberry.type(description="A link of the tenant's help menu (docs, support).")
class HelpLink:
    key: str = strawberry.field(description="Its key, unique in the tenant (e.g. docs, support).")
    title: str = strawberry.field(description="What the menu shows.")
    url: str = strawberry.field(description="Where it leads (http or https).")
    position: int = strawberry.field(description="Its place in the menu (ascending).")

    @classmethod
    def from_model(cls, row: models.HelpLink) -> Self:
        return cls(key=row.key, title=row.title, url=row.url, position=row.position)


@strawberry.type(description="A UI error a signed-in client reported.")
class ClientErrorReport:
    id: relay.GlobalID = strawberry.field(description="The report's global id.")
    message: str = strawberry.field(description="The error's message.")
    stack: str | None = strawberry.field(description="Its stack trace, when sent.")
    url: str | None = strawberry.field(description="The page it happened on, when sent.")
    user_agent: str | None = strawberry.field(description="The browser's user agent.")
    extra: JSON = strawberry.field(description="What else the client sent (a JSON object).")
    reporter_id: relay.GlobalID | None = strawberry.field(description="The user who reported it.")
    created_at: datetime = strawberry.field(description="When it was reported (UTC).")

    @classmethod
    def from_model(cls, row: models.ClientErrorReport) -> Self:
        return cls(
            id=relay.GlobalID("ClientErrorReport", str(row.id)),
            message=row.message,
            stack=row.stack,
            url=row.url,
            user_agent=row.user_agent,
            extra=JSON(row.extra),
            reporter_id=relay.GlobalID("User", str(row.user_id)) if row.user_id else None,
            created_at=row.created_at,
        )


@strawberry.input(description="Maintenance mode on (with a message) or off.")
class SetMaintenanceModeInput:
    enabled: bool = strawberry.field(description="On or off.")
    message: str | None = strawberry.field(
        default=None, description="What refusals say, at most 500 characters."
    )


@strawberry.input(description="A new announcement.")
class CreateAnnouncementInput:
    title: str = strawberry.field(description="1 to 200 characters.")
    content: str = strawberry.field(description="1 to 5000 characters.")
    kind: AnnouncementKind = strawberry.field(default=AnnouncementKind.INFO, description="How it looks.")
    starts_at: datetime | None = strawberry.field(
        default=None, description="Shown from then (with an offset)."
    )
    ends_at: datetime | None = strawberry.field(
        default=None, description="Shown until then (with an offset)."
    )


@strawberry.input(description="A feature flag's global default, or one tenant's override.")
class SetFeatureFlagInput:
    name: str = strawberry.field(description="The flag (made on its first default).")
    enabled: bool = strawberry.field(description="The value.")
    tenant_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The tenant whose override this is; the global default when omitted."
    )
    description: str | None = strawberry.field(default=None, description="What it switches (at most 500).")


@strawberry.input(description="A help link, by key (made or replaced).")
class UpsertHelpLinkInput:
    key: str = strawberry.field(description="Its key (a-z, 0-9, '.', '_', '-').")
    title: str = strawberry.field(description="1 to 200 characters.")
    url: str = strawberry.field(description="An http(s) URL.")
    position: int = strawberry.field(default=0, description="Its place in the menu.")


@strawberry.input(description="A UI error (an ErrorBoundary's catch): at most 64 KiB in all.")
class ReportClientErrorInput:
    message: str = strawberry.field(description="The error's message, 1 to 2000 characters.")
    stack: str | None = strawberry.field(default=None, description="Its stack trace.")
    url: str | None = strawberry.field(default=None, description="The page.")
    user_agent: str | None = strawberry.field(
        default=None, description="The browser's (the request's when omitted)."
    )
    extra: JSON | None = strawberry.field(default=None, description="A JSON object of at most 16 KiB.")


@strawberry.type(description="Maintenance mode after the switch, or userErrors.")
class MaintenanceModePayload:
    maintenance_mode: MaintenanceMode | None = strawberry.field(default=None, description="The state now.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The announcement made, or userErrors.")
class AnnouncementPayload:
    announcement: Announcement | None = strawberry.field(default=None, description="The announcement made.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of a deletion.")
class DeletePayload:
    deleted: bool = strawberry.field(default=False, description="True when it was deleted.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The flag after the change, or userErrors.")
class FeatureFlagPayload:
    name: str | None = strawberry.field(default=None, description="The flag set.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The help link after the change, or userErrors.")
class HelpLinkPayload:
    help_link: HelpLink | None = strawberry.field(default=None, description="The link.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The stored report, or userErrors.")
class ClientErrorReportPayload:
    report: ClientErrorReport | None = strawberry.field(default=None, description="The report kept.")
    user_errors: list[UserError] = user_errors_field()
