"""A user's privacy (seeds 000 and 001): consent records with history, the CCPA do-not-sell
opt-out (also recorded, once, from a signed-in request carrying Sec-GPC: 1), and erasing oneself.

Consent records are only appended: a purpose's current state is its newest record; a purpose
never decided is not granted. Everything here acts on the caller's own account in their home
tenant (a platform admin acting in another tenant still decides for themself)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, invalid
from core.principal import Principal, PrincipalKind
from core.scope import TenantScope
from models.identity.accounts import User
from models.identity.privacy import ConsentPurpose, ConsentRecord, ConsentSource
from services.context import ServiceContext
from services.identity.erasure import anonymise_user
from services.identity.errors import IdentityErrorCode
from services.identity.passwords import verify_password_in_thread

MAX_USER_AGENT = 500


@dataclass(frozen=True, slots=True)
class ConsentState:
    purpose: ConsentPurpose
    granted: bool
    # The record that decided it; None for a purpose never decided (not granted).
    record: ConsentRecord | None


@dataclass(frozen=True, slots=True)
class Consents:
    current: list[ConsentState]
    history: list[ConsentRecord]  # newest first


def own_account(ctx: ServiceContext) -> Principal:
    """A signed-in user acting for themself: sessions only (API keys and service tokens do not
    decide consent or erase accounts)."""
    principal = ctx.require_principal()
    if principal.kind is not PrincipalKind.SESSION:
        raise Forbidden("Only a signed-in user (not an API key or service) may do this.")
    return principal


def _home(principal: Principal) -> TenantScope:
    return TenantScope.of(principal.home_tenant_id)


def _append(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    purpose: ConsentPurpose,
    granted: bool,
    source: ConsentSource,
) -> ConsentRecord:
    record = ConsentRecord(
        tenant_id=principal.home_tenant_id,
        user_id=principal.user_id,
        purpose=purpose,
        granted=granted,
        source=source,
        ip_address=ctx.client_ip,
        user_agent=(ctx.user_agent or "")[:MAX_USER_AGENT] or None,
    )
    session.add(record)
    return record


async def record_consent(ctx: ServiceContext, purpose: ConsentPurpose, granted: bool) -> ConsentRecord:
    """Appends the caller's decision for ``purpose`` (with time, IP and user agent)."""
    principal = own_account(ctx)
    async with ctx.transaction(_home(principal)) as session:
        record = _append(ctx, session, principal, purpose, granted, ConsentSource.USER)
        await session.flush()
        return record


async def set_do_not_sell(ctx: ServiceContext, opt_out: bool) -> ConsentRecord:
    """CCPA: opting out (or back in) of the sale of personal data, as a consent record."""
    return await record_consent(ctx, ConsentPurpose.SALE_OF_PERSONAL_DATA, not opt_out)


async def _latest(
    session: AsyncSession, principal: Principal, purpose: ConsentPurpose
) -> ConsentRecord | None:
    found: ConsentRecord | None = await session.scalar(
        select(ConsentRecord)
        .where(ConsentRecord.user_id == principal.user_id, ConsentRecord.purpose == purpose)
        .order_by(ConsentRecord.created_at.desc(), ConsentRecord.id.desc())
        .limit(1)
    )
    return found


async def record_gpc_opt_out(ctx: ServiceContext) -> bool:
    """A signed-in user's request with Sec-GPC: 1 records the do-not-sell opt-out, unless their
    current decision is that already (so it is recorded once, not per request). Whether it wrote."""
    principal = ctx.principal
    if principal is None or principal.kind is not PrincipalKind.SESSION:
        return False
    purpose = ConsentPurpose.SALE_OF_PERSONAL_DATA
    async with ctx.read(_home(principal)) as session:
        latest = await _latest(session, principal, purpose)
    if latest is not None and not latest.granted:
        return False
    async with ctx.transaction(_home(principal)) as session:
        # Locked by the user row: two GPC requests at once record one opt-out.
        await session.get_one(User, principal.user_id, with_for_update=True)
        latest = await _latest(session, principal, purpose)
        if latest is not None and not latest.granted:
            return False
        _append(ctx, session, principal, purpose, False, ConsentSource.GPC)
    return True


async def my_consents(ctx: ServiceContext) -> Consents:
    """The current state of every purpose, and every record, newest first."""
    principal = own_account(ctx)
    async with ctx.read(_home(principal)) as session:
        history = list(
            await session.scalars(
                select(ConsentRecord)
                .where(ConsentRecord.user_id == principal.user_id)
                .order_by(ConsentRecord.created_at.desc(), ConsentRecord.id.desc())
            )
        )
    newest: dict[ConsentPurpose, ConsentRecord] = {}
    for record in history:
        newest.setdefault(record.purpose, record)
    decided = [(purpose, newest.get(purpose)) for purpose in ConsentPurpose]
    current = [ConsentState(purpose, bool(last and last.granted), last) for purpose, last in decided]
    return Consents(current, history)


def _has_password(password_hash: str | None) -> bool:
    # Accounts without a password (OAuth only, anonymised) hold a marker starting with "!", which no
    # argon2 hash does ("$argon2id$...").
    return password_hash is not None and not password_hash.startswith("!")


async def erase_me(ctx: ServiceContext, *, password: str | None, session_id: uuid.UUID | None) -> User:
    """GDPR Art. 17: anonymises the caller's account (services/identity/erasure.py), confirmed by
    the password or, for an account without one (OAuth only), by the current session's id."""
    principal = own_account(ctx)
    if principal.acting_tenant_id not in (None, principal.home_tenant_id):
        raise Forbidden("Erase your account from your own tenant, not while acting in another.")
    async with ctx.read(_home(principal)) as session:
        password_hash = (await session.get_one(User, principal.user_id)).password_hash
    if password is not None:
        if not await verify_password_in_thread(password_hash, password):
            raise invalid("password", IdentityErrorCode.INVALID_CREDENTIALS, "The password is not correct.")
    elif _has_password(password_hash) or session_id != principal.session_id:
        raise invalid(
            "password",
            IdentityErrorCode.CONFIRMATION_REQUIRED,
            "Confirm with your password (or, without one, with the current session's id).",
        )
    async with ctx.transaction(_home(principal)) as session:
        user = await session.get_one(User, principal.user_id, with_for_update=True)
        return await anonymise_user(session, user, "user_erased")
