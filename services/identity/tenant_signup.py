"""Self-service tenant signup (seed 002 POST /tenants, "signup flow"): anyone creates a tenant on a
trial together with its first TENANT_ADMIN, the contact person, and is signed in as that admin.

Off unless ``tenant_signup_enabled``; rate limited per client IP. The tenant starts as TRIAL
ending after ``tenant_signup_trial_days`` (past it nobody signs in: TRIAL_EXPIRED, until a
platform admin extends or activates it). As registration does, the admin's address is sent a
verification link and code, and ``verification_required`` stays true until it is verified."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.errors import FieldProblem, invalid
from core.permissions import Role
from models.base import utcnow
from models.identity.accounts import Tenant, TenantKind, TenantStatus
from services.context import ServiceContext
from services.identity.accounts import (
    add_account,
    checked_email,
    email_problem,
    name_problem,
    new_password_problem,
    record_user_change,
    reject,
)
from services.identity.auth import ALL_TENANTS, SignIn, start_session
from services.identity.contacts import checked_phone, given, phone_problem
from services.identity.errors import IdentityErrorCode
from services.identity.passwords import hash_password_in_thread
from services.identity.tenants import slug_problem
from services.identity.verification import send_email_link

SELF_SERVICE_KINDS = (TenantKind.RESELLER, TenantKind.ENTERPRISE)


@dataclass(frozen=True, slots=True)
class TenantSignup:
    slug: str
    name: str
    contact_name: str
    contact_email: str
    password: str
    kind: TenantKind = TenantKind.ENTERPRISE
    contact_phone: str | None = None
    accept_terms: bool = False


def _problems(new: TenantSignup) -> list[FieldProblem | None]:
    phone = given(new.contact_phone)
    kind = (
        FieldProblem(("input", "kind"), IdentityErrorCode.FORBIDDEN, "Sign up as RESELLER or ENTERPRISE.")
        if new.kind not in SELF_SERVICE_KINDS
        else None
    )
    return [
        slug_problem(new.slug.strip().lower()),
        name_problem("name", new.name),
        name_problem("contactName", new.contact_name),
        email_problem("contactEmail", new.contact_email),
        phone_problem("contactPhone", phone) if phone is not None else None,
        new_password_problem("password", new.password),
        kind,
    ]


async def sign_up_tenant(ctx: ServiceContext, new: TenantSignup) -> SignIn:
    settings = ctx.settings
    if not settings.tenant_signup_enabled:
        raise invalid(
            None, IdentityErrorCode.TENANT_SIGNUP_DISABLED, "This platform does not take tenant signups."
        )
    await ctx.rate_limiter.check(
        "tenant_signup", {"ip": (ctx.client_ip, settings.tenant_signup_rate_limit_per_ip)}
    )
    reject(*_problems(new))
    slug = new.slug.strip().lower()
    address = checked_email(new.contact_email)
    phone = given(new.contact_phone)
    password_hash = await hash_password_in_thread(new.password)
    async with ctx.transaction(ALL_TENANTS) as session:
        # Deleted tenants keep their slug while they may be restored: taken too.
        if await session.scalar(select(Tenant.id).where(Tenant.slug == slug)):
            raise invalid("slug", IdentityErrorCode.CONFLICT, "A tenant with this slug already exists.")
        tenant = Tenant(
            id=uuid.uuid4(),
            slug=slug,
            name=new.name.strip(),
            kind=new.kind,
            status=TenantStatus.TRIAL,
            trial_ends_at=utcnow() + timedelta(days=settings.tenant_signup_trial_days),
            contact_name=new.contact_name.strip(),
            contact_email=address.address,
            contact_phone=checked_phone(phone) if phone is not None else None,
            settings={},
        )
        session.add(tenant)
        try:
            await session.flush()
        except IntegrityError as error:  # a concurrent signup took the slug
            raise invalid(
                "slug", IdentityErrorCode.CONFLICT, "A tenant with this slug already exists."
            ) from error
        admin = add_account(
            session,
            tenant.id,
            email=address,
            full_name=new.contact_name.strip(),
            password_hash=password_hash,
            roles=(Role.TENANT_ADMIN,),
        )
        admin.terms_accepted_at = utcnow() if new.accept_terms else None
        await session.flush()
        await send_email_link(ctx, session, tenant, admin)
        record_user_change(session, admin, "registered")
        return await start_session(ctx, session, admin)
