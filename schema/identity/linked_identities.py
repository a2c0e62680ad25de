"""Linked sign-in identity types: a provider account that signs in as you, unlinking one, and the
Telegram Login Widget's data (sign-in and linking)."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay

from models.identity.oauth import UserIdentity
from schema.errors import UserError, user_errors_field

LINKED_IDENTITY = "LinkedIdentity"


@strawberry.type(
    name="LinkedIdentity",
    description="A provider account (Google, GitHub, an OIDC issuer, Telegram ...) that signs in as you.",
)
class LinkedIdentity:
    id: relay.GlobalID = strawberry.field(description="Its global id (for unlinkIdentity).")
    provider: str = strawberry.field(
        description="The provider's name, as `oauthProviders` lists it, or `telegram`."
    )
    email: str | None = strawberry.field(
        description="The provider's email address when last seen, if it has one."
    )
    display_name: str | None = strawberry.field(
        description="What else the provider calls the account (a Telegram username)."
    )
    linked_at: datetime = strawberry.field(description="When it was linked (UTC).")
    last_sign_in_at: datetime | None = strawberry.field(
        description="When it last signed in (UTC); null if never."
    )

    @classmethod
    def from_model(cls, row: UserIdentity) -> Self:
        return cls(
            id=relay.GlobalID(LINKED_IDENTITY, str(row.id)),
            provider=row.provider,
            email=row.email,
            display_name=row.display_name,
            linked_at=row.created_at,
            last_sign_in_at=row.last_login_at,
        )


@strawberry.input(description="One of your linked identities, by id.")
class UnlinkIdentityInput:
    id: relay.GlobalID = strawberry.field(description="The identity's global id (from myLinkedIdentities).")


@strawberry.type(description="The result of unlinkIdentity: the identity unlinked, or userErrors.")
class UnlinkIdentityPayload:
    linked_identity: LinkedIdentity | None = strawberry.field(
        default=None, description="The identity, no longer signing in as you."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(
    description="The data the Telegram Login Widget hands the page (its callback's user object, or "
    "its redirect's query), unchanged: the hash covers every field."
)
class TelegramAuthDataInput:
    id: str = strawberry.field(description="The Telegram user id (`id`; a 64-bit number, as text).")
    auth_date: str = strawberry.field(
        description="When the user logged in (`auth_date`, Unix seconds, as text)."
    )
    hash: str = strawberry.field(description="The widget's HMAC-SHA256 of the other fields (`hash`, hex).")
    first_name: str | None = strawberry.field(
        default=None, description="`first_name`, if the widget sent it."
    )
    last_name: str | None = strawberry.field(default=None, description="`last_name`, if the widget sent it.")
    username: str | None = strawberry.field(default=None, description="`username`, if the widget sent it.")
    photo_url: str | None = strawberry.field(default=None, description="`photo_url`, if the widget sent it.")

    def fields(self) -> dict[str, str]:
        """The fields as the widget named them (those it sent)."""
        given = {
            "id": self.id,
            "auth_date": self.auth_date,
            "hash": self.hash,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "username": self.username,
            "photo_url": self.photo_url,
        }
        return {key: value for key, value in given.items() if value is not None}


@strawberry.input(description="Sign in to a tenant with the Telegram Login Widget.")
class LoginWithTelegramInput:
    tenant_slug: str = strawberry.field(description="The tenant to sign in to.")
    auth_data: TelegramAuthDataInput = strawberry.field(description="The widget's data, unchanged.")


@strawberry.input(description="Link a Telegram account to yours with the Telegram Login Widget.")
class LinkTelegramIdentityInput:
    auth_data: TelegramAuthDataInput = strawberry.field(description="The widget's data, unchanged.")
