"""User administration resolvers (seed 003): a tenant admin creates, deletes (anonymises) and
bans users, and forces a password change."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core.permissions import TENANT_ADMINS
from resolvers.identity.accounts import user_payload
from schema.directives import HasRole, access
from schema.errors import mutation_payload
from schema.identity.accounts import User, UserIdInput, UserPayload
from schema.identity.user_admin import BanUserInput, CreateUserInput, CreateUserPayload
from schema.nodes import parse_uuid
from services.identity import user_admin
from services.identity.user_admin import CreatedUser

TENANT_ADMIN = HasRole(*TENANT_ADMINS)


def _created(created: CreatedUser) -> CreateUserPayload:
    return CreateUserPayload(user=User.from_model(created.user), one_time_password=created.one_time_password)


@strawberry.type
class UserAdminMutation:
    @strawberry.mutation(
        extensions=access(TENANT_ADMIN),
        description="Create a user of the tenant; without a password a one-time one is generated and "
        "returned once (the user must change it at first sign-in).",
    )
    async def create_user(
        self,
        info: Info,
        input: Annotated[CreateUserInput, strawberry.argument(description="The new user.")],
    ) -> CreateUserPayload:
        call = user_admin.create_user(
            info.context.services,
            email=input.email,
            full_name=input.full_name,
            roles=input.roles,
            password=input.password,
        )
        return await mutation_payload(CreateUserPayload, call, _created)

    @strawberry.mutation(
        extensions=access(TENANT_ADMIN),
        description="Delete a user: anonymised (email, name, password, roles and sessions gone; status "
        "DELETED), the row kept for their orders and invoices. Not yourself.",
    )
    async def delete_user(
        self,
        info: Info,
        input: Annotated[UserIdInput, strawberry.argument(description="The user to delete.")],
    ) -> UserPayload:
        call = user_admin.delete_user(info.context.services, parse_uuid(input.id, "User"))
        return await mutation_payload(UserPayload, call, user_payload)

    @strawberry.mutation(
        extensions=access(TENANT_ADMIN),
        description="Ban a user until a date (or until unbanUser): sessions end, sign-in answers "
        "ACCOUNT_BANNED with the date. Not yourself.",
    )
    async def ban_user(
        self,
        info: Info,
        input: Annotated[
            BanUserInput, strawberry.argument(description="The user, the reason, the unblock date.")
        ],
    ) -> UserPayload:
        call = user_admin.ban_user(
            info.context.services, parse_uuid(input.id, "User"), reason=input.reason, until=input.unblock_at
        )
        return await mutation_payload(UserPayload, call, user_payload)

    @strawberry.mutation(
        extensions=access(TENANT_ADMIN), description="Lift a user's ban before its unblock date."
    )
    async def unban_user(
        self,
        info: Info,
        input: Annotated[UserIdInput, strawberry.argument(description="The banned user.")],
    ) -> UserPayload:
        call = user_admin.unban_user(info.context.services, parse_uuid(input.id, "User"))
        return await mutation_payload(UserPayload, call, user_payload)

    @strawberry.mutation(
        extensions=access(TENANT_ADMIN),
        description="Force a password change: the user's sessions end, they are told by mail, and after "
        "signing in they may only change the password.",
    )
    async def force_password_reset(
        self,
        info: Info,
        input: Annotated[UserIdInput, strawberry.argument(description="The user.")],
    ) -> UserPayload:
        call = user_admin.force_password_reset(info.context.services, parse_uuid(input.id, "User"))
        return await mutation_payload(UserPayload, call, user_payload)
