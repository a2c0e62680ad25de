"""Tenant administration resolvers: settings patch, quotas and trial, soft delete, contacts and
allowed origins, branding, custom domains, and the public lookups by domain and by name."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, cast

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.permissions import PLATFORM_ADMINS, TENANT_ADMINS
from models.identity.accounts import Tenant as TenantRow
from models.identity.tenant_profile import TenantDomain as TenantDomainRow
from schema.directives import PUBLIC, HasRole, access
from schema.errors import mutation_payload
from schema.identity.accounts import PublicTenant, Tenant, TenantIdInput, TenantPayload
from schema.identity.tenant_profile import (
    AddTenantDomainInput,
    PatchTenantSettingsInput,
    RemoveTenantDomainPayload,
    TenantBranding,
    TenantBrandingPayload,
    TenantDomain,
    TenantDomainIdInput,
    TenantDomainPayload,
    UpdateTenantBrandingInput,
    UpdateTenantContactInput,
    UpdateTenantLimitsInput,
)
from schema.nodes import parse_uuid
from services.identity import domains, tenant_contact, tenant_profile

TENANT_ADMIN = HasRole(*TENANT_ADMINS)
PLATFORM_ADMIN = HasRole(*PLATFORM_ADMINS)
LIMIT_FIELDS = ("max_users", "max_products", "trial_ends_at")


def _tenant_payload(tenant: TenantRow) -> TenantPayload:
    return TenantPayload(tenant=Tenant.from_model(tenant))


def _tenant_or_own(info: Info, tenant_id: relay.GlobalID | None) -> uuid.UUID:
    services = info.context.services
    return parse_uuid(tenant_id, "Tenant") if tenant_id else services.require_principal().tenant_id


def _domain_payload(info: Info) -> Callable[[TenantDomainRow], TenantDomainPayload]:
    settings = info.context.services.settings
    return lambda row: TenantDomainPayload(domain=TenantDomain.from_model(row, settings))


def _removed(row: TenantDomainRow) -> RemoveTenantDomainPayload:
    return RemoveTenantDomainPayload(
        removed_domain_id=relay.GlobalID("TenantDomain", str(row.id)), hostname=row.hostname
    )


@strawberry.type
class TenantProfileQuery:
    @strawberry.field(
        extensions=access(PUBLIC),
        description="Public facts of the tenant in service that verified this hostname (null for an "
        "unverified or unknown one), for pages served on custom domains.",
    )
    async def tenant_by_domain(
        self,
        info: Info,
        hostname: Annotated[
            str, strawberry.argument(description="The hostname the page was served on (any case).")
        ],
    ) -> PublicTenant | None:
        profile = await tenant_profile.public_profile_by_domain(info.context.services, hostname)
        return PublicTenant.of(profile) if profile else None

    @strawberry.field(
        extensions=access(PUBLIC),
        description="Public facts of the tenant in service with exactly this name (any case, outer "
        "spaces ignored); null when none or several tenants in service have it (look up by slug then).",
    )
    async def tenant_by_name(
        self,
        info: Info,
        name: Annotated[str, strawberry.argument(description="The tenant's display name.")],
    ) -> PublicTenant | None:
        profile = await tenant_profile.public_profile_by_name(info.context.services, name)
        return PublicTenant.of(profile) if profile else None


@strawberry.type
class TenantProfileMutation:
    @strawberry.mutation(
        extensions=access(TENANT_ADMIN),
        description="Merge a JSON merge patch (RFC 7396) into a tenant's settings: null removes a key.",
    )
    async def patch_tenant_settings(
        self,
        info: Info,
        input: Annotated[PatchTenantSettingsInput, strawberry.argument(description="The tenant and patch.")],
    ) -> TenantPayload:
        call = tenant_profile.patch_settings(
            info.context.services, parse_uuid(input.id, "Tenant"), cast("object", input.patch)
        )
        return await mutation_payload(TenantPayload, call, _tenant_payload)

    @strawberry.mutation(
        extensions=access(PLATFORM_ADMIN), description="Set a tenant's quotas and trial end."
    )
    async def update_tenant_limits(
        self,
        info: Info,
        input: Annotated[
            UpdateTenantLimitsInput, strawberry.argument(description="The tenant and the limits to set.")
        ],
    ) -> TenantPayload:
        given = {name: getattr(input, name) for name in LIMIT_FIELDS}
        changes = {name: value for name, value in given.items() if value is not strawberry.UNSET}
        call = tenant_profile.update_limits(info.context.services, parse_uuid(input.id, "Tenant"), changes)
        return await mutation_payload(TenantPayload, call, _tenant_payload)

    @strawberry.mutation(
        extensions=access(PLATFORM_ADMIN),
        description="Soft-delete a tenant: sessions end, sign-in stops, hidden from lists and lookups; "
        "restorable for tenantRestoreDays.",
    )
    async def delete_tenant(
        self,
        info: Info,
        input: Annotated[TenantIdInput, strawberry.argument(description="The tenant to delete.")],
    ) -> TenantPayload:
        call = tenant_profile.delete_tenant(info.context.services, parse_uuid(input.id, "Tenant"))
        return await mutation_payload(TenantPayload, call, _tenant_payload)

    @strawberry.mutation(
        extensions=access(PLATFORM_ADMIN),
        description="Take back a tenant's deletion within the restore period.",
    )
    async def restore_tenant(
        self,
        info: Info,
        input: Annotated[TenantIdInput, strawberry.argument(description="The deleted tenant to restore.")],
    ) -> TenantPayload:
        call = tenant_profile.restore_tenant(info.context.services, parse_uuid(input.id, "Tenant"))
        return await mutation_payload(TenantPayload, call, _tenant_payload)

    @strawberry.mutation(
        extensions=access(TENANT_ADMIN),
        description="Change a tenant's contact name, email and phone, billing email and allowed origins.",
    )
    async def update_tenant_contact(
        self,
        info: Info,
        input: Annotated[
            UpdateTenantContactInput, strawberry.argument(description="The tenant and the fields to change.")
        ],
    ) -> TenantPayload:
        call = tenant_contact.update_contact(
            info.context.services, _tenant_or_own(info, input.tenant_id), input.changes()
        )
        return await mutation_payload(TenantPayload, call, _tenant_payload)

    @strawberry.mutation(extensions=access(TENANT_ADMIN), description="Change a tenant's branding.")
    async def update_tenant_branding(
        self,
        info: Info,
        input: Annotated[
            UpdateTenantBrandingInput, strawberry.argument(description="The tenant and the fields to change.")
        ],
    ) -> TenantBrandingPayload:
        call = tenant_profile.set_branding(
            info.context.services, _tenant_or_own(info, input.tenant_id), input.changes()
        )
        return await mutation_payload(
            TenantBrandingPayload,
            call,
            lambda row: TenantBrandingPayload(branding=TenantBranding.from_model(row)),
        )

    @strawberry.mutation(
        extensions=access(TENANT_ADMIN),
        description="Claim a hostname for a tenant: answers the DNS TXT record to publish (or the file to "
        "serve over HTTP) before verifying.",
    )
    async def add_tenant_domain(
        self,
        info: Info,
        input: Annotated[AddTenantDomainInput, strawberry.argument(description="The tenant and hostname.")],
    ) -> TenantDomainPayload:
        call = domains.add_domain(
            info.context.services, _tenant_or_own(info, input.tenant_id), input.hostname, input.method
        )
        return await mutation_payload(TenantDomainPayload, call, _domain_payload(info))

    @strawberry.mutation(
        extensions=access(TENANT_ADMIN),
        description="Look the domain's challenge up (its TXT record in DNS, or its file over HTTP); once "
        "found, the domain resolves to the tenant.",
    )
    async def verify_tenant_domain(
        self,
        info: Info,
        input: Annotated[TenantDomainIdInput, strawberry.argument(description="The domain to verify.")],
    ) -> TenantDomainPayload:
        call = domains.verify_domain(info.context.services, parse_uuid(input.id, "TenantDomain"))
        return await mutation_payload(TenantDomainPayload, call, _domain_payload(info))

    @strawberry.mutation(
        extensions=access(TENANT_ADMIN), description="Remove a custom domain: it no longer resolves."
    )
    async def remove_tenant_domain(
        self,
        info: Info,
        input: Annotated[TenantDomainIdInput, strawberry.argument(description="The domain to remove.")],
    ) -> RemoveTenantDomainPayload:
        call = domains.remove_domain(info.context.services, parse_uuid(input.id, "TenantDomain"))
        return await mutation_payload(RemoveTenantDomainPayload, call, _removed)
