"""MFA and tenant security settings resolvers: factor setup (TOTP or SMS), verification,
completing a sign-in, new recovery codes, SMS codes on request, turning MFA off, an admin's reset;
reading and changing the tenant's security settings."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core.permissions import TENANT_ADMINS
from resolvers.identity.accounts import user_payload
from resolvers.identity.sign_in import auth_payload
from schema.directives import AUTHENTICATED, PUBLIC, HasRole, access
from schema.errors import mutation_payload
from schema.identity.accounts import User, UserIdInput, UserPayload
from schema.identity.mfa import (
    CompleteMfaLoginInput,
    DisableMfaInput,
    MfaCodeSentPayload,
    MfaSetupPayload,
    RecoveryCodesPayload,
    RegenerateRecoveryCodesInput,
    SecuritySettings,
    SecuritySettingsPayload,
    SetupMfaInput,
    UpdateSecuritySettingsInput,
    VerifyMfaSetupInput,
)
from schema.identity.sign_in import AuthPayload
from schema.nodes import parse_uuid
from services.identity import mfa, mfa_factors, security
from services.identity.mfa import CodeSent, MfaSetup, MfaVerified, SecondFactor
from services.identity.security import SecurityChanges, SecurityPolicy

TENANT_ADMIN = HasRole(*TENANT_ADMINS)


def _setup_payload(setup: MfaSetup) -> MfaSetupPayload:
    return MfaSetupPayload(
        factor_id=strawberry.ID(str(setup.factor_id)),
        method=setup.method,
        sent_to=setup.sent_to,
        code_expires_at=setup.expires_at,
        secret=setup.secret,
        otpauth_uri=setup.otpauth_uri,
        recovery_codes=list(setup.recovery_codes),
    )


def _recovery_payload(codes: tuple[str, ...]) -> RecoveryCodesPayload:
    return RecoveryCodesPayload(recovery_codes=list(codes))


def _code_sent_payload(sent: CodeSent) -> MfaCodeSentPayload:
    return MfaCodeSentPayload(sent_to=sent.sent_to, expires_at=sent.expires_at)


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
        description="Start MFA: a new factor (its factorId) and ten recovery codes, in force once "
        "verifyMfaSetup accepts a code. TOTP: a secret and its otpauth URI; SMS: a code texted to the "
        "account's phone now. Signed in, or with the challenge of a login answered "
        "MFA_SETUP_REQUIRED (UNAUTHENTICATED with neither).",
    )
    async def setup_mfa(
        self,
        info: Info,
        input: Annotated[
            SetupMfaInput | None, strawberry.argument(description="The setup challenge, without a session.")
        ] = None,
    ) -> MfaSetupPayload:
        given = input or SetupMfaInput()
        call = mfa.setup_mfa(info.context.services, given.challenge, given.method, given.label)
        return await mutation_payload(MfaSetupPayload, call, _setup_payload)

    @strawberry.mutation(
        extensions=access(PUBLIC),
        description="Turn MFA on with the factor's first code (the authenticator's, or the texted "
        "one). With a setup challenge (no session) the answer also holds the tokens of that sign-in; "
        "signed in, only `user`.",
    )
    async def verify_mfa_setup(
        self,
        info: Info,
        input: Annotated[
            VerifyMfaSetupInput, strawberry.argument(description="The code, and the setup challenge.")
        ],
    ) -> AuthPayload:
        call = mfa.verify_mfa_setup(info.context.services, input.code, input.challenge, input.factor_id)
        return await mutation_payload(AuthPayload, call, lambda verified: _verified_payload(info, verified))

    @strawberry.mutation(
        extensions=access(PUBLIC),
        description="Finish signing in to an MFA account: the login's mfaChallenge and the "
        "authenticator's code (SMS factor: the code the login texted) or a recovery code; answers "
        "the tokens. The session shows the login's device, user agent and address.",
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
        description="Turn MFA off, with a current code of the factor (SMS: from requestMfaCode); its "
        "recovery codes stop working.",
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
        extensions=access(AUTHENTICATED),
        description="Ten new recovery codes, for a current code of the factor (SMS: from "
        "requestMfaCode); the old ones stop working, used or not. Shown once.",
    )
    async def regenerate_recovery_codes(
        self,
        info: Info,
        input: Annotated[RegenerateRecoveryCodesInput, strawberry.argument(description="A current code.")],
    ) -> RecoveryCodesPayload:
        call = mfa.regenerate_recovery_codes(info.context.services, input.code)
        return await mutation_payload(RecoveryCodesPayload, call, _recovery_payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Text your SMS factor a code (for disableMfa, regenerateRecoveryCodes, or a new "
        "one for verifyMfaSetup); the one before stops working. NOT_SMS_FACTOR for a TOTP factor.",
    )
    async def request_mfa_code(self, info: Info) -> MfaCodeSentPayload:
        call = mfa.request_mfa_code(info.context.services)
        return await mutation_payload(MfaCodeSentPayload, call, _code_sent_payload)

    @strawberry.mutation(
        extensions=access(TENANT_ADMIN),
        description="Turn a user's MFA off (a lost phone or authenticator), TENANT_ADMIN: factor and "
        "recovery codes go, open sign-in challenges end; the user sets it up again. Audited; refused "
        "(FORBIDDEN) in an impersonation session. MFA_NOT_ENABLED if the user has none.",
    )
    async def reset_user_mfa(
        self,
        info: Info,
        input: Annotated[UserIdInput, strawberry.argument(description="The user.")],
    ) -> UserPayload:
        call = mfa_factors.reset_user_mfa(info.context.services, parse_uuid(input.id, "User"))
        return await mutation_payload(UserPayload, call, user_payload)

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
