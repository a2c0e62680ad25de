"""Email and phone verification and password reset, by one-time secrets.

A link (email verification, password reset) carries a random token of 256 bits, stored as its
SHA-256 and found by it. An email verification mail carries a six-digit code beside its link, for
typing in instead (signed in, or with the link's token): stored as a keyed digest bound to its
challenge (services/identity/mfa_factors.py), so it is checked inside a transaction.
A phone code has six digits: SHA-256 of so few values is reversed at once
by whoever reads the table, so codes are stored as argon2 hashes and checked against the user's one
open code. Every secret works once, expires (settings ``*_ttl_seconds``), is replaced by the next
one asked for, and proves only the address or number it was sent to. Wrong codes count on the row
(``verification_max_attempts``); requests and tries are rate-limited besides. A reset request
answers the same, after the same time, whether or not the account exists.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidInput, invalid
from core.lengths import MAX_TENANT_SLUG_LENGTH, MAX_TOKEN_LENGTH
from core.phones import masked_phone
from core.scope import TenantScope
from models.base import utcnow
from models.identity.accounts import AuthSession, Tenant, User
from models.identity.verification import ChallengePurpose, Channel, VerificationChallenge
from services.context import ServiceContext
from services.events import record_access_change
from services.identity.accounts import (
    email_problem,
    length_problem,
    new_password_problem,
    record_user_change,
    reject,
)
from services.identity.auth import end_sessions, sign_in_refusal, tenant_by_slug
from services.identity.contacts import given, sign_in_name
from services.identity.errors import IdentityErrorCode
from services.identity.mfa_factors import code_digest, code_matches, new_code
from services.identity.passwords import hash_password_in_thread, verify_password_in_thread
from services.identity.security import password_policy_problem
from services.mail_queue import queue_mail

ALL_TENANTS = TenantScope.all_tenants()
CODE_DIGITS = 6
MAX_CODE_LENGTH = 16
# Every reset request is answered no sooner than this after it arrived: sending (a transaction,
# a mail) takes a few milliseconds that an unknown account would not.
RESET_ANSWER_SECONDS = 0.3


@dataclass(frozen=True, slots=True)
class Sent:
    """Where a secret went (masked) and until when it works."""

    sent_to: str
    expires_at: datetime


def secret_digest(token: str) -> str:
    return hashlib.sha256(token.encode(errors="surrogatepass")).hexdigest()


async def limit(ctx: ServiceContext, action: str, account: str, per_account: int) -> None:
    """Counts one attempt of ``action`` for ``account`` and for the caller's IP (RATE_LIMITED)."""
    await ctx.rate_limiter.check(
        action,
        {"ip": (ctx.client_ip, ctx.settings.auth_rate_limit_per_ip), "account": (account, per_account)},
    )


