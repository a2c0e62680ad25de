"""Multi-factor authentication: setup of a factor (TOTP: secret, otpauth URI; SMS: a code texted
to the user's number; ten recovery codes either way), the verification that turns it on,
completing a sign-in with a code or a recovery code, new recovery codes, turning it off. Codes
are rate-limited like passwords, per account and client IP. SMS codes: services/identity/
mfa_factors.py.

Login (services/identity/auth.py) asks services/identity/security.py:second_factor_challenge once
the password is right; for an MFA user it answers a LOGIN challenge instead of tokens, for an
admin whom the tenant requires MFA of and who has none a SETUP challenge (userError
MFA_SETUP_REQUIRED): with it, setupMfa and verifyMfaSetup work without a session, and the verified
setup signs them in."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, InvalidInput, invalid
from core.lengths import MAX_TOKEN_LENGTH
from core.principal import Principal, PrincipalKind
from core.scope import TenantScope
from models.base import utcnow
from models.identity.accounts import Tenant, User
from models.identity.mfa import (
    MfaChallenge,
    MfaChallengePurpose,
    MfaCredential,
    MfaMethod,
    MfaRecoveryCode,
)
from services.context import ServiceContext
from services.identity.accounts import length_problem, record_user_change, reject
from services.identity.auth import SignIn, sign_in_refusal, start_session
from services.identity.errors import IdentityErrorCode
from services.identity.mfa_factors import forget_mfa, open_confirmation, send_confirmation, sms_code_refusal
from services.identity.security import mfa_required_of
from services.identity.sessions import Device
from services.identity.totp import (
    UnreadableSecret,
    code_was_used,
    decrypt_secret,
    encrypt_secret,
    hash_challenge,
    hash_recovery_code,
    matching_step,
    new_recovery_codes,
    new_secret,
    provisioning_uri,
)

log = logging.getLogger(__name__)

ALL_TENANTS = TenantScope.all_tenants()
# A TOTP code has 6 digits, a recovery code 11 characters; room for spaces people type.
MAX_CODE_LENGTH = 32
MAX_LABEL_LENGTH = 100  # mfa_credentials.label
MAX_FACTOR_ID_LENGTH = 36  # a UUID's text


@dataclass(frozen=True, slots=True)
class MfaSetup:
    """Shown once: the factor's id and the recovery codes; TOTP: the secret (for typing in) and
    its otpauth:// URI (for a QR code); SMS: the masked number the first code went to."""

    factor_id: uuid.UUID
    method: MfaMethod
    recovery_codes: tuple[str, ...]
    secret: str | None = None
    otpauth_uri: str | None = None
    sent_to: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CodeSent:
    """Where an SMS factor's code went (masked) and until when it works."""

    sent_to: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class MfaVerified:
    user: User
    # The sign-in a SETUP challenge completes; None when a signed-in user verified.
    sign_in: SignIn | None


@dataclass(frozen=True, slots=True)
class SecondFactor:
    """What completes a sign-in: the authenticator's code, or one recovery code."""

    code: str | None = None
    recovery_code: str | None = None


def _person(ctx: ServiceContext) -> Principal:
    """The signed-in user changing their MFA: a sign-in session, not an API key or service."""
    principal = ctx.require_principal()
    if principal.kind is not PrincipalKind.SESSION:
        raise Forbidden("MFA is changed by a signed-in user, not with an API key or service token.")
    return principal


async def _check_code_attempts(ctx: ServiceContext, account: str) -> None:
    settings = ctx.settings
    await ctx.rate_limiter.check(
        "mfa",
        {
            "ip": (ctx.client_ip, settings.auth_rate_limit_per_ip),
            "account": (account, settings.auth_rate_limit_per_account),
        },
    )


def _code_problems(field: str, value: str | None) -> None:
    reject(length_problem(field, value or "", MAX_CODE_LENGTH))


# ---- challenges ----------------------------------------------------------------------------


async def _challenge_user(ctx: ServiceContext, challenge: str) -> uuid.UUID | None:
    """The user a challenge names, whatever its state (for the rate limit's account key)."""
    reject(length_problem("challenge", challenge, MAX_TOKEN_LENGTH))
    async with ctx.read(ALL_TENANTS) as session:
        return await session.scalar(
            select(MfaChallenge.user_id).where(MfaChallenge.token_hash == hash_challenge(challenge))
        )


