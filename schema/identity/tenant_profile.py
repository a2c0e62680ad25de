"""Tenant administration types: the tenant's quotas, trial, deletion, user count, contacts, allowed
origins, branding and custom domains (fields of Tenant through ``TenantProfile``), with their
inputs and payloads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from core.permissions import USER_READERS, USERS_READ
from core.settings import Settings
from models.identity import accounts
from models.identity import tenant_profile as models
from models.identity.tenant_profile import DomainCheckMethod
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from schema.nodes import Entity, load_nodes, node_type
from services.identity.domain_checks import challenge_url
from services.identity.domains import challenge_name, challenge_value
from services.identity.tenant_profile import BRANDING_FIELDS

documented_enum(
    DomainCheckMethod,
    "How a tenant proves it controls a hostname.",
    {
        DomainCheckMethod.DNS_TXT: "A TXT record at the challenge name holds the challenge value.",
        DomainCheckMethod.HTTP_FILE: "http://<hostname>/.well-known/tenantgraph-challenge/<token> "
        "serves the challenge value (status 200, redirects not followed).",
    },
    name="DomainVerificationMethod",
)

# ---- types ------------------------------------------------------------------------------------


@strawberry.type(
    description="How a tenant's pages and mails look; a null field means the platform's default."
)
class TenantBranding:
    display_name: str | None = strawberry.field(description="Name shown instead of the tenant's name.")
    logo_url: str | None = strawberry.field(description="Logo for light backgrounds (https).")
    logo_dark_url: str | None = strawberry.field(description="Logo for dark backgrounds (https).")
    favicon_url: str | None = strawberry.field(description="Browser tab icon (https).")
    primary_color: str | None = strawberry.field(description="Main colour, #RRGGBB (upper case).")
    secondary_color: str | None = strawberry.field(description="Accent colour, #RRGGBB (upper case).")
    support_url: str | None = strawberry.field(description="Where users get help (https).")
    terms_url: str | None = strawberry.field(description="Terms of service (https).")
    privacy_url: str | None = strawberry.field(description="Privacy policy (https).")
    email_from_name: str | None = strawberry.field(description="Sender name of the tenant's mails.")
    updated_at: datetime | None = strawberry.field(
        description="When it last changed (UTC); null if never set."
    )

    @classmethod
    def from_model(cls, row: models.TenantBranding | None) -> Self:
        if row is None:
            return cls(**dict.fromkeys(BRANDING_FIELDS), updated_at=None)
        return cls(**{name: getattr(row, name) for name in BRANDING_FIELDS}, updated_at=row.updated_at)


@strawberry.type(description="The DNS record or HTTP file that proves a tenant controls a hostname.")
class DomainChallenge:
    method: DomainCheckMethod = strawberry.field(description="How the challenge is met.")
    record_type: str = strawberry.field(description="TXT for DNS_TXT; HTTP_FILE for HTTP_FILE.")
    record_name: str = strawberry.field(
        description="Where to publish it: the TXT name, e.g. _tenantgraph-challenge.shop.example.com, "
        "or the file's URL."
    )
    record_value: str = strawberry.field(description="The exact text the TXT record or the file must hold.")
    url: str | None = strawberry.field(
        description="HTTP_FILE: the URL that must serve recordValue (plain http); null for DNS_TXT."
    )
    expires_at: datetime = strawberry.field(
        description="After this (UTC) the challenge no longer verifies: add the domain again for a fresh one."
    )


@node_type
@strawberry.federation.type(
    keys=["id"], name="TenantDomain", description="A custom hostname a tenant claims for its pages."
)
class TenantDomain(Entity):
    domain_id: relay.NodeID[str]
    hostname: str = strawberry.field(description="The hostname, lower case, without a trailing dot.")
    method: DomainCheckMethod = strawberry.field(description="How the tenant proves it holds the hostname.")
    verified: bool = strawberry.field(
        description="Whether the challenge was found (in DNS or over HTTP): only then it resolves."
    )
    verified_at: datetime | None = strawberry.field(description="When it was verified (UTC).")
    created_at: datetime = strawberry.field(description="When it was added (UTC).")
    challenge: DomainChallenge | None = strawberry.field(
        description="What to publish in DNS before verifying; null once verified."
    )

    @classmethod
    def from_model(cls, row: models.TenantDomain, settings: Settings) -> Self:
        challenge = None
        if row.verified_at is None:
            by_file = row.method == DomainCheckMethod.HTTP_FILE
            url = challenge_url(settings, row.hostname, row.challenge_token) if by_file else None
            challenge = DomainChallenge(
                method=row.method,
                record_type="HTTP_FILE" if by_file else "TXT",
                record_name=url or challenge_name(settings, row),
                record_value=challenge_value(row),
                url=url,
                expires_at=row.challenge_expires_at,
            )
        return cls(
            domain_id=str(row.id),
            hostname=row.hostname,
            method=row.method,
            verified=row.verified_at is not None,
            verified_at=row.verified_at,
            created_at=row.created_at,
            challenge=challenge,
        )

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        settings = info.context.services.settings
        return await load_nodes(
            node_ids,
            "TenantDomain",
            info.context.loaders.tenant_profile.domain,
            lambda row: cls.from_model(row, settings),
        )


@strawberry.type(description="A tenant's quotas, trial, deletion, user count, branding and custom domains.")
class TenantProfile:
    max_users: int | None = strawberry.field(
        description="The most users (all but deleted ones) the tenant may have; null: no limit."
    )
    max_products: int | None = strawberry.field(
        description="The most products (of any status) the tenant may have; null: no limit."
    )
    trial_ends_at: datetime | None = strawberry.field(
        description="When the trial ends (UTC): a TRIAL tenant past it cannot sign in (TRIAL_EXPIRED)."
    )
    deleted_at: datetime | None = strawberry.field(
        description="When a platform admin deleted the tenant (UTC); null while it is in use."
    )
    contact_name: str | None = strawberry.field(description="Whom the platform writes to or calls.")
    contact_phone: str | None = strawberry.field(description="The contact's phone number (E.164).")
    billing_email: str | None = strawberry.field(description="Where invoices and billing mail go.")
    profile_of: strawberry.Private[uuid.UUID]

    @staticmethod
    def fields_of(tenant: accounts.Tenant) -> dict[str, Any]:
        """The keyword arguments of these fields for ``Tenant.from_model``."""
        return {
            "max_users": tenant.max_users,
            "max_products": tenant.max_products,
            "trial_ends_at": tenant.trial_ends_at,
            "deleted_at": tenant.deleted_at,
            "contact_name": tenant.contact_name,
            "contact_phone": tenant.contact_phone,
            "billing_email": tenant.billing_email,
            "profile_of": tenant.id,
        }

    @strawberry.field(
        description="Users of the tenant but deleted ones (what maxUsers limits), for TENANT_ADMIN, "
        "MANAGER, SUPPORT_AGENT and AUDITOR; null for anyone else."
    )
    async def user_count(self, info: Info) -> int | None:
        principal = info.context.principal
        if principal is None or not principal.allows(USERS_READ, *USER_READERS):
            return None
        count: int = await info.context.loaders.tenant_profile.user_count.load(self.profile_of)
        return count

    @strawberry.field(
        description="Browser origins (scheme://host[:port]) the tenant's web apps call the API from: "
        "CORS allows them while the tenant is in service (without credentials: send the token in "
        "Authorization), by origin."
    )
    async def allowed_origins(self, info: Info) -> list[str]:
        origins: list[str] = await info.context.loaders.tenant_profile.origins.load(self.profile_of)
        return origins

    @strawberry.field(description="How the tenant's pages and mails look (tenant admins set it).")
    async def branding(self, info: Info) -> TenantBranding:
        return TenantBranding.from_model(
            await info.context.loaders.tenant_profile.branding.load(self.profile_of)
        )

    @strawberry.field(description="The tenant's custom hostnames, verified or not, by hostname.")
    async def domains(self, info: Info) -> list[TenantDomain]:
        rows = await info.context.loaders.tenant_profile.domains.load(self.profile_of)
        settings = info.context.services.settings
        return [TenantDomain.from_model(row, settings) for row in rows]


# ---- inputs -----------------------------------------------------------------------------------


@strawberry.input(description="A JSON merge patch (RFC 7396) of a tenant's settings.")
class PatchTenantSettingsInput:
    id: relay.GlobalID = strawberry.field(description="The tenant's global id.")
    patch: JSON = strawberry.field(
        description="A JSON object merged into the settings: a null value removes its key, nested "
        "objects merge, anything else replaces. At most 64 KiB of settings in all."
    )


@strawberry.input(description="A tenant's quotas and trial end; omitted fields stay, null clears.")
class UpdateTenantLimitsInput:
    id: relay.GlobalID = strawberry.field(description="The tenant's global id.")
    max_users: int | None = strawberry.field(
        default=strawberry.UNSET, description="The most users, at least 1; null: no limit."
    )
    max_products: int | None = strawberry.field(
        default=strawberry.UNSET, description="The most products, at least 0; null: no limit."
    )
    trial_ends_at: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="When a TRIAL tenant's trial ends (with time zone); null: never.",
    )


@strawberry.input(description="Branding fields to change; omitted fields stay, null or blank clears one.")
class UpdateTenantBrandingInput:
    tenant_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The tenant's global id; yours when omitted."
    )
    display_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Shown instead of the tenant's name."
    )
    logo_url: str | None = strawberry.field(default=strawberry.UNSET, description="An https URL.")
    logo_dark_url: str | None = strawberry.field(default=strawberry.UNSET, description="An https URL.")
    favicon_url: str | None = strawberry.field(default=strawberry.UNSET, description="An https URL.")
    primary_color: str | None = strawberry.field(default=strawberry.UNSET, description="#RRGGBB.")
    secondary_color: str | None = strawberry.field(default=strawberry.UNSET, description="#RRGGBB.")
    support_url: str | None = strawberry.field(default=strawberry.UNSET, description="An https URL.")
    terms_url: str | None = strawberry.field(default=strawberry.UNSET, description="An https URL.")
    privacy_url: str | None = strawberry.field(default=strawberry.UNSET, description="An https URL.")
    email_from_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Sender name of the tenant's mails: one line."
    )

    def changes(self) -> dict[str, str | None]:
        """The fields given, by their service names."""
        given = {name: getattr(self, name) for name in BRANDING_FIELDS}
        return {name: value for name, value in given.items() if value is not strawberry.UNSET}


@strawberry.input(description="A hostname to claim for a tenant.")
class AddTenantDomainInput:
    tenant_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The tenant's global id; yours when omitted."
    )
    hostname: str = strawberry.field(description="e.g. shop.example.com: no scheme, port or wildcard.")
    method: DomainCheckMethod = strawberry.field(
        default=DomainCheckMethod.DNS_TXT,
        description="How the challenge will be met; adding an unverified domain again switches it.",
    )


@strawberry.input(description="One custom domain, by id.")
class TenantDomainIdInput:
    id: relay.GlobalID = strawberry.field(description="The domain's global id.")


@strawberry.input(
    description="A tenant's contacts, billing email and allowed origins; omitted fields stay, null "
    "or blank clears."
)
class UpdateTenantContactInput:
    tenant_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The tenant's global id; yours when omitted."
    )
    contact_name: str | None = strawberry.field(default=strawberry.UNSET, description="The contact's name.")
    contact_email: str | None = strawberry.field(
        default=strawberry.UNSET, description="Where the platform writes to the tenant."
    )
    contact_phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="In international form with its country code."
    )
    billing_email: str | None = strawberry.field(
        default=strawberry.UNSET, description="Where invoices and billing mail go."
    )
    allowed_origins: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The whole list (replaces it; null empties it), at most 20: https://host[:port], "
        "http only for localhost; no path or wildcard.",
    )

    def changes(self) -> dict[str, Any]:
        """The fields given, by their service names."""
        names = ("contact_name", "contact_email", "contact_phone", "billing_email", "allowed_origins")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not strawberry.UNSET}


# ---- payloads ---------------------------------------------------------------------------------


@strawberry.type(description="The branding as it is now, or userErrors.")
class TenantBrandingPayload:
    branding: TenantBranding | None = strawberry.field(
        default=None, description="The branding after the change."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The domain as it is now (with its challenge until verified), or userErrors.")
class TenantDomainPayload:
    domain: TenantDomain | None = strawberry.field(default=None, description="The domain after the change.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The removed domain's id and hostname, or userErrors.")
class RemoveTenantDomainPayload:
    removed_domain_id: relay.GlobalID | None = strawberry.field(default=None, description="Its global id.")
    hostname: str | None = strawberry.field(
        default=None, description="The hostname it had; it no longer resolves."
    )
    user_errors: list[UserError] = user_errors_field()
