"""Tenants: created by platform admins together with their first tenant admin; suspended and
reactivated; read by their own members."""

from __future__ import annotations

import enum
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select, update

from core.errors import FieldProblem, InvalidInput, NotFound, invalid
from core.permissions import Role
from core.scope import TenantScope
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.base import utcnow
from models.db import locked_or_not_found
from models.identity import AuthSession, Tenant, TenantKind, TenantStatus, User, UserRole
from services.context import ServiceContext
from services.events import USER_UPDATED, record_event
from services.identity.accounts import email_problem, name_problem, new_password_problem, normalise_email
from services.identity.passwords import hash_password_in_thread

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
RESERVED_SLUGS = frozenset({"admin", "api", "graphql", "platform", "www", "static", "health"})
ALL_TENANTS = TenantScope.all_tenants()


class TenantOrderField(enum.StrEnum):
    CREATED_AT = "CREATED_AT"
    SLUG = "SLUG"
    NAME = "NAME"


_ORDER_COLUMNS = {
    TenantOrderField.CREATED_AT: Tenant.created_at,
    TenantOrderField.SLUG: Tenant.slug,
    TenantOrderField.NAME: Tenant.name,
}


@dataclass(frozen=True, slots=True)
class TenantFilter:
    status: TenantStatus | None = None
    kind: TenantKind | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class NewTenant:
    slug: str
    name: str
    kind: TenantKind
    status: TenantStatus
    contact_email: str | None
    settings: dict[str, Any]
    admin_email: str
    admin_full_name: str
    admin_password: str | None


@dataclass(frozen=True, slots=True)
class CreatedTenant:
    tenant: Tenant
    admin: User
    # Generated when no password was given; shown once, never stored in clear.
    initial_admin_password: str | None


def slug_problem(slug: str) -> FieldProblem | None:
    if not SLUG_PATTERN.match(slug):
        return FieldProblem(
            ("input", "slug"), "INVALID_SLUG", "Use 1-63 lowercase letters, digits and inner hyphens."
        )
    if slug in RESERVED_SLUGS:
        return FieldProblem(("input", "slug"), "RESERVED_SLUG", "This slug is reserved.")
    return None


async def create_tenant(ctx: ServiceContext, new: NewTenant) -> CreatedTenant:
    ctx.require_role(Role.PLATFORM_ADMIN)
    problems = [
        p
        for p in (
            slug_problem(new.slug),
            name_problem("name", new.name),
            email_problem("contactEmail", new.contact_email) if new.contact_email else None,
            email_problem("adminEmail", new.admin_email),
            name_problem("adminFullName", new.admin_full_name),
            new_password_problem("adminPassword", new.admin_password) if new.admin_password else None,
        )
        if p
    ]
    if problems:
        raise InvalidInput(*problems)
    generated = None if new.admin_password else secrets.token_urlsafe(12)
    async with ctx.transaction(ALL_TENANTS) as session:
        if await session.scalar(select(Tenant.id).where(Tenant.slug == new.slug)):
            raise invalid("slug", "CONFLICT", "A tenant with this slug already exists.")
        tenant = Tenant(
            id=uuid.uuid4(),
            slug=new.slug,
            name=new.name.strip(),
            kind=new.kind,
            status=new.status,
            contact_email=normalise_email(new.contact_email) if new.contact_email else None,
            settings=new.settings,
        )
        session.add(tenant)
        await session.flush()
        admin = User(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            email=normalise_email(new.admin_email),
            full_name=new.admin_full_name.strip(),
            password_hash=await hash_password_in_thread(new.admin_password or generated or ""),
        )
        session.add(admin)
        session.add(UserRole(tenant_id=tenant.id, user_id=admin.id, role=Role.TENANT_ADMIN))
        record_event(
            session,
            topic=USER_UPDATED,
            tenant_id=tenant.id,
            payload={"userId": str(admin.id), "change": "created"},
        )
        return CreatedTenant(tenant, admin, generated)


