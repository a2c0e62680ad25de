"""A user's profile in the API: the fields on User (what they tell about themself, their avatar;
opt-ins, birth date and preferences for themself only), the avatar library, and the inputs and
payloads of the profile mutations."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Self

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from models.identity import accounts
from models.identity.profile import Gender
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from services.identity import avatars
from services.identity.avatars import LibraryAvatar

documented_enum(
    Gender,
    "A user's gender, as they chose to give it.",
    {
        Gender.MALE: "The user says they are a man.",
        Gender.FEMALE: "The user says they are a woman.",
        Gender.OTHER: "The user gives another gender.",
        Gender.PREFER_NOT_TO_SAY: "The user prefers not to say.",
    },
)


@strawberry.type(description="Where the user wants to be told of things (account and product news).")
class NotificationOptIns:
    email: bool = strawberry.field(description="By mail to their address.")
    sms: bool = strawberry.field(description="By text message to their phone.")
    push: bool = strawberry.field(description="By push notification in the apps.")
    telegram: bool = strawberry.field(description="By Telegram message.")


@strawberry.type(description="A picture of the avatar library, for setMyAvatar.")
class AvatarLibraryEntry:
    id: strawberry.ID = strawberry.field(description="The picture's id (a UUID), for setMyAvatar.")
    name: str = strawberry.field(description="What the picture shows.")
    url: str = strawberry.field(description="Where the picture is served (an SVG image).")

    @classmethod
    def of(cls, entry: LibraryAvatar, base: str) -> Self:
        return cls(id=strawberry.ID(str(entry.id)), name=entry.name, url=base + avatars.library_url(entry.id))


@strawberry.type(description="What a user tells about themself, their avatar and preferences.")
class UserProfileFields:
    slogan: str | None = strawberry.field(description="A short line under the name; null if none.")
    about_me: str | None = strawberry.field(description="A few words about the user; null if none.")
    company_name: str | None = strawberry.field(description="Where the user works; null if not given.")
    website: str | None = strawberry.field(description="The user's web site (http or https); null if none.")
    avatar_path: strawberry.Private[str | None]
    profile_user_id: strawberry.Private[uuid.UUID]
    birth: strawberry.Private[date | None]
    gender_of: strawberry.Private[str | None]
    opt_ins: strawberry.Private[tuple[bool, bool, bool, bool]]
    preferences_of: strawberry.Private[dict[str, Any]]

    @staticmethod
    def fields_of(user: accounts.User) -> dict[str, Any]:
        """The keyword arguments of these fields for ``User.from_model``."""
        return {
            "slogan": user.slogan,
            "about_me": user.about_me,
            "company_name": user.company_name,
            "website": user.website,
            "avatar_path": avatars.avatar_path(user),
            "profile_user_id": user.id,
            "birth": user.birth_date,
            "gender_of": user.gender,
            "opt_ins": (
                user.notify_by_email,
                user.notify_by_sms,
                user.notify_by_push,
                user.notify_by_telegram,
            ),
            "preferences_of": user.preferences or {},
        }

    def _mine(self, info: Info) -> bool:
        principal = info.context.principal
        return principal is not None and principal.user_id == self.profile_user_id

    @strawberry.field(
        description="Where the user's avatar is served (a library picture or their upload); null if none."
    )
    def avatar_url(self, info: Info) -> str | None:
        if self.avatar_path is None:
            return None
        return avatars.absolute(info.context.services.settings, self.avatar_path)

    @strawberry.field(description="The user's date of birth; shown to the user only (null for others).")
    def birth_date(self, info: Info) -> date | None:
        return self.birth if self._mine(info) else None

    @strawberry.field(description="The user's gender, if given; shown to the user only (null for others).")
    def gender(self, info: Info) -> Gender | None:
        return Gender(self.gender_of) if self.gender_of and self._mine(info) else None

    @strawberry.field(
        description="Where the user wants to be told of things; shown to the user only (null for others)."
    )
    def notification_opt_ins(self, info: Info) -> NotificationOptIns | None:
        if not self._mine(info):
            return None
        email, sms, push, telegram = self.opt_ins
        return NotificationOptIns(email=email, sms=sms, push=push, telegram=telegram)

    @strawberry.field(
        description="The user's own settings for their clients (a JSON object; patchMyPreferences "
        "merges into it); shown to the user only (null for others)."
    )
    def preferences(self, info: Info) -> JSON | None:
        return JSON(self.preferences_of) if self._mine(info) else None


@strawberry.input(description="Profile fields of updateMe; omitted fields stay as they are.")
class ProfileInput:
    slogan: str | None = strawberry.field(
        default=strawberry.UNSET, description="Short line; empty or null clears."
    )
    about_me: str | None = strawberry.field(
        default=strawberry.UNSET, description="About you; empty or null clears."
    )
    company_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Where you work; empty or null clears."
    )
    website: str | None = strawberry.field(
        default=strawberry.UNSET, description="Your web site, an http(s) URL; empty or null clears."
    )
    birth_date: date | None = strawberry.field(
        default=strawberry.UNSET, description="Your date of birth (1900-01-01 to today); null clears."
    )
    gender: Gender | None = strawberry.field(
        default=strawberry.UNSET, description="Your gender; null clears."
    )
    notify_by_email: bool | None = strawberry.field(default=strawberry.UNSET, description="Tell me by mail.")
    notify_by_sms: bool | None = strawberry.field(default=strawberry.UNSET, description="Tell me by SMS.")
    notify_by_push: bool | None = strawberry.field(default=strawberry.UNSET, description="Tell me by push.")
    notify_by_telegram: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Tell me by Telegram."
    )

    def profile_changes(self) -> dict[str, object]:
        """The fields given (null included), by their stored names."""
        names = (
            "slogan",
            "about_me",
            "company_name",
            "website",
            "birth_date",
            "gender",
            "notify_by_email",
            "notify_by_sms",
            "notify_by_push",
            "notify_by_telegram",
        )
        return {name: getattr(self, name) for name in names if getattr(self, name) is not strawberry.UNSET}


@strawberry.input(description="Your avatar: a picture of the library (custom images: POST /users/me/avatar).")
class SetMyAvatarInput:
    avatar_id: strawberry.ID | None = strawberry.field(
        default=None, description="The library picture's id (avatarLibrary); null removes your avatar."
    )


@strawberry.input(description="A new sign-in address for your account, confirmed by a mailed link.")
class RequestEmailChangeInput:
    new_email: str = strawberry.field(description="The address to sign in with from now on.")
    current_password: str = strawberry.field(description="Your password, to show it is you.")


@strawberry.input(description="The link mailed to the new address.")
class ConfirmEmailChangeInput:
    token: str = strawberry.field(description="The token of the link.")


@strawberry.input(description="A JSON merge patch of your preferences.")
class PatchMyPreferencesInput:
    patch: JSON = strawberry.field(
        description="A JSON object merged into your preferences (RFC 7396: null removes a key)."
    )


@strawberry.type(description="Where the confirmation link of an email change went, or userErrors.")
class RequestEmailChangePayload:
    sent_to: str | None = strawberry.field(default=None, description="The new address the link went to.")
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the link stops working (UTC)."
    )
    user_errors: list[UserError] = user_errors_field()
