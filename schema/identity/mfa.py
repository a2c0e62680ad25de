"""MFA and tenant security settings types: factor setup (TOTP or SMS), verification, the sign-in
challenge and its completion, new recovery codes, SMS codes on request, an admin's MFA reset, the
tenant's security settings."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from models.identity.mfa import MfaMethod
from schema.errors import UserError, user_errors_field
from schema.identity.sign_in import AuthPayload
from services.identity.errors import IdentityErrorCode
from services.identity.security import (
    MIN_PASSWORD_LENGTH_RANGE,
    SESSION_LIFETIME_RANGE,
    IssuedChallenge,
    SecurityPolicy,
)


@strawberry.input(description="Start (or restart, before verifying) an MFA factor's setup.")
class SetupMfaInput:
    challenge: str | None = strawberry.field(
        default=None,
        description="Without a session: the mfaChallenge of a login answered MFA_SETUP_REQUIRED.",
    )
    method: MfaMethod = strawberry.field(
        default=MfaMethod.TOTP,
        description="TOTP (default) or SMS: SMS texts the account's phone number (NO_PHONE without one).",
    )
    label: str | None = strawberry.field(
        default=None, description="Your name for the factor (e.g. the phone's), shown back to you."
    )


@strawberry.input(description="The first code of the factor, to turn MFA on.")
class VerifyMfaSetupInput:
    code: str = strawberry.field(
        description="The 6-digit code the authenticator shows now, or the one texted (SMS)."
    )
    challenge: str | None = strawberry.field(
        default=None,
        description="Without a session: the mfaChallenge of a login answered MFA_SETUP_REQUIRED; "
        "the answer then carries the tokens of that sign-in.",
    )
    factor_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The setup's factorId; another (an older setup's) is INVALID_MFA_FACTOR. Optional.",
    )


@strawberry.input(description="The second step of signing in to an account with MFA.")
class CompleteMfaLoginInput:
    challenge: str = strawberry.field(description="The mfaChallenge the login answered.")
    code: str | None = strawberry.field(
        default=None,
        description="The authenticator's current 6-digit code, or the one the login texted (SMS "
        "factor); each code works once.",
    )
    recovery_code: str | None = strawberry.field(
        default=None, description="Instead of a code: one of the recovery codes (each works once)."
    )


@strawberry.input(description="Turn MFA off.")
class DisableMfaInput:
    code: str = strawberry.field(
        description="The authenticator's current 6-digit code, or (SMS) the one requestMfaCode texted."
    )


@strawberry.input(description="New recovery codes, confirmed by a current code of the factor.")
class RegenerateRecoveryCodesInput:
    code: str = strawberry.field(
        description="The authenticator's current 6-digit code, or (SMS) the one requestMfaCode texted."
    )


@strawberry.input(description="Changes to the tenant's security settings; omitted fields stay.")
class UpdateSecuritySettingsInput:
    mfa_required_for_admins: bool | None = strawberry.field(
        default=None, description="Whether TENANT_ADMINs must sign in with MFA."
    )
    min_password_length: int | None = strawberry.field(
        default=None,
        description=f"Shortest new password (register, changePassword): "
        f"{MIN_PASSWORD_LENGTH_RANGE[0]} to {MIN_PASSWORD_LENGTH_RANGE[1]}.",
    )
    session_lifetime_seconds: int | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"Longest a sign-in lasts, refreshes included: {SESSION_LIFETIME_RANGE[0]} to "
        f"{SESSION_LIFETIME_RANGE[1]} seconds; null removes the tenant's cap.",
    )


@strawberry.type(
    description="A factor's setup: add it to an authenticator (TOTP) or read the texted code (SMS), "
    "then verifyMfaSetup. Shown once."
)
class MfaSetupPayload:
    factor_id: strawberry.ID | None = strawberry.field(
        default=None, description="The factor's id (verifyMfaSetup's factorId)."
    )
    method: MfaMethod | None = strawberry.field(default=None, description="TOTP or SMS.")
    sent_to: str | None = strawberry.field(
        default=None, description="SMS: the masked number the first code went to; null for TOTP."
    )
    code_expires_at: datetime | None = strawberry.field(
        default=None, description="SMS: when the texted code stops working (UTC); null for TOTP."
    )
    secret: str | None = strawberry.field(
        default=None, description="The base32 secret, for typing into an authenticator."
    )
    otpauth_uri: str | None = strawberry.field(
        default=None,
        description="otpauth://totp/... (issuer: the tenant's name; account: the email), for a QR code.",
    )
    recovery_codes: list[str] | None = strawberry.field(
        default=None,
        description="Ten single-use codes that sign in instead of the authenticator; keep them safe.",
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="New recovery codes (the old ones stopped working), shown once, or userErrors.")
class RecoveryCodesPayload:
    recovery_codes: list[str] | None = strawberry.field(
        default=None, description="Ten single-use codes that sign in instead of the factor; keep them safe."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="Where an SMS factor's code went, or userErrors.")
class MfaCodeSentPayload:
    sent_to: str | None = strawberry.field(default=None, description="The masked number.")
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the code stops working (UTC); a newer one replaces it."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="A tenant's security policy, enforced at sign-in.")
class SecuritySettings:
    mfa_required_for_admins: bool = strawberry.field(
        description="TENANT_ADMINs without MFA get MFA_SETUP_REQUIRED at login (and a challenge to set it "
        "up with); those with MFA cannot turn it off."
    )
    min_password_length: int = strawberry.field(
        description="Shortest new password at register and changePassword (WEAK_PASSWORD otherwise)."
    )
    session_lifetime_seconds: int | None = strawberry.field(
        description="Longest a sign-in lasts from login, refreshes included (the refresh token expires "
        "then at the latest); null: the server's refresh-token lifetime."
    )
    updated_at: datetime | None = strawberry.field(description="Last change (UTC); null: never set.")

    @classmethod
    def from_policy(cls, policy: SecurityPolicy) -> Self:
        return cls(
            mfa_required_for_admins=policy.mfa_required_for_admins,
            min_password_length=policy.min_password_length,
            session_lifetime_seconds=policy.session_lifetime_seconds,
            updated_at=policy.updated_at,
        )


@strawberry.type(description="The tenant's security settings as they are now, or userErrors.")
class SecuritySettingsPayload:
    security_settings: SecuritySettings | None = strawberry.field(
        default=None, description="The settings after the change."
    )
    user_errors: list[UserError] = user_errors_field()


def challenge_payload(issued: IssuedChallenge) -> AuthPayload:
    """What a login answers in place of tokens."""
    errors = []
    if issued.setup_required:
        errors.append(
            UserError(
                field=None,
                code=IdentityErrorCode.MFA_SETUP_REQUIRED,
                message="This tenant requires MFA of administrators: set it up with mfaChallenge "
                "(setupMfa, then verifyMfaSetup).",
            )
        )
    return AuthPayload(
        mfa_required=not issued.setup_required,
        mfa_challenge=issued.challenge,
        mfa_challenge_expires_at=issued.expires_at,
        mfa_method=issued.method,
        mfa_code_sent_to=issued.code_sent_to,
        user_errors=errors,
    )