def _tenant_scope(ctx: ServiceContext) -> TenantScope:
    # Members see their own tenant; platform admins every tenant (or the X-Tenant-Id one).
    return ctx.scope


async def get_tenant(ctx: ServiceContext, tenant_id: uuid.UUID) -> Tenant:
    async with ctx.read(_tenant_scope(ctx)) as session:
        tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("Tenant")
    return tenant


def _filtered(tenant_filter: TenantFilter) -> Select[tuple[Tenant]]:
    statement = select(Tenant)
    if tenant_filter.status:
        statement = statement.where(Tenant.status == tenant_filter.status)
    if tenant_filter.kind:
        statement = statement.where(Tenant.kind == tenant_filter.kind)
    if tenant_filter.search and tenant_filter.search.strip():
        text = tenant_filter.search.strip().lower().replace("%", "").replace("_", "")
        statement = statement.where(or_(Tenant.slug.contains(text), func.lower(Tenant.name).contains(text)))
    return statement


async def list_tenants(
    ctx: ServiceContext,
    tenant_filter: TenantFilter,
    order: TenantOrderField,
    descending: bool,
    page: PageArgs,
) -> Page[Tenant]:
    ctx.require_role(Role.PLATFORM_ADMIN)
    column = _ORDER_COLUMNS[order]

    return await paginate(
        lambda: ctx.read(ALL_TENANTS), _filtered(tenant_filter), SortKey(column, Tenant.id, descending), page
    )


async def update_tenant(
    ctx: ServiceContext,
    tenant_id: uuid.UUID,
    *,
    name: str | None,
    kind: TenantKind | None,
    contact_email: str | None,
    settings: dict[str, Any] | None,
) -> Tenant:
    ctx.require_role(Role.PLATFORM_ADMIN, Role.TENANT_ADMIN)
    problems = [
        p
        for p in (
            name_problem("name", name) if name is not None else None,
            email_problem("contactEmail", contact_email) if contact_email else None,
        )
        if p
    ]
    if problems:
        raise InvalidInput(*problems)
    if kind is not None and not ctx.require_principal().is_platform_admin:
        raise invalid("kind", "FORBIDDEN", "Only platform administrators change a tenant's kind.")
    async with ctx.transaction(_tenant_scope(ctx)) as session:
        tenant = await locked_or_not_found(session, Tenant, tenant_id)
        if name is not None:
            tenant.name = name.strip()
        if kind is not None:
            tenant.kind = kind
        if contact_email is not None:
            tenant.contact_email = normalise_email(contact_email) if contact_email else None
        if settings is not None:
            tenant.settings = settings
        return tenant


async def set_tenant_status(ctx: ServiceContext, tenant_id: uuid.UUID, status: TenantStatus) -> Tenant:
    principal = ctx.require_role(Role.PLATFORM_ADMIN)
    if tenant_id == principal.home_tenant_id and status in (TenantStatus.SUSPENDED, TenantStatus.CANCELLED):
        raise invalid("id", "CANNOT_SUSPEND_OWN_TENANT", "You cannot suspend your own tenant.")
    async with ctx.transaction(ALL_TENANTS) as session:
        tenant = await locked_or_not_found(session, Tenant, tenant_id)
        if tenant.status == TenantStatus.CANCELLED and status != TenantStatus.CANCELLED:
            raise invalid("id", "INVALID_TRANSITION", "A cancelled tenant cannot be reactivated.")
        tenant.status = status
        if status in (TenantStatus.SUSPENDED, TenantStatus.CANCELLED):
            await session.execute(
                update(AuthSession)
                .where(AuthSession.tenant_id == tenant.id, AuthSession.revoked_at.is_(None))
                .values(revoked_at=utcnow(), revoke_reason="tenant_suspended")
            )
        return tenant


async def public_tenant_by_slug(ctx: ServiceContext, slug: str) -> Tenant | None:
    async with ctx.read(ALL_TENANTS) as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug.strip().lower()))
    return tenant if tenant is not None and tenant.can_sign_in else None