async def _open(
    session: AsyncSession,
    user: User,
    purpose: ChallengePurpose,
    channel: Channel,
    secret_hash: str,
    ttl_seconds: int,
) -> VerificationChallenge:
    """A new challenge for ``user``; the open ones of the same purpose stop working."""
    now = utcnow()
    await session.execute(
        update(VerificationChallenge)
        .where(
            VerificationChallenge.user_id == user.id,
            VerificationChallenge.purpose == purpose,
            VerificationChallenge.consumed_at.is_(None),
        )
        .values(consumed_at=now)
    )
    sent_to = user.email if channel == Channel.EMAIL else user.phone
    if sent_to is None:
        raise ValueError(f"user {user.id} has no {channel.value} address")
    challenge = VerificationChallenge(
        id=uuid.uuid4(),
        tenant_id=user.tenant_id,
        user_id=user.id,
        purpose=purpose,
        channel=channel,
        sent_to=sent_to,
        secret_hash=secret_hash,
        attempts=0,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
    session.add(challenge)
    return challenge


def _link(ctx: ServiceContext, page: str, tenant: Tenant, token: str) -> str:
    query = urlencode({"tenant": tenant.slug, "token": token})
    return f"{ctx.settings.frontend_url.rstrip('/')}/{page}?{query}"


async def send_email_link(ctx: ServiceContext, session: AsyncSession, tenant: Tenant, user: User) -> Sent:
    """Mails ``user`` a link that verifies their address, in the caller's transaction."""
    token = "ev_" + secrets.token_urlsafe(32)
    ttl = ctx.settings.email_verification_ttl_seconds
    challenge = await _open(
        session, user, ChallengePurpose.VERIFY_EMAIL, Channel.EMAIL, secret_digest(token), ttl
    )
    code = new_code()
    challenge.code_hash = code_digest(ctx.settings.mfa_encryption_key, challenge.id, code)
    body = (
        f"Open this link to confirm {challenge.sent_to} for your {tenant.name} account:\n\n"
        f"{_link(ctx, 'verify-email', tenant, token)}\n\nOr enter this code: {code}\n\n"
        f"The link and the code work for {ttl // 3600 or 1} hour(s), once."
    )
    queue_mail(
        session, tenant_id=tenant.id, to=challenge.sent_to, subject="Confirm your email address", body=body
    )
    return Sent(challenge.sent_to, challenge.expires_at)


async def new_phone_code() -> tuple[str, str]:
    """A fresh code and its argon2 hash (made off the event loop: call it outside transactions)."""
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    return code, await hash_password_in_thread(code)


async def send_phone_code(
    ctx: ServiceContext, session: AsyncSession, tenant: Tenant, user: User, code: tuple[str, str]
) -> Sent:
    """Texts ``user`` the code of ``new_phone_code``, in the caller's transaction."""
    plain, code_hash = code
    ttl = ctx.settings.phone_code_ttl_seconds
    challenge = await _open(session, user, ChallengePurpose.VERIFY_PHONE, Channel.SMS, code_hash, ttl)
    body = f"{plain} is your {tenant.name} verification code. It expires in {max(1, ttl // 60)} minutes."
    ctx.sms.send(session, tenant_id=tenant.id, to=challenge.sent_to, body=body)
    return Sent(masked_phone(challenge.sent_to), challenge.expires_at)


def _mine(ctx: ServiceContext) -> tuple[uuid.UUID, TenantScope]:
    principal = ctx.require_principal()
    return principal.user_id, TenantScope.of(principal.home_tenant_id)


async def request_email_verification(ctx: ServiceContext) -> Sent:
    user_id, home = _mine(ctx)
    await limit(ctx, "verify_request", f"email:{user_id}", ctx.settings.verification_requests_per_account)
    async with ctx.transaction(home) as session:
        user = await session.get_one(User, user_id)
        if user.email is None:
            raise invalid(None, IdentityErrorCode.NO_EMAIL, "Your account has no email address.")
        if user.email_verified:
            raise invalid(None, IdentityErrorCode.ALREADY_VERIFIED, "Your email address is verified already.")
        return await send_email_link(ctx, session, await session.get_one(Tenant, user.tenant_id), user)


async def request_phone_verification(ctx: ServiceContext) -> Sent:
    user_id, home = _mine(ctx)
    await limit(ctx, "verify_request", f"phone:{user_id}", ctx.settings.verification_requests_per_account)
    code = await new_phone_code()
    async with ctx.transaction(home) as session:
        user = await session.get_one(User, user_id)
        if user.phone is None:
            raise invalid(None, IdentityErrorCode.NO_PHONE, "Your account has no phone number.")
        if user.phone_verified:
            raise invalid(None, IdentityErrorCode.ALREADY_VERIFIED, "Your phone number is verified already.")
        return await send_phone_code(ctx, session, await session.get_one(Tenant, user.tenant_id), user, code)


async def _token_scope(ctx: ServiceContext, tenant_slug: str | None) -> TenantScope:
    """Where a link's token is looked for: the tenant the link names (a token of another one is
    not found there), else every tenant."""
    if given(tenant_slug) is None:
        return ALL_TENANTS
    async with ctx.read(ALL_TENANTS) as session:
        tenant = await tenant_by_slug(session, tenant_slug or "")
    if tenant is None:
        raise _bad_token()
    return TenantScope.of(tenant.id)


def _bad_token() -> InvalidInput:
    return invalid("token", IdentityErrorCode.INVALID_VERIFICATION_TOKEN, "This link is not valid.")


async def _challenge(
    session: AsyncSession, purpose: ChallengePurpose, digest: str, *, lock: bool = True
) -> VerificationChallenge:
    statement = select(VerificationChallenge).where(
        VerificationChallenge.secret_hash == digest, VerificationChallenge.purpose == purpose
    )
    challenge = await session.scalar(statement.with_for_update() if lock else statement)
    if challenge is None:
        raise _bad_token()
    if challenge.consumed_at is not None:
        raise invalid(
            "token",
            IdentityErrorCode.VERIFICATION_TOKEN_USED,
            "This link was used already, or a newer one was sent.",
        )
    if challenge.expires_at <= utcnow():
        raise invalid(
            "token", IdentityErrorCode.VERIFICATION_TOKEN_EXPIRED, "This link has expired; ask for a new one."
        )
    return challenge


def _prove(user: User, challenge: VerificationChallenge) -> bool:
    """Marks the address or number the secret went to as verified, when it still is the user's."""
    if challenge.channel == Channel.EMAIL and user.email == challenge.sent_to:
        user.email_verified = True
        return True
    if challenge.channel == Channel.SMS and user.phone == challenge.sent_to:
        user.phone_verified = True
        return True
    return False


async def verify_email(
    ctx: ServiceContext, tenant_slug: str | None, token: str | None, code: str | None = None
) -> User:
    """By the link's token alone (no sign-in), or by the mail's code: with the token, or signed
    in (the account's latest mail)."""
    if given(code) is not None:
        return await _verify_email_code(ctx, tenant_slug, given(token), code or "")
    if given(token) is None:
        raise invalid(None, IdentityErrorCode.TOKEN_OR_CODE, "Give the link's token or the mailed code.")
    token = token or ""
    digest = secret_digest(token)
    await limit(ctx, "verify_email", digest[:16], ctx.settings.auth_rate_limit_per_account)
    reject(length_problem("token", token, MAX_TOKEN_LENGTH))
    async with ctx.transaction(await _token_scope(ctx, tenant_slug)) as session:
        challenge = await _challenge(session, ChallengePurpose.VERIFY_EMAIL, digest)
        user = await session.get_one(User, challenge.user_id, with_for_update=True)
        if not _prove(user, challenge):
            raise invalid(
                "token", IdentityErrorCode.INVALID_VERIFICATION_TOKEN, "The account's address changed since."
            )
        challenge.consumed_at = utcnow()
        return record_user_change(session, user, "email_verified")


async def _latest_open(
    ctx: ServiceContext, scope: TenantScope, user_id: uuid.UUID, purpose: ChallengePurpose
) -> VerificationChallenge:
    async with ctx.read(scope) as session:
        open_code = await session.scalar(
            select(VerificationChallenge)
            .where(
                VerificationChallenge.user_id == user_id,
                VerificationChallenge.purpose == purpose,
                VerificationChallenge.consumed_at.is_(None),
            )
            .order_by(VerificationChallenge.created_at.desc())
            .limit(1)
        )
    if open_code is None:
        raise invalid("code", IdentityErrorCode.INVALID_VERIFICATION_CODE, "No code is pending: ask for one.")
    return open_code


async def _spend_code(
    ctx: ServiceContext, scope: TenantScope, found: VerificationChallenge, right: bool, change: str
) -> User:
    """Proves the challenge's address when the code was ``right`` and the challenge still takes
    codes; else counts the wrong try (committed) and raises."""
    max_attempts = ctx.settings.verification_max_attempts
    async with ctx.transaction(scope) as session:
        challenge = await session.get_one(VerificationChallenge, found.id, with_for_update=True)
        failure = _code_refusal(max_attempts, challenge)
        if failure is None and right:
            user = await session.get_one(User, challenge.user_id, with_for_update=True)
            if not _prove(user, challenge):
                raise invalid(
                    "code",
                    IdentityErrorCode.INVALID_VERIFICATION_CODE,
                    "The account's address changed since.",
                )
            challenge.consumed_at = utcnow()
            return record_user_change(session, user, change)
        if failure is None:
            # Counted and committed before answering: the wrong try must stay counted.
            challenge.attempts += 1
            failure = _code_refusal(max_attempts, challenge) or invalid(
                "code", IdentityErrorCode.INVALID_VERIFICATION_CODE, "This code is not correct."
            )
    raise failure


async def _verify_email_code(
    ctx: ServiceContext, tenant_slug: str | None, token: str | None, code: str
) -> User:
    reject(
        length_problem("code", code, MAX_CODE_LENGTH), length_problem("token", token or "", MAX_TOKEN_LENGTH)
    )
    if token is None:
        user_id, scope = _mine(ctx)
        await limit(ctx, "verify_email", str(user_id), ctx.settings.auth_rate_limit_per_account)
        found = await _latest_open(ctx, scope, user_id, ChallengePurpose.VERIFY_EMAIL)
    else:
        digest = secret_digest(token)
        await limit(ctx, "verify_email", digest[:16], ctx.settings.auth_rate_limit_per_account)
        scope = await _token_scope(ctx, tenant_slug)
        async with ctx.read(scope) as session:
            found = await _challenge(session, ChallengePurpose.VERIFY_EMAIL, digest, lock=False)
    right = code_matches(ctx.settings.mfa_encryption_key, found.id, found.code_hash, code)
    return await _spend_code(ctx, scope, found, right, "email_verified")


async def verify_phone(ctx: ServiceContext, code: str) -> User:
    user_id, home = _mine(ctx)
    await limit(ctx, "verify_phone", str(user_id), ctx.settings.auth_rate_limit_per_account)
    reject(length_problem("code", code, MAX_CODE_LENGTH))
    open_code = await _latest_open(ctx, home, user_id, ChallengePurpose.VERIFY_PHONE)
    right = await verify_password_in_thread(open_code.secret_hash, code.strip())
    return await _spend_code(ctx, home, open_code, right, "phone_verified")


def _code_refusal(max_attempts: int, challenge: VerificationChallenge) -> InvalidInput | None:
    if challenge.consumed_at is not None:
        return invalid("code", IdentityErrorCode.VERIFICATION_TOKEN_USED, "This code was used or replaced.")
    if challenge.attempts >= max_attempts:
        return invalid(
            "code",
            IdentityErrorCode.VERIFICATION_ATTEMPTS_EXCEEDED,
            "Too many wrong codes: ask for a new one.",
        )
    if challenge.expires_at <= utcnow():
        return invalid(
            "code", IdentityErrorCode.VERIFICATION_TOKEN_EXPIRED, "This code has expired; ask for a new one."
        )
    return None


async def request_password_reset(
    ctx: ServiceContext, tenant_slug: str, email: str | None, phone: str | None
) -> None:
    """Sends a reset link to the account the email or phone names, if there is one (and it may
    sign in); the answer is the same, and as quick, either way."""
    started = time.monotonic()
    name = sign_in_name(email, phone, exactly_one=False)
    reject(
        length_problem("tenantSlug", tenant_slug.strip(), MAX_TENANT_SLUG_LENGTH),
        email_problem("email", address) if (address := given(email)) else name.problem,
    )
    slug = tenant_slug.strip().lower()
    await limit(
        ctx, "reset_request", f"{slug}:{name.account}", ctx.settings.verification_requests_per_account
    )
    channel = Channel.EMAIL if given(email) else Channel.SMS
    async with ctx.transaction(ALL_TENANTS) as session:
        tenant = await tenant_by_slug(session, slug)
        user = None
        if tenant is not None and name.matches is not None:
            user = await session.scalar(select(User).where(User.tenant_id == tenant.id, name.matches))
        if tenant is not None and user is not None and sign_in_refusal(tenant, user) is None:
            await _send_reset_link(ctx, session, tenant, user, channel)
    await asyncio.sleep(max(0.0, RESET_ANSWER_SECONDS - (time.monotonic() - started)))


async def _send_reset_link(
    ctx: ServiceContext, session: AsyncSession, tenant: Tenant, user: User, channel: Channel
) -> None:
    token = "pr_" + secrets.token_urlsafe(32)
    ttl = ctx.settings.password_reset_ttl_seconds
    challenge = await _open(
        session, user, ChallengePurpose.RESET_PASSWORD, channel, secret_digest(token), ttl
    )
    link = _link(ctx, "reset-password", tenant, token)
    minutes = max(1, ttl // 60)
    if channel == Channel.SMS:
        body = f"Reset your {tenant.name} password within {minutes} minutes: {link}"
        ctx.sms.send(session, tenant_id=tenant.id, to=challenge.sent_to, body=body)
        return
    body = (
        f"Someone asked to reset the password of your {tenant.name} account. To choose a new one, "
        f"open this link within {minutes} minutes:\n\n{link}\n\nIf it was not you, ignore this mail: "
        "your password stays as it is."
    )
    queue_mail(session, tenant_id=tenant.id, to=challenge.sent_to, subject="Reset your password", body=body)


async def reset_password(ctx: ServiceContext, tenant_slug: str | None, token: str, new_password: str) -> User:
    """Sets the password of the link's account, clears must-change-password and ends every session
    of the account; the link's address counts as verified."""
    digest = secret_digest(token)
    await limit(ctx, "reset_password", digest[:16], ctx.settings.auth_rate_limit_per_account)
    reject(
        length_problem("token", token, MAX_TOKEN_LENGTH), new_password_problem("newPassword", new_password)
    )
    scope = await _token_scope(ctx, tenant_slug)
    async with ctx.read(scope) as session:
        found = await _challenge(session, ChallengePurpose.RESET_PASSWORD, digest, lock=False)
        reject(await password_policy_problem(session, found.tenant_id, "newPassword", new_password))
    # argon2 outside the transaction; the token is checked again under lock below.
    new_hash = await hash_password_in_thread(new_password)
    async with ctx.transaction(scope) as session:
        challenge = await _challenge(session, ChallengePurpose.RESET_PASSWORD, digest)
        user = await session.get_one(User, challenge.user_id, with_for_update=True)
        if refusal := sign_in_refusal(await session.get_one(Tenant, user.tenant_id), user):
            raise refusal
        user.password_hash = new_hash
        user.must_change_password = False
        _prove(user, challenge)
        challenge.consumed_at = utcnow()
        await end_sessions(session, "password_reset", AuthSession.user_id == user.id)
        record_access_change(session, users=[user.id])
        return record_user_change(session, user, "password_reset")
