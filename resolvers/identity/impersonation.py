"""Platform impersonation's root fields."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core.permissions import PLATFORM_ADMINS
from schema.directives import AUTHENTICATED, HasRole, access
from schema.identity.accounts import User
from schema.identity.impersonation import EndImpersonationPayload, ImpersonateUserInput, ImpersonationPayload
from schema.nodes import parse_uuid
from services.identity import impersonation


@strawberry.type
class ImpersonationMutation:
    @strawberry.mutation(
        extensions=access(HasRole(*PLATFORM_ADMINS)),
        description="Acts as a tenant administrator for support: a short-lived, marked access token "
        "(only tenant administrators may be impersonated).",
    )
    async def impersonate_user(
        self,
        info: Info,
        input: Annotated[ImpersonateUserInput, strawberry.argument(description="Whom, and why.")],
    ) -> ImpersonationPayload:
        user_id = parse_uuid(input.user_id, "User")
        done = await impersonation.impersonate(info.context.services, user_id, input.reason)
        return ImpersonationPayload(
            access_token=done.access_token, expires_at=done.expires_at, user=User.from_model(done.user)
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Ends the impersonation whose token calls it (logged in the audit log).",
    )
    async def end_impersonation(self, info: Info) -> EndImpersonationPayload:
        await impersonation.end_impersonation(info.context.services)
        return EndImpersonationPayload(ended=True)
