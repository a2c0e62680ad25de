"""Self-service tenant signup: a public mutation that creates a trial tenant and signs its first
admin in."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.identity.sign_in import auth_payload
from schema.directives import PUBLIC, access
from schema.errors import mutation_payload
from schema.identity.sign_in import AuthPayload
from schema.identity.tenant_signup import SignUpTenantInput
from services.identity.tenant_signup import TenantSignup, sign_up_tenant


@strawberry.type
class TenantSignupMutation:
    @strawberry.mutation(
        extensions=access(PUBLIC),
        description="Create a tenant on a trial with you as its first TENANT_ADMIN, and sign in; a "
        "verification link and code are mailed to contactEmail (verificationRequired until verified). "
        "TENANT_SIGNUP_DISABLED unless the platform takes signups; rate limited per client.",
    )
    async def sign_up_tenant(
        self,
        info: Info,
        input: Annotated[SignUpTenantInput, strawberry.argument(description="The tenant and its contact.")],
    ) -> AuthPayload:
        new = TenantSignup(
            slug=input.slug,
            name=input.name,
            kind=input.kind,
            contact_name=input.contact_name,
            contact_email=input.contact_email,
            contact_phone=input.contact_phone,
            password=input.password,
            accept_terms=input.accept_terms,
        )
        call = sign_up_tenant(info.context.services, new)
        return await mutation_payload(AuthPayload, call, lambda signed_in: auth_payload(info, signed_in))
