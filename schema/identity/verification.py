"""Verification and recovery types: proving an email address or phone number, and resetting a
forgotten password."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.errors import UserError, user_errors_field
from schema.identity.accounts import User

TENANT_OF_LINK = (
    "The tenant the link is for (our links carry it as `tenant`): a token of another tenant is then "
    "INVALID_VERIFICATION_TOKEN. Omitted: the token alone names its tenant."
)


@strawberry.input(
    description="The token of an email verification link, or the code of its mail (with the token, or "
    "signed in: the latest mail), or both."
)
class VerifyEmailInput:
    token: str | None = strawberry.field(
        default=None, description="The link's `token` parameter; omitted: signed in, with `code`."
    )
    code: str | None = strawberry.field(
        default=None,
        description="The 6-digit code of the mail (wrong codes count: VERIFICATION_ATTEMPTS_EXCEEDED "
        "after verificationMaxAttempts).",
    )
    tenant_slug: str | None = strawberry.field(default=None, description=TENANT_OF_LINK)


@strawberry.input(description="The code texted to your phone number.")
class VerifyPhoneInput:
    code: str = strawberry.field(description="The six digits of the latest text message.")


@strawberry.input(description="Which account forgot its password: by email or by phone number.")
class RequestPasswordResetInput:
    tenant_slug: str = strawberry.field(description="The tenant's slug, as on its sign-in screen.")
    email: str | None = strawberry.field(
        default=None, description="The account's email address: the link is mailed there."
    )
    phone: str | None = strawberry.field(
        default=None,
        description="Or its phone number in international form (e.g. +49 30 1234567): the link is "
        "texted there. With both, the email is used.",
    )


@strawberry.input(description="A new password, with the token of a password reset link.")
class ResetPasswordInput:
    token: str = strawberry.field(description="The link's `token` parameter.")
    new_password: str = strawberry.field(
        description="At least 8 characters (or the tenant's minimum), not a common password."
    )
    tenant_slug: str | None = strawberry.field(default=None, description=TENANT_OF_LINK)


@strawberry.type(description="Where a verification link or code was sent, or userErrors.")
class VerificationSentPayload:
    sent_to: str | None = strawberry.field(
        default=None, description="The address, or the phone number with most digits hidden."
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the link or code stops working (UTC); a newer one replaces it."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of verifying an email address or phone number.")
class VerificationPayload:
    verified: bool = strawberry.field(default=False, description="Whether it is verified now.")
    user: User | None = strawberry.field(
        default=None, description="The verified account, when you may read it (you, signed in, or staff)."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(
    description="The answer to a password reset request: the same whether or not the account exists."
)
class PasswordResetRequestPayload:
    accepted: bool = strawberry.field(
        default=False,
        description="True whenever the input was well-formed: a link was sent if the account exists "
        "and may sign in (nothing tells whether it does).",
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of resetting a password.")
class PasswordResetPayload:
    password_reset: bool = strawberry.field(
        default=False,
        description="True when the new password is set: every session of the account was ended; "
        "sign in with it.",
    )
    user_errors: list[UserError] = user_errors_field()
