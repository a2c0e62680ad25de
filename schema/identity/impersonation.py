"""Platform impersonation's inputs and payloads (services/identity/impersonation.py)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from schema.errors import UserError, user_errors_field
from schema.identity.accounts import User


@strawberry.input(
    name="ImpersonateUserInput", description="Whom to impersonate, and why (for the audit log)."
)
class ImpersonateUserInput:
    user_id: relay.GlobalID = strawberry.field(description="The tenant administrator to act as.")
    reason: str = strawberry.field(description="Why (a support case): recorded in the audit entry (1-500).")


@strawberry.type(
    name="ImpersonationPayload",
    description="A short-lived access token acting as the user, marked as impersonation: every audit "
    "entry made with it names the impersonator, and it may not change passwords, MFA, API keys or "
    "service clients (FORBIDDEN, extensions.reason IMPERSONATION_FORBIDDEN). No refresh token.",
)
class ImpersonationPayload:
    access_token: str | None = strawberry.field(default=None, description="The impersonation token.")
    expires_at: datetime | None = strawberry.field(default=None, description="When it expires (UTC).")
    user: User | None = strawberry.field(default=None, description="The user it acts as.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(name="EndImpersonationPayload", description="The result of endImpersonation.")
class EndImpersonationPayload:
    ended: bool = strawberry.field(description="The impersonation token is refused from now on.")
    user_errors: list[UserError] = user_errors_field()
