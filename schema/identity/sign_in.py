"""Sign-in types: credentials, registration, refresh and password change, and the tokens they
answer."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.errors import UserError, user_errors_field
from schema.identity.accounts import User


@strawberry.input(description="Credentials for signing in to one tenant.")
class LoginInput:
    tenant_slug: str = strawberry.field(description="The tenant's slug, as on its sign-in screen.")
    email: str = strawberry.field(description="The account's email address (any case).")
    password: str = strawberry.field(description="The account's password.")


@strawberry.input(description="A new account in an existing tenant (self-service sign-up).")
class RegisterInput:
    tenant_slug: str = strawberry.field(description="The tenant to join, by slug.")
    email: str = strawberry.field(description="Sign-in address; must be free in the tenant.")
    full_name: str = strawberry.field(description="The person's name.")
    password: str = strawberry.field(description="At least 8 characters, not a common password.")


@strawberry.input(description="A refresh token to trade for new tokens.")
class RefreshInput:
    refresh_token: str = strawberry.field(description="The latest refresh token of the session.")


@strawberry.input(description="A password change by the signed-in user.")
class ChangePasswordInput:
    current_password: str = strawberry.field(description="The password in use now.")
    new_password: str = strawberry.field(
        description="At least 8 characters, not a common password, not the current one."
    )


@strawberry.type(description="The result of signing in, registering or refreshing: tokens, or userErrors.")
class AuthPayload:
    user: User | None = strawberry.field(default=None, description="Who is now signed in.")
    access_token: str | None = strawberry.field(
        default=None,
        description="Send as `Authorization: Bearer <token>` (HTTP) or in connection_init (websocket). "
        "Short-lived (15 minutes by default).",
    )
    access_token_expires_at: datetime | None = strawberry.field(
        default=None, description="When the access token stops working (UTC): refresh before."
    )
    refresh_token: str | None = strawberry.field(
        default=None, description="Opaque; rotated on every refresh. A reused one ends the session."
    )
    refresh_token_expires_at: datetime | None = strawberry.field(
        default=None, description="When the session ends unless refreshed (UTC; 30 days by default)."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of signing out.")
class LogoutPayload:
    sessions_ended: int = strawberry.field(default=0, description="How many sessions were ended.")
    user_errors: list[UserError] = user_errors_field()
