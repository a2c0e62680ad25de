"""User administration types (seed 003): creating a user, banning, deleting and forcing a
password change."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from core.permissions import Role
from schema.errors import UserError, user_errors_field
from schema.identity.accounts import User


@strawberry.input(description="A new user of the tenant, created by an admin.")
class CreateUserInput:
    email: str = strawberry.field(description="Sign-in address; must be free in the tenant.")
    full_name: str = strawberry.field(description="The person's name.")
    roles: list[Role] = strawberry.field(
        default_factory=lambda: [Role.USER],
        description="Roles in the tenant (at least one; PLATFORM_ADMIN only by platform admins).",
    )
    password: str | None = strawberry.field(
        default=None,
        description="Omit to have a one-time password generated: returned once, and the user must "
        "change it at first sign-in.",
    )


@strawberry.input(description="A ban: the user cannot sign in until the unblock date.")
class BanUserInput:
    id: relay.GlobalID = strawberry.field(description="The user's global id; not yourself.")
    reason: str = strawberry.field(description="Why (at most 500 characters); the user can read it.")
    unblock_at: datetime | None = strawberry.field(
        default=None,
        description="When sign-in works again by itself (ahead); omit to ban until unbanUser.",
    )


@strawberry.type(
    description="The result of creating a user: the user and any one-time password, or userErrors."
)
class CreateUserPayload:
    user: User | None = strawberry.field(default=None, description="The new user.")
    one_time_password: str | None = strawberry.field(
        default=None,
        description="Shown once when no password was given; never again. The user must change it.",
    )
    user_errors: list[UserError] = user_errors_field()
