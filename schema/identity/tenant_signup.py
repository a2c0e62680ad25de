"""Self-service tenant signup's input (services/identity/tenant_signup.py); it answers AuthPayload."""

from __future__ import annotations

import strawberry

from models.identity.accounts import TenantKind


@strawberry.input(description="A new tenant on a trial, and its contact person as its first TENANT_ADMIN.")
class SignUpTenantInput:
    slug: str = strawberry.field(
        description="Unique short name typed at sign-in: lowercase letters, digits and hyphens."
    )
    name: str = strawberry.field(description="The tenant's display name.")
    kind: TenantKind = strawberry.field(
        default=TenantKind.ENTERPRISE, description="RESELLER or ENTERPRISE (INTERNAL is refused)."
    )
    contact_name: str = strawberry.field(description="The contact person's name; the first admin's too.")
    contact_email: str = strawberry.field(
        description="The contact's address: the first admin signs in with it and is sent a verification link."
    )
    contact_phone: str | None = strawberry.field(
        default=None, description="The contact's phone, in international form with its country code."
    )
    password: str = strawberry.field(description="The first admin's password.")
    accept_terms: bool = strawberry.field(
        default=False, description="The person accepts the platform's terms (the time is recorded)."
    )