async def _open_challenge(
    session: AsyncSession, challenge: str, purpose: MfaChallengePurpose
) -> MfaChallenge:
    """The challenge, locked, if it may still be used for ``purpose``; else the userError."""
    row = await session.scalar(
        select(MfaChallenge).where(MfaChallenge.token_hash == hash_challenge(challenge)).with_for_update()
    )
    if row is None or row.purpose != purpose:
        raise invalid("challenge", IdentityErrorCode.INVALID_MFA_CHALLENGE, "This challenge is not valid.")
    if row.used_at is not None:
        raise invalid(
            "challenge",
            IdentityErrorCode.MFA_CHALLENGE_USED,
            "This challenge was used already; sign in again.",
        )
    if row.expires_at <= utcnow():
        raise invalid(
            "challenge", IdentityErrorCode.MFA_CHALLENGE_EXPIRED, "The challenge expired; sign in again."
        )
    return row


async def _challenged_user(session: AsyncSession, row: MfaChallenge) -> User:
    """The challenge's user, locked, if they may still sign in."""
    user = await session.get_one(User, row.user_id, with_for_update=True)
    if refusal := sign_in_refusal(await session.get_one(Tenant, user.tenant_id), user):
        raise refusal
    return user


# ---- codes ---------------------------------------------------------------------------------


def _secret(ctx: ServiceContext, credential: MfaCredential, ciphertext: str) -> str:
    try:
        return decrypt_secret(ctx.settings.mfa_encryption_key, credential.user_id, ciphertext)
    except UnreadableSecret:
        log.error(
            "the MFA secret of user %s does not decrypt: was mfa_encryption_key changed?", credential.user_id
        )
        raise invalid(
            "code", IdentityErrorCode.INVALID_MFA_CODE, "The code cannot be checked; ask an administrator."
        ) from None


def _accept_code(ctx: ServiceContext, credential: MfaCredential, code: str) -> None:
    """Checks the authenticator code and spends its time step (no replay)."""
    if credential.secret_ciphertext is None:
        raise invalid("code", IdentityErrorCode.INVALID_MFA_CODE, "This factor has no authenticator.")
    secret = _secret(ctx, credential, credential.secret_ciphertext)
    step = matching_step(secret, code, credential.last_used_step)
    if step is None:
        if code_was_used(secret, code, credential.last_used_step):
            raise invalid(
                "code", IdentityErrorCode.MFA_CODE_REUSED, "This code was used; wait for the next one."
            )
        raise invalid("code", IdentityErrorCode.INVALID_MFA_CODE, "The code is not correct.")
    credential.last_used_step = step


async def _spend_recovery_code(session: AsyncSession, user_id: uuid.UUID, code: str) -> None:
    row = await session.scalar(
        select(MfaRecoveryCode)
        .where(
            MfaRecoveryCode.user_id == user_id, MfaRecoveryCode.code_hash == hash_recovery_code(user_id, code)
        )
        .with_for_update()
    )
    if row is None:
        raise invalid(
            "recoveryCode", IdentityErrorCode.INVALID_RECOVERY_CODE, "The recovery code is not correct."
        )
    if row.used_at is not None:
        raise invalid(
            "recoveryCode", IdentityErrorCode.RECOVERY_CODE_USED, "This recovery code was used already."
        )
    row.used_at = utcnow()


async def _credential(session: AsyncSession, user_id: uuid.UUID) -> MfaCredential | None:
    return await session.get(MfaCredential, user_id, with_for_update=True)


async def _factor_refusal(
    ctx: ServiceContext,
    session: AsyncSession,
    credential: MfaCredential,
    code: str,
    login: MfaChallenge | None = None,
) -> InvalidInput | None:
    """None when ``code`` is the factor's: TOTP, the authenticator's (its step spent; a wrong
    one raises); SMS, the code texted for the ``login`` challenge or else the user's latest
    confirmation code (spent). An SMS refusal is answered, its wrong try counted: the caller
    raises it after the transaction commits."""
    if credential.method is MfaMethod.TOTP:
        _accept_code(ctx, credential, code)
        return None
    row = login or await open_confirmation(session, credential.user_id)
    refusal = sms_code_refusal(ctx, row, code)
    if refusal is None and row is not None:
        row.used_at = utcnow()
    return refusal


def _new_recovery_codes(session: AsyncSession, user: User) -> tuple[str, ...]:
    codes = new_recovery_codes()
    session.add_all(
        MfaRecoveryCode(
            tenant_id=user.tenant_id, user_id=user.id, code_hash=hash_recovery_code(user.id, code)
        )
        for code in codes
    )
    return tuple(codes)


def _client_of(ctx: ServiceContext, row: MfaChallenge) -> tuple[ServiceContext, Device]:
    """The context and device of the login that issued ``row``: the session its completion
    opens shows that client, not the one that typed the code."""
    login_ctx = replace(ctx, client_ip=row.client_ip or ctx.client_ip, user_agent=row.user_agent)
    return login_ctx, Device(row.device_id, row.device_name)


# ---- setup and verification ----------------------------------------------------------------


