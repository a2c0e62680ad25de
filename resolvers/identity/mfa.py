"""MFA and tenant security settings resolvers: TOTP setup, verification, completing a sign-in,
turning MFA off; reading and changing the tenant's security settings."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core.permissions import TENANT_ADMINS
from resolvers.identity.accounts import user_payload
from resolvers.identity.sign_in import auth_payload
from schema.directives import AUTHENTICATED, PUBLIC, HasRole, access
from schema.errors import mutation_payload
from schema.identity.accounts import User, UserPayload
from schema.identity.mfa import (
    CompleteMfaLoginInput,
    DisableMfaInput,
    MfaSetupPayload,
    SecuritySettings,
    SecuritySettingsPayload,
    SetupMfaInput,
    UpdateSecuritySettingsInput,
    VerifyMfaSetupInput,
)
from schema.identity.sign_in import AuthPayload
from services.identity import mfa, security
from services.identity.mfa import MfaSetup, MfaVerified, SecondFactor
from services.identity.security import SecurityChanges, SecurityPolicy

TENANT_ADMIN = HasRole(*TENANT_ADMINS)


def _setup_payload(setup: MfaSetup) -> MfaSetupPayload:
    return MfaSetupPayload(
        secret=setup.secret, otpauth_uri=setup.otpauth_uri, recovery_codes=list(setup.recovery_codes)
    )


def _verified_payload(info: Info, verified: MfaVerified) -> AuthPayload:
    if verified.sign_in is not None:
        return auth_payload(info, verified.sign_in)
    return AuthPayload(user=User.from_model(verified.user))


def _settings_payload(policy: SecurityPolicy) -> SecuritySettingsPayload:
    return SecuritySettingsPayload(security_settings=SecuritySettings.from_policy(policy))


@strawberry.type
class MfaQuery:
    @strawberry.field(
        extensions=access(TENANT_ADMIN),
        description="The security settings of the tenant you act in (TENANT_ADMIN).",
    )
    async def security_settings(self, info: Info) -> SecuritySettings:
        return SecuritySettings.from_policy(await security.read_security_settings(info.context.services))


@strawberry.type
class MfaMutation:
    @strawberry.mutation(
        extensions=access(PUBLIC),
        description="Start TOTP MFA: a new secret, its otpauth URI and ten recovery codes, in force once "
        "verifyMfaSetup accepts a code. Signed in, or with the challenge of a login answered "
        "MFA_SETUP_REQUIRED (UNAUTHENTICATED with neither).",
    )
    async def setup_mfa(
        self,
        info: Info,
        input: Annotated[
            SetupMfaInput | None, strawberry.argument(description="The setup challenge, without a session.")
        ] = None,
    ) -> MfaSetupPayload:
        call = mfa.setup_mfa(info.context.services, input.challenge if input else None)
        return await mutation_payload(MfaSetupPayload, call, _setup_payload)

    @strawberry.mutation(
        extensions=access(PUBLIC),
        description="Turn MFA on with the authenticator's current code. With a setup challenge (no "
        "session) the answer also holds the tokens of that sign-in; signed in, only `user`.",
    )
    async def verify_mfa_setup(
        self,
        info: Info,
        input: Annotated[
            VerifyMfaSetupInput, strawberry.argument(description="The code, and the setup challenge.")
        ],
    ) -> AuthPayload:
        call = mfa.verify_mfa_setup(info.context.services, input.code, input.challenge)
        return await mutation_payload(AuthPayload, call, lambda verified: _verified_payload(info, verified))

    @strawberry.mutation(
        extensions=access(PUBLIC),
        description="Finish signing in to an MFA account: the login's mfaChallenge and the "
        "authenticator's code or a recovery code; answers the tokens.",
    )
    async def complete_mfa_login(
        self,
        info: Info,
        input: Annotated[
            CompleteMfaLoginInput,
            strawberry.argument(description="The challenge, and a code or a recovery code."),
        ],
    ) -> AuthPayload:
        factor = SecondFactor(code=input.code, recovery_code=input.recovery_code)
        call = mfa.complete_mfa_login(info.context.services, input.challenge, factor)
        return await mutation_payload(AuthPayload, call, lambda sign_in: auth_payload(info, sign_in))

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Turn MFA off, with the authenticator's current code; its recovery codes stop working.",
    )
    async def disable_mfa(
        self,
        info: Info,
        input: Annotated[DisableMfaInput, strawberry.argument(description="A current code.")],
    ) -> UserPayload:
        return await mutation_payload(
            UserPayload, mfa.disable_mfa(info.context.services, input.code), user_payload
        )

    @strawberry.mutation(
        extensions=access(TENANT_ADMIN),
        description="Change the security settings of the tenant you act in (TENANT_ADMIN); out-of-bounds "
        "values are userErrors OUT_OF_RANGE.",
    )
    async def update_security_settings(
        self,
        info: Info,
        input: Annotated[
            UpdateSecuritySettingsInput, strawberry.argument(description="The settings to change.")
        ],
    ) -> SecuritySettingsPayload:
        lifetime = input.session_lifetime_seconds
        changes = SecurityChanges(
            mfa_required_for_admins=input.mfa_required_for_admins,
            min_password_length=input.min_password_length,
            session_lifetime_seconds=None if lifetime is strawberry.UNSET else lifetime,
            clear_session_lifetime=lifetime is None,
        )
        call = security.update_security_settings(info.context.services, changes)
        return await mutation_payload(SecuritySettingsPayload, call, _settings_payload)
