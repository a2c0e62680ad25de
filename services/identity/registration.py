"""Self-service sign-up (seed 002): an email or a phone number (at least one), a full name or first
and last name, an optional username, the terms accepted, an optional affiliate code.

A tenant whose settings hold ``"requireTermsAcceptance": true`` refuses a sign-up without
``acceptTerms`` (TERMS_NOT_ACCEPTED); either way the time of acceptance is recorded when given.
The new user is signed in at once and sent a verification link (email) and code (SMS) for what they
gave; ``verification_required`` stays true until both are verified."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from core.errors import FieldProblem, invalid
from core.lengths import MAX_NAME_LENGTH, MAX_TENANT_SLUG_LENGTH
from core.permissions import Role
from models.base import utcnow
from models.identity.accounts import User
from services.context import ServiceContext
from services.identity.accounts import (
    add_account,
    checked_email,
    email_clash,
    email_problem,
    length_problem,
    name_problem,
    new_password_problem,
    record_user_change,
    reject,
)
from services.identity.auth import ALL_TENANTS, SignIn, start_session, tenant_by_slug
from services.identity.contacts import (
    checked_phone,
    given,
    phone_clash,
    phone_problem,
    sign_in_name,
    username_clash,
    username_problem,
)
from services.identity.errors import IdentityErrorCode
from services.identity.limits import check_user_quota
from services.identity.passwords import hash_password_in_thread
from services.identity.security import password_policy_problem
from services.identity.sessions import NO_DEVICE, Device
from services.identity.verification import new_phone_code, send_email_link, send_phone_code

# The tenant setting (Tenant.settings) that makes accepting the terms a condition of sign-up.
TERMS_SETTING = "requireTermsAcceptance"
MAX_AFFILIATE_CODE_LENGTH = 64
AFFILIATE_CODE = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_AFFILIATE_CODE_LENGTH}}}")


@dataclass(frozen=True, slots=True)
class Registration:
    tenant_slug: str
    password: str
    email: str | None = None
    phone: str | None = None
    full_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    accept_terms: bool = False
    affiliate_code: str | None = None

    @property
    def name_parts(self) -> tuple[str | None, str | None]:
        first, last = given(self.first_name), given(self.last_name)
        return (first.strip() if first else None), (last.strip() if last else None)

    @property
    def display_name(self) -> str:
        """The full name as given, else first and last name joined."""
        if full := given(self.full_name):
            return full.strip()
        return " ".join(part for part in self.name_parts if part)


def verification_required(user: User) -> bool:
    """Whether the account has an email address or phone number still to verify."""
    return (user.email is not None and not user.email_verified) or (
        user.phone is not None and not user.phone_verified
    )


def _name_problems(new: Registration) -> list[FieldProblem | None]:
    first, last = new.name_parts
    full = given(new.full_name)
    if full is None and first is None and last is None:
        return [name_problem("fullName", "")]
    problems = [
        name_problem("fullName", full) if full is not None else None,
        length_problem("firstName", first or "", MAX_NAME_LENGTH),
        length_problem("lastName", last or "", MAX_NAME_LENGTH),
    ]
    if not any(problems) and full is None:
        problems.append(length_problem("lastName", new.display_name, MAX_NAME_LENGTH))
    return problems


def _problems(new: Registration) -> list[FieldProblem | None]:
    email, phone = given(new.email), given(new.phone)
    username, affiliate = given(new.username), given(new.affiliate_code)
    neither = (
        FieldProblem(("input", "email"), IdentityErrorCode.EMAIL_OR_PHONE, "Give an email or a phone number.")
        if email is None and phone is None
        else None
    )
    bad_affiliate = (
        FieldProblem(
            ("input", "affiliateCode"),
            IdentityErrorCode.INVALID_AFFILIATE_CODE,
            f"An affiliate code has up to {MAX_AFFILIATE_CODE_LENGTH} letters, digits, '_' or '-'.",
        )
        if affiliate is not None and not AFFILIATE_CODE.fullmatch(affiliate.strip())
        else None
    )
    return [
        length_problem("tenantSlug", new.tenant_slug.strip(), MAX_TENANT_SLUG_LENGTH),
        neither,
        email_problem("email", email) if email is not None else None,
        phone_problem("phone", phone) if phone is not None else None,
        *_name_problems(new),
        username_problem("username", username) if username is not None else None,
        bad_affiliate,
        new_password_problem("password", new.password),
    ]


async def register(ctx: ServiceContext, new: Registration, *, device: Device = NO_DEVICE) -> SignIn:
    account = sign_in_name(new.email, new.phone, exactly_one=False).account
    await ctx.rate_limiter.check(
        "register",
        {
            "ip": (ctx.client_ip, ctx.settings.auth_rate_limit_per_ip),
            "account": (
                f"{new.tenant_slug.strip().lower()}:{account}",
                ctx.settings.auth_rate_limit_per_account,
            ),
        },
    )
    reject(*_problems(new), *device.problems())
    email, phone = given(new.email), given(new.phone)
    address = checked_email(email) if email is not None else None
    number = checked_phone(phone) if phone is not None else None
    username = given(new.username)
    username = username.strip().lower() if username else None
    password_hash = await hash_password_in_thread(new.password)
    code = await new_phone_code() if number is not None else None
    async with ctx.transaction(ALL_TENANTS) as session:
        tenant = await tenant_by_slug(session, new.tenant_slug)
        if tenant is None:
            raise invalid("tenantSlug", IdentityErrorCode.UNKNOWN_TENANT, "No tenant has this slug.")
        if not tenant.can_sign_in:
            raise invalid(
                "tenantSlug", IdentityErrorCode.TENANT_SUSPENDED, "This tenant does not accept sign-ups."
            )
        if tenant.settings.get(TERMS_SETTING) is True and not new.accept_terms:
            raise invalid("acceptTerms", IdentityErrorCode.TERMS_NOT_ACCEPTED, "Accept the terms to sign up.")
        if address is not None:
            await email_clash(session, tenant.id, address, field="email")
        if number is not None:
            await phone_clash(session, tenant.id, number, field="phone")
        if username is not None:
            await username_clash(session, tenant.id, username, field="username")
        await check_user_quota(session, tenant.id)
        reject(await password_policy_problem(session, tenant.id, "password", new.password))
        user = add_account(
            session,
            tenant.id,
            email=address,
            full_name=new.display_name,
            password_hash=password_hash,
            roles=(Role.USER,),
        )
        user.phone, user.username = number, username
        user.first_name, user.last_name = new.name_parts
        user.terms_accepted_at = utcnow() if new.accept_terms else None
        affiliate = given(new.affiliate_code)
        user.affiliate_code = affiliate.strip() if affiliate else None
        try:
            await session.flush()
        except IntegrityError as error:  # a concurrent sign-up took the address, number or username
            raise invalid(
                None, IdentityErrorCode.CONFLICT, "An account with these details was just created; try again."
            ) from error
        if address is not None:
            await send_email_link(ctx, session, tenant, user)
        if number is not None and code is not None:
            await send_phone_code(ctx, session, tenant, user, code)
        record_user_change(session, user, "registered")
        return await start_session(ctx, session, user, device=device)
