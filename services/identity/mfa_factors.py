"""MFA factors beside the TOTP math: the SMS factor's texted codes (at login, at setup and to
confirm a change), keyed code digests (also for the codes of email verification mails), and a
tenant admin's reset of a user's MFA.

A texted code has six digits. Stored as HMAC-SHA256 under a key derived from mfa_encryption_key
and bound to its challenge, it cannot be reversed by whoever reads only the table, and it is
checked without argon2 inside the transaction that sends it. Each challenge takes
verification_max_attempts wrong codes; attempts are rate-limited besides."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, InvalidInput, invalid
from core.permissions import TENANT_ADMINS, Role
from core.phones import masked_phone
from core.scope import TenantScope
from models.base import utcnow
from models.db import locked_or_not_found
from models.identity.accounts import Tenant, User
from models.identity.mfa import (
    MfaChallenge,
    MfaChallengePurpose,
    MfaCredential,
    MfaMethod,
    MfaRecoveryCode,
)
from services.context import ServiceContext
from services.identity.accounts import record_user_change, roles_of
from services.identity.errors import IdentityErrorCode
from services.identity.totp import hash_challenge, new_challenge

CODE_DIGITS = 6


@functools.cache
def _code_key(key: str) -> bytes:
    return hashlib.sha256(b"tenantgraph one-time code:" + key.encode()).digest()


def code_digest(key: str, bound_to: uuid.UUID, code: str) -> str:
    """The keyed digest of a short code, bound to one challenge (spaces people type ignored)."""
    typed = "".join(code.split())
    return hmac.new(_code_key(key), f"{bound_to}:{typed}".encode(), hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_matches(key: str, bound_to: uuid.UUID, stored: str | None, code: str) -> bool:
    return stored is not None and hmac.compare_digest(stored, code_digest(key, bound_to, code))


def text_code(
    ctx: ServiceContext, session: AsyncSession, row: MfaChallenge, phone: str, tenant: Tenant
) -> str:
    """Texts a fresh code for ``row`` (its id already set) to ``phone``; answers the masked number."""
    code = new_code()
    row.code_hash = code_digest(ctx.settings.mfa_encryption_key, row.id, code)
    minutes = max(1, int((row.expires_at - utcnow()).total_seconds()) // 60)
    body = f"{code} is your {tenant.name} sign-in code. It expires in {minutes} minutes."
    ctx.sms.send(session, tenant_id=tenant.id, to=phone, body=body)
    return masked_phone(phone)


def sms_code_refusal(ctx: ServiceContext, row: MfaChallenge | None, code: str) -> InvalidInput | None:
    """None when ``code`` is the one texted for ``row``; else the refusal, the wrong try counted
    on the row (the caller commits it before raising)."""
    if row is None:
        return invalid("code", IdentityErrorCode.INVALID_MFA_CODE, "No code is pending: ask for one.")
    if row.attempts >= ctx.settings.verification_max_attempts:
        return invalid(
            "code",
            IdentityErrorCode.VERIFICATION_ATTEMPTS_EXCEEDED,
            "Too many wrong codes: ask for a new one.",
        )
    if code_matches(ctx.settings.mfa_encryption_key, row.id, row.code_hash, code):
        return None
    row.attempts += 1
    return invalid("code", IdentityErrorCode.INVALID_MFA_CODE, "The code is not correct.")


async def open_confirmation(session: AsyncSession, user_id: uuid.UUID) -> MfaChallenge | None:
    """The user's latest CONFIRM code, locked, if it is unused and in time."""
    return await session.scalar(
        select(MfaChallenge)
        .where(
            MfaChallenge.user_id == user_id,
            MfaChallenge.purpose == MfaChallengePurpose.CONFIRM,
            MfaChallenge.used_at.is_(None),
            MfaChallenge.expires_at > utcnow(),
        )
        .order_by(MfaChallenge.created_at.desc())
        .limit(1)
        .with_for_update()
    )


async def send_confirmation(
    ctx: ServiceContext, session: AsyncSession, user: User, credential: MfaCredential
) -> tuple[str, datetime]:
    """Texts the SMS factor a code that confirms setup, disabling or new recovery codes; the
    earlier unused ones stop working. Answers the masked number and the code's expiry."""
    now = utcnow()
    await session.execute(
        update(MfaChallenge)
        .where(
            MfaChallenge.user_id == user.id,
            MfaChallenge.purpose == MfaChallengePurpose.CONFIRM,
            MfaChallenge.used_at.is_(None),
        )
        .values(used_at=now)
    )
    expires_at = now + timedelta(seconds=ctx.settings.mfa_challenge_ttl_seconds)
    row = MfaChallenge(
        id=uuid.uuid4(),
        tenant_id=user.tenant_id,
        user_id=user.id,
        # Never handed out: a CONFIRM code is found by its user, not by a token.
        token_hash=hash_challenge(new_challenge()),
        purpose=MfaChallengePurpose.CONFIRM,
        created_at=now,
        expires_at=expires_at,
        attempts=0,
    )
    session.add(row)
    tenant = await session.get_one(Tenant, user.tenant_id)
    return text_code(ctx, session, row, credential.phone or "", tenant), expires_at


async def text_login_code(
    ctx: ServiceContext, session: AsyncSession, user: User, row: MfaChallenge
) -> tuple[MfaMethod | None, str | None]:
    """Login of an MFA user: the factor's method, and for an SMS factor the masked number its
    LOGIN challenge's code was just texted to."""
    credential = await session.get(MfaCredential, user.id)
    if credential is None:
        return None, None
    if credential.method is MfaMethod.SMS and credential.phone:
        tenant = await session.get_one(Tenant, user.tenant_id)
        return credential.method, text_code(ctx, session, row, credential.phone, tenant)
    return credential.method, None


async def forget_mfa(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user_id))
    await session.execute(delete(MfaCredential).where(MfaCredential.user_id == user_id))


async def reset_user_mfa(ctx: ServiceContext, user_id: uuid.UUID) -> User:
    """A tenant admin turns a user's MFA off (a lost phone): factor, recovery codes and open
    challenges go; the user sets MFA up again (at login, if the tenant requires it). Not while
    impersonating: the reset is the admin's own act, audited as theirs."""
    principal = ctx.require_role(*TENANT_ADMINS)
    if principal.impersonator_id is not None:
        raise Forbidden("An impersonation session cannot reset MFA.")
    if user_id == principal.user_id:
        # disableMfa asks for a current code (and the tenant's MFA rule): a reset of one's own does not.
        raise Forbidden("Turn your own MFA off with disableMfa.")
    async with ctx.transaction(TenantScope.of(principal.tenant_id)) as session:
        user = await locked_or_not_found(session, User, user_id)
        if Role.PLATFORM_ADMIN in await roles_of(session, user.id) and not principal.is_platform_admin:
            # As impersonation does: a tenant role does not weaken a platform administrator's account.
            raise Forbidden("Only platform administrators reset a platform administrator's MFA.")
        if not user.mfa_enabled and await session.get(MfaCredential, user.id) is None:
            raise invalid("userId", IdentityErrorCode.MFA_NOT_ENABLED, "This user has no MFA.")
        user.mfa_enabled = False
        await forget_mfa(session, user.id)
        await session.execute(
            update(MfaChallenge)
            .where(MfaChallenge.user_id == user.id, MfaChallenge.used_at.is_(None))
            .values(used_at=utcnow())
        )
        return record_user_change(session, user, "mfa_reset")
