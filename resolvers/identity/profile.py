"""Profile resolvers: the avatar library, avatar choice, preferences and the email change."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from strawberry.types import Info

from core.errors import invalid
from core.scopes import ApiScope
from loaders.pagination import PageArgs
from models.identity.accounts import User as UserRow
from resolvers.identity.accounts import user_payload
from schema.directives import AUTHENTICATED, PUBLIC, HasScope, access
from schema.errors import mutation_payload
from schema.identity.accounts import UserPayload
from schema.identity.profile import (
    AvatarLibraryEntry,
    ConfirmEmailChangeInput,
    PatchMyPreferencesInput,
    RequestEmailChangeInput,
    RequestEmailChangePayload,
    SetMyAvatarInput,
)
from schema.pagination import After, Before, Connection, First, Last, connection
from services.identity import avatars, profile
from services.identity.errors import IdentityErrorCode
from services.identity.profile import EmailChangeSent

WRITE = HasScope(ApiScope.USERS_WRITE)


def _library_id(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise invalid(
            "avatarId", IdentityErrorCode.UNKNOWN_AVATAR, "No avatar of the library has this id."
        ) from None


def _sent(sent: EmailChangeSent) -> RequestEmailChangePayload:
    return RequestEmailChangePayload(sent_to=sent.sent_to, expires_at=sent.expires_at)


@strawberry.type
class ProfileQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED), description="The pictures a user may pick as avatar (setMyAvatar)."
    )
    async def avatar_library(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[AvatarLibraryEntry]:
        base = info.context.services.settings.public_url.rstrip("/")
        page = avatars.library_page(PageArgs(first, after, last, before))
        return connection(page, lambda entry: AvatarLibraryEntry.of(entry, base))


@strawberry.type
class ProfileMutation:
    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE),
        description="Pick your avatar from the library, or remove it (custom images: POST /users/me/avatar).",
    )
    async def set_my_avatar(
        self, info: Info, input: Annotated[SetMyAvatarInput, strawberry.argument(description="The picture.")]
    ) -> UserPayload:
        services = info.context.services

        async def chosen() -> UserRow:
            return await avatars.choose_library_avatar(services, _library_id(input.avatar_id))

        return await mutation_payload(UserPayload, chosen(), user_payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, WRITE),
        description="Merge a JSON patch into your preferences (bounded in size and depth).",
    )
    async def patch_my_preferences(
        self,
        info: Info,
        input: Annotated[PatchMyPreferencesInput, strawberry.argument(description="The merge patch.")],
    ) -> UserPayload:
        call = profile.patch_preferences(info.context.services, input.patch)
        return await mutation_payload(UserPayload, call, user_payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Ask to change your sign-in address: a link goes to the new address (and a notice "
        "to the current one); the address changes when the link comes back (confirmEmailChange).",
    )
    async def request_email_change(
        self,
        info: Info,
        input: Annotated[RequestEmailChangeInput, strawberry.argument(description="The new address.")],
    ) -> RequestEmailChangePayload:
        call = profile.request_email_change(info.context.services, input.new_email, input.current_password)
        return await mutation_payload(RequestEmailChangePayload, call, _sent)

    @strawberry.mutation(
        extensions=access(PUBLIC),
        description="Finish an email change with the mailed link's token: the new address is the "
        "account's sign-in address from now on, and verified.",
    )
    async def confirm_email_change(
        self,
        info: Info,
        input: Annotated[ConfirmEmailChangeInput, strawberry.argument(description="The link's token.")],
    ) -> UserPayload:
        call = profile.confirm_email_change(info.context.services, input.token)
        return await mutation_payload(UserPayload, call, user_payload)