async def _setup_user(
    ctx: ServiceContext, session: AsyncSession, challenge: str | None
) -> tuple[User, MfaChallenge | None]:
    """Who sets MFA up: the signed-in user, or the admin a SETUP challenge names (with it)."""
    if challenge is None:
        return await session.get_one(User, _person(ctx).user_id, with_for_update=True), None
    row = await _open_challenge(session, challenge, MfaChallengePurpose.SETUP)
    return await _challenged_user(session, row), row


def _setup_scope(ctx: ServiceContext, challenge: str | None) -> TenantScope:
    return ALL_TENANTS if challenge is not None else TenantScope.of(_person(ctx).home_tenant_id)


def _refuse_if_enabled(user: User) -> None:
    if user.mfa_enabled:
        raise invalid(None, IdentityErrorCode.MFA_ALREADY_ENABLED, "MFA is on already; turn it off first.")


async def setup_mfa(
    ctx: ServiceContext,
    challenge: str | None,
    method: MfaMethod = MfaMethod.TOTP,
    label: str | None = None,
) -> MfaSetup:
    """A new factor (new id) and recovery codes, not in force until verified. TOTP: a secret;
    SMS: the account's phone number, texted a first code now (NO_PHONE without one). Setting up
    again before verifying replaces them (a lost QR code); once MFA is on, MFA_ALREADY_ENABLED."""
    reject(
        length_problem("challenge", challenge or "", MAX_TOKEN_LENGTH),
        length_problem("label", label or "", MAX_LABEL_LENGTH),
    )
    if method is MfaMethod.SMS:
        await ctx.rate_limiter.check(
            "mfa_code_request",
            {
                "account": (
                    hash_challenge(challenge)[:16] if challenge else str(_person(ctx).user_id),
                    ctx.settings.verification_requests_per_account,
                )
            },
        )
    async with ctx.transaction(_setup_scope(ctx, challenge)) as session:
        user, _ = await _setup_user(ctx, session, challenge)
        _refuse_if_enabled(user)
        if method is MfaMethod.SMS and user.phone is None:
            raise invalid("method", IdentityErrorCode.NO_PHONE, "Your account has no phone number for SMS.")
        await forget_mfa(session, user.id)
        await session.flush()
        credential = MfaCredential(
            tenant_id=user.tenant_id,
            user_id=user.id,
            factor_id=uuid.uuid4(),
            method=method,
            label=(label or "").strip() or None,
            phone=user.phone if method is MfaMethod.SMS else None,
        )
        session.add(credential)
        codes = _new_recovery_codes(session, user)
        if method is MfaMethod.SMS:
            sent_to, expires_at = await send_confirmation(ctx, session, user, credential)
            return MfaSetup(credential.factor_id, method, codes, sent_to=sent_to, expires_at=expires_at)
        secret = new_secret()
        credential.secret_ciphertext = encrypt_secret(ctx.settings.mfa_encryption_key, user.id, secret)
        tenant = await session.get_one(Tenant, user.tenant_id)
        uri = provisioning_uri(secret, user.email or user.phone or str(user.id), tenant.name)
        return MfaSetup(credential.factor_id, method, codes, secret=secret, otpauth_uri=uri)


async def verify_mfa_setup(
    ctx: ServiceContext, code: str, challenge: str | None, factor_id: str | None = None
) -> MfaVerified:
    """Turns MFA on with the first code of the factor (the authenticator's, or the one texted at
    setup); with a SETUP challenge it also completes that sign-in (tokens). A ``factor_id`` that
    is not the pending factor's (an older setup's) is INVALID_MFA_FACTOR."""
    _code_problems("code", code)
    reject(length_problem("factorId", factor_id or "", MAX_FACTOR_ID_LENGTH))
    if challenge is not None:
        account = await _challenge_user(ctx, challenge)
    else:
        account = _person(ctx).user_id
    await _check_code_attempts(ctx, str(account or hash_challenge(challenge or "")[:16]))
    async with ctx.transaction(_setup_scope(ctx, challenge)) as session:
        user, row = await _setup_user(ctx, session, challenge)
        _refuse_if_enabled(user)
        credential = await _credential(session, user.id)
        if credential is None:
            raise invalid(None, IdentityErrorCode.MFA_NOT_SET_UP, "Set MFA up first (setupMfa).")
        if factor_id is not None and factor_id.strip() != str(credential.factor_id):
            raise invalid(
                "factorId", IdentityErrorCode.INVALID_MFA_FACTOR, "This is not the factor being set up."
            )
        refusal = await _factor_refusal(ctx, session, credential, code)
        if refusal is None:
            user.mfa_enabled = True
            record_user_change(session, user, "mfa_enabled")
            if row is None:
                return MfaVerified(user, None)
            row.used_at = utcnow()
            login_ctx, device = _client_of(ctx, row)
            return MfaVerified(user, await start_session(login_ctx, session, user, device=device))
    raise refusal


# ---- sign-in -------------------------------------------------------------------------------


