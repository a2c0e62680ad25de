"""Sign-in types: credentials, registration, refresh and password change, and the tokens they
answer."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models.identity.mfa import MfaMethod
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from schema.identity.accounts import User
from schema.identity.sessions import device_id_field, device_name_field

# Registered here, not in schema/identity/mfa.py: AuthPayload (below) names it, and is read first.
documented_enum(
    MfaMethod,
    "How a user's MFA factor gives its codes.",
    {
        MfaMethod.TOTP: "An authenticator app (RFC 6238 time-based codes).",
        MfaMethod.SMS: "A code texted to the account's phone number at each sign-in.",
    },
)


@strawberry.input(description="Credentials for signing in to one tenant.")
class LoginInput:
    tenant_slug: str = strawberry.field(description="The tenant's slug, as on its sign-in screen.")
    email: str | None = strawberry.field(default=None, description="The account's email address (any case).")
    phone: str | None = strawberry.field(
        default=None,
        description="The account's phone number in international form (e.g. +49 30 1234567), instead "
        "of `email`: exactly one of them (EMAIL_OR_PHONE otherwise).",
    )
    password: str = strawberry.field(description="The account's password.")
    device_id: str | None = device_id_field()
    device_name: str | None = device_name_field()


@strawberry.input(description="A new account in an existing tenant (self-service sign-up).")
class RegisterInput:
    tenant_slug: str = strawberry.field(description="The tenant to join, by slug.")
    email: str | None = strawberry.field(
        default=None,
        description="Sign-in address; must be free in the tenant. An email or a phone number (or both) "
        "is required (EMAIL_OR_PHONE); a verification link is mailed to it.",
    )
    phone: str | None = strawberry.field(
        default=None,
        description="Sign-in phone number in international form (e.g. +49 30 1234567), stored as E.164; "
        "must be free in the tenant. A verification code is texted to it.",
    )
    full_name: str | None = strawberry.field(
        default=None, description="The person's name; or give firstName and lastName (one is required)."
    )
    first_name: str | None = strawberry.field(default=None, description="Given name.")
    last_name: str | None = strawberry.field(default=None, description="Family name.")
    username: str | None = strawberry.field(
        default=None,
        description="Optional: 3 to 32 letters, digits, '.', '_' or '-' (stored lower case), unique in "
        "the tenant.",
    )
    password: str = strawberry.field(description="At least 8 characters, not a common password.")
    accept_terms: bool = strawberry.field(
        default=False,
        description="That the person accepts the tenant's terms; recorded with the time. Required when "
        "the tenant's settings hold requireTermsAcceptance: true (TERMS_NOT_ACCEPTED otherwise).",
    )
    affiliate_code: str | None = strawberry.field(
        default=None,
        description="The code of whoever referred the person (letters, digits, '_', '-'); stored.",
    )
    device_id: str | None = device_id_field()
    device_name: str | None = device_name_field()


@strawberry.input(description="A refresh token to trade for new tokens.")
class RefreshInput:
    refresh_token: str | None = strawberry.field(
        default=None,
        description="The latest refresh token of the session; when omitted, the refresh cookie's (the "
        "answer then sets the rotated token as the cookie instead of returning it).",
    )


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
    expires_in: int | None = strawberry.field(
        default=None, description="The access token's lifetime in seconds (OAuth 2.0's expires_in)."
    )
    token_type: str | None = strawberry.field(
        default=None, description='How to send the access token: "Bearer" (OAuth 2.0\'s token_type).'
    )
    refresh_token: str | None = strawberry.field(
        default=None,
        description="Opaque; rotated on every refresh. A reused one ends the session. Null when it "
        "travels in the httpOnly refresh cookie.",
    )
    refresh_token_expires_at: datetime | None = strawberry.field(
        default=None, description="When the session ends unless refreshed (UTC; 30 days by default)."
    )
    password_change_required: bool = strawberry.field(
        default=False,
        description="The user must change their password (a generated one, or reset by an admin): "
        "until changePassword, every operation but me, changePassword, logout and logoutAll is "
        "FORBIDDEN with extensions.reason PASSWORD_CHANGE_REQUIRED.",
    )
    mfa_required: bool = strawberry.field(
        default=False,
        description="The password was right and the account has MFA on: no tokens yet; send "
        "completeMfaLogin the mfaChallenge with the authenticator's code (or a recovery code).",
    )
    mfa_challenge: str | None = strawberry.field(
        default=None,
        description="Opaque, single use, short-lived (see mfaChallengeExpiresAt): completes the sign-in "
        "(completeMfaLogin) when mfaRequired, or with userError MFA_SETUP_REQUIRED lets the admin set "
        "MFA up (setupMfa, then verifyMfaSetup, which signs in).",
    )
    mfa_challenge_expires_at: datetime | None = strawberry.field(
        default=None, description="When mfaChallenge stops working (UTC): sign in again after it."
    )
    mfa_method: MfaMethod | None = strawberry.field(
        default=None, description="When mfaRequired: the factor completeMfaLogin wants a code of."
    )
    mfa_code_sent_to: str | None = strawberry.field(
        default=None,
        description="When mfaRequired with an SMS factor: the masked number the code was just texted to.",
    )
    verification_required: bool = strawberry.field(
        default=False,
        description="The account's email address or phone number is not verified yet: verifyEmail with "
        "the mailed link's token, verifyPhone with the texted code.",
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of signing out.")
class LogoutPayload:
    sessions_ended: int = strawberry.field(default=0, description="How many sessions were ended.")
    user_errors: list[UserError] = user_errors_field()
