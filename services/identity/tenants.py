"""Tenants: created by platform admins together with their first tenant admin; suspended and
reactivated; read by their own members."""

from __future__ import annotations

import enum
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select

from core.errors import FieldProblem, NotFound, invalid
from core.lengths import MAX_TENANT_SLUG_LENGTH
from core.permissions import PLATFORM_ADMINS, TENANT_ADMINS, Role
from core.scope import TenantScope
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.db import locked_or_not_found
from models.identity.accounts import AuthSession, Tenant, TenantKind, TenantStatus, User
from services.context import ServiceContext
from services.events import record_access_change
from services.identity.accounts import (
    add_account,
    checked_email,
    email_problem,
    name_problem,
    new_password_problem,
    record_user_change,
    reject,
    search_term,
    valid_email,
)
from services.identity.auth import end_sessions
from services.identity.errors import IdentityErrorCode
from services.identity.passwords import hash_password_in_thread

SLUG_PATTERN = re.compile(rf"^[a-z0-9](?:[a-z0-9-]{{0,{MAX_TENANT_SLUG_LENGTH - 2}}}[a-z0-9])?$")
RESERVED_SLUGS = frozenset({"admin", "api", "graphql", "platform", "www", "static", "health"})
ALL_TENANTS = TenantScope.all_tenants()
# A tenant in one of these states has every session ended.
SIGNED_OUT = (TenantStatus.SUSPENDED, TenantStatus.CANCELLED)


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
    # Soft-deleted tenants are left out unless asked for.
    include_deleted: bool = False


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
            ("input", "slug"),
            IdentityErrorCode.INVALID_SLUG,
            f"Use 1-{MAX_TENANT_SLUG_LENGTH} lowercase letters, digits and inner hyphens.",
        )
    if slug in RESERVED_SLUGS:
        return FieldProblem(("input", "slug"), IdentityErrorCode.RESERVED_SLUG, "This slug is reserved.")
    return None


async def create_tenant(ctx: ServiceContext, new: NewTenant) -> CreatedTenant:
    ctx.require_role(*PLATFORM_ADMINS)
    reject(
        slug_problem(new.slug),
        name_problem("name", new.name),
        email_problem("contactEmail", new.contact_email) if new.contact_email else None,
        email_problem("adminEmail", new.admin_email),
        name_problem("adminFullName", new.admin_full_name),
        new_password_problem("adminPassword", new.admin_password) if new.admin_password else None,
    )
    generated = None if new.admin_password else secrets.token_urlsafe(12)
    async with ctx.transaction(ALL_TENANTS) as session:
        if await session.scalar(select(Tenant.id).where(Tenant.slug == new.slug)):
            raise invalid("slug", IdentityErrorCode.CONFLICT, "A tenant with this slug already exists.")
        tenant = Tenant(
            id=uuid.uuid4(),
            slug=new.slug,
            name=new.name.strip(),
            kind=new.kind,
            status=new.status,
            contact_email=valid_email(new.contact_email) if new.contact_email else None,
            settings=new.settings,
        )
        session.add(tenant)
        await session.flush()
        admin = add_account(
            session,
            tenant.id,
            email=checked_email(new.admin_email),
            full_name=new.admin_full_name.strip(),
            password_hash=await hash_password_in_thread(new.admin_password or generated or ""),
            roles=(Role.TENANT_ADMIN,),
        )
        record_user_change(session, admin, "created")
        return CreatedTenant(tenant, admin, generated)


def _tenant_scope(ctx: ServiceContext) -> TenantScope:
    # Members see their own tenant; platform admins every tenant (or the X-Tenant-Id one).
    return ctx.scope


async def get_tenant(ctx: ServiceContext, tenant_id: uuid.UUID) -> Tenant:
    async with ctx.read(_tenant_scope(ctx)) as session:
        tenant = await session.get(Tenant, tenant_id)
    # A deleted tenant is found by platform admins only (by id, as they ask for that one).
    if tenant is None or (tenant.deleted_at is not None and not ctx.require_principal().is_platform_admin):
        raise NotFound("Tenant")
    return tenant


def _filtered(tenant_filter: TenantFilter) -> Select[Tenant]:
    statement = select(Tenant)
    if not tenant_filter.include_deleted:
        statement = statement.where(Tenant.deleted_at.is_(None))
    if tenant_filter.status:
        statement = statement.where(Tenant.status == tenant_filter.status)
    if tenant_filter.kind:
        statement = statement.where(Tenant.kind == tenant_filter.kind)
    if text := search_term(tenant_filter.search):
        # autoescape: % and _ in the search are plain characters, not wildcards.
        statement = statement.where(
            or_(
                Tenant.slug.contains(text, autoescape=True),
                func.lower(Tenant.name).contains(text, autoescape=True),
            )
        )
    return statement


async def list_tenants(
    ctx: ServiceContext,
    tenant_filter: TenantFilter,
    order: TenantOrderField,
    descending: bool,
    page: PageArgs,
) -> Page[Tenant]:
    ctx.require_role(*PLATFORM_ADMINS)
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
    ctx.require_role(*TENANT_ADMINS)
    reject(
        name_problem("name", name) if name is not None else None,
        email_problem("contactEmail", contact_email) if contact_email else None,
    )
    if kind is not None and not ctx.require_principal().is_platform_admin:
        raise invalid(
            "kind", IdentityErrorCode.FORBIDDEN, "Only platform administrators change a tenant's kind."
        )
    async with ctx.transaction(_tenant_scope(ctx)) as session:
        tenant = await locked_or_not_found(session, Tenant, tenant_id)
        if name is not None:
            tenant.name = name.strip()
        if kind is not None:
            tenant.kind = kind
        if contact_email is not None:
            tenant.contact_email = valid_email(contact_email) if contact_email else None
        if settings is not None:
            tenant.settings = settings
        return tenant


async def set_tenant_status(ctx: ServiceContext, tenant_id: uuid.UUID, status: TenantStatus) -> Tenant:
    principal = ctx.require_role(*PLATFORM_ADMINS)
    if tenant_id == principal.home_tenant_id and status in SIGNED_OUT:
        raise invalid(
            "id", IdentityErrorCode.CANNOT_SUSPEND_OWN_TENANT, "You cannot suspend your own tenant."
        )
    async with ctx.transaction(ALL_TENANTS) as session:
        tenant = await locked_or_not_found(session, Tenant, tenant_id)
        if tenant.status == TenantStatus.CANCELLED and status != TenantStatus.CANCELLED:
            raise invalid(
                "id", IdentityErrorCode.INVALID_TRANSITION, "A cancelled tenant cannot be reactivated."
            )
        # Whether its users may sign in depends on it: every process re-reads their sessions.
        record_access_change(session, tenants=[tenant.id])
        tenant.status = status
        if status in SIGNED_OUT:
            await end_sessions(session, "tenant_suspended", AuthSession.tenant_id == tenant.id)
        return tenant