def _one_factor(factor: SecondFactor) -> None:
    given = [value for value in (factor.code, factor.recovery_code) if value is not None and value.strip()]
    if len(given) != 1:
        raise invalid(
            None,
            IdentityErrorCode.CODE_OR_RECOVERY_CODE,
            "Enter either the authenticator code or a recovery code.",
        )
    _code_problems("code", factor.code)
    _code_problems("recoveryCode", factor.recovery_code)


async def complete_mfa_login(ctx: ServiceContext, challenge: str, factor: SecondFactor) -> SignIn:
    """The tokens of a sign-in whose password was right, for its LOGIN challenge and a TOTP code
    or an unused recovery code (spent by it). A wrong code leaves the challenge open until it
    expires; the attempts count against the account and the client IP."""
    _one_factor(factor)
    account = await _challenge_user(ctx, challenge)
    await _check_code_attempts(ctx, str(account or hash_challenge(challenge)[:16]))
    async with ctx.transaction(ALL_TENANTS) as session:
        row = await _open_challenge(session, challenge, MfaChallengePurpose.LOGIN)
        user = await _challenged_user(session, row)
        credential = await _credential(session, user.id)
        if not user.mfa_enabled or credential is None:
            # Turned off since the password was checked: the challenge no longer applies.
            raise invalid("challenge", IdentityErrorCode.INVALID_MFA_CHALLENGE, "Sign in again.")
        refusal = None
        if factor.code is not None and factor.code.strip():
            refusal = await _factor_refusal(ctx, session, credential, factor.code, login=row)
        else:
            await _spend_recovery_code(session, user.id, factor.recovery_code or "")
        if refusal is None:
            row.used_at = utcnow()
            login_ctx, device = _client_of(ctx, row)
            return await start_session(login_ctx, session, user, device=device)
    raise refusal


# ---- turning it off ------------------------------------------------------------------------


async def _enabled_factor(session: AsyncSession, user: User) -> MfaCredential:
    credential = await _credential(session, user.id)
    if not user.mfa_enabled or credential is None:
        raise invalid(None, IdentityErrorCode.MFA_NOT_ENABLED, "MFA is not on.")
    return credential


async def disable_mfa(ctx: ServiceContext, code: str) -> User:
    """Turns MFA off, for a current code of the factor (SMS: one asked for by requestMfaCode);
    the factor and recovery codes are deleted. An admin whom the tenant requires MFA of cannot."""
    principal = _person(ctx)
    _code_problems("code", code)
    await _check_code_attempts(ctx, str(principal.user_id))
    async with ctx.transaction(TenantScope.of(principal.home_tenant_id)) as session:
        user = await session.get_one(User, principal.user_id, with_for_update=True)
        credential = await _enabled_factor(session, user)
        if await mfa_required_of(session, user):
            raise invalid(
                None,
                IdentityErrorCode.MFA_REQUIRED_BY_TENANT,
                "This tenant requires MFA of its administrators.",
            )
        refusal = await _factor_refusal(ctx, session, credential, code)
        if refusal is None:
            user.mfa_enabled = False
            await forget_mfa(session, user.id)
            return record_user_change(session, user, "mfa_disabled")
    raise refusal


async def regenerate_recovery_codes(ctx: ServiceContext, code: str) -> tuple[str, ...]:
    """Ten new recovery codes for a current code of the factor; the old ones, used or not, stop
    working. Shown once."""
    principal = _person(ctx)
    _code_problems("code", code)
    await _check_code_attempts(ctx, str(principal.user_id))
    async with ctx.transaction(TenantScope.of(principal.home_tenant_id)) as session:
        user = await session.get_one(User, principal.user_id, with_for_update=True)
        credential = await _enabled_factor(session, user)
        refusal = await _factor_refusal(ctx, session, credential, code)
        if refusal is None:
            await session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
            codes = _new_recovery_codes(session, user)
            record_user_change(session, user, "mfa_recovery_codes")
            return codes
    raise refusal


async def request_mfa_code(ctx: ServiceContext) -> CodeSent:
    """Texts the signed-in user's SMS factor a code, to confirm turning MFA off, new recovery
    codes or (before it is verified) the setup; the one sent before stops working."""
    principal = _person(ctx)
    await ctx.rate_limiter.check(
        "mfa_code_request",
        {"account": (str(principal.user_id), ctx.settings.verification_requests_per_account)},
    )
    async with ctx.transaction(TenantScope.of(principal.home_tenant_id)) as session:
        user = await session.get_one(User, principal.user_id, with_for_update=True)
        credential = await _credential(session, user.id)
        if credential is None or credential.method is not MfaMethod.SMS:
            raise invalid(None, IdentityErrorCode.NOT_SMS_FACTOR, "Your MFA factor is not SMS.")
        return CodeSent(*await send_confirmation(ctx, session, user, credential))
