"""Linked identity resolvers: my linked sign-in identities, unlinking one, and signing in with or
linking the Telegram Login Widget."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.identity.accounts import user_payload
from resolvers.identity.sign_in import signed_in_or_challenged
from schema.directives import AUTHENTICATED, PUBLIC, access
from schema.errors import mutation_payload
from schema.identity.accounts import UserPayload
from schema.identity.linked_identities import (
    LINKED_IDENTITY,
    LinkedIdentity,
    LinkTelegramIdentityInput,
    LoginWithTelegramInput,
    UnlinkIdentityInput,
    UnlinkIdentityPayload,
)
from schema.identity.sign_in import AuthPayload
from schema.nodes import parse_uuid
from schema.pagination import After, Before, Connection, First, Last, connection, page_args
from services.identity import linked_identities, telegram


@strawberry.type
class LinkedIdentityQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="The provider accounts (OAuth / OIDC, Telegram) that sign in as you, newest first.",
    )
    async def my_linked_identities(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[LinkedIdentity]:
        page = await linked_identities.list_my_identities(
            info.context.services, page_args(first, after, last, before)
        )
        return connection(page, LinkedIdentity.from_model)


@strawberry.type
class LinkedIdentityMutation:
    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Unlink one of your identities: it no longer signs in as you (sessions it opened stay "
        "open; revoke them apart). Refused (LAST_SIGN_IN_METHOD) if it is your last way to sign in: no "
        "password and no other identity. Another user's is NOT_FOUND.",
    )
    async def unlink_identity(
        self,
        info: Info,
        input: Annotated[UnlinkIdentityInput, strawberry.argument(description="The identity to unlink.")],
    ) -> UnlinkIdentityPayload:
        call = linked_identities.unlink_identity(info.context.services, parse_uuid(input.id, LINKED_IDENTITY))
        return await mutation_payload(
            UnlinkIdentityPayload,
            call,
            lambda row: UnlinkIdentityPayload(linked_identity=LinkedIdentity.from_model(row)),
        )

    @strawberry.mutation(
        extensions=access(PUBLIC),
        description="Sign in with the Telegram Login Widget's data: checked by its hash (HMAC-SHA256 keyed "
        "by the bot token), fresh (telegram_auth_max_age_seconds) and used once. The Telegram account's "
        "user signs in, or a new one (without email) is created in the tenant; link Telegram to an "
        "existing account with `linkTelegramIdentity`.",
    )
    async def login_with_telegram(
        self,
        info: Info,
        input: Annotated[LoginWithTelegramInput, strawberry.argument(description="Tenant and widget data.")],
    ) -> AuthPayload:
        call = telegram.login(info.context.services, input.tenant_slug, input.auth_data.fields())
        return await mutation_payload(AuthPayload, call, lambda s: signed_in_or_challenged(info, s))

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Link a Telegram account to yours by the Telegram Login Widget's data (checked as in "
        "`loginWithTelegram`); from then on it signs in as you.",
    )
    async def link_telegram_identity(
        self,
        info: Info,
        input: Annotated[LinkTelegramIdentityInput, strawberry.argument(description="The widget data.")],
    ) -> UserPayload:
        call = telegram.link(info.context.services, input.auth_data.fields())
        return await mutation_payload(UserPayload, call, user_payload)
