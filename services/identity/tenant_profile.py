"""Tenant administration: settings patched (JSON merge patch), quotas and trial end, soft delete
and restore, branding, and the public face of a tenant (by slug, exact name or verified domain)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, func, select

from core.errors import FieldProblem, InvalidInput, invalid
from core.lengths import MAX_NAME_LENGTH, MAX_TENANT_SLUG_LENGTH, MAX_URL_LENGTH
from core.permissions import PLATFORM_ADMINS, TENANT_ADMINS
from core.scope import TenantScope
from models.base import utcnow
from models.db import locked_or_not_found
from models.identity.accounts import AuthSession, Tenant, TenantStatus
from models.identity.tenant_profile import TenantBranding, TenantDomain
from services.context import ServiceContext
from services.events import record_access_change
from services.identity.accounts import reject
from services.identity.auth import end_sessions
from services.identity.domains import normalised_hostname
from services.identity.errors import IdentityErrorCode
from services.identity.limits import MAX_QUOTA
from services.json_patch import compact_json, merge_patch, nests_deeper

ALL_TENANTS = TenantScope.all_tenants()
# The stored settings as JSON text; a patch that would make them larger is refused.
MAX_SETTINGS_BYTES = 64 * 1024
MAX_SETTINGS_DEPTH = 16
MAX_FROM_NAME_LENGTH = 100
COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
COLOR_LENGTH = len("#RRGGBB")
# Branding fields by kind, with their limits (text: characters).
URL_FIELDS = ("logo_url", "logo_dark_url", "favicon_url", "support_url", "terms_url", "privacy_url")
COLOR_FIELDS = ("primary_color", "secondary_color")
TEXT_FIELDS = {"display_name": MAX_NAME_LENGTH, "email_from_name": MAX_FROM_NAME_LENGTH}
BRANDING_FIELDS = ("display_name", *URL_FIELDS[:3], *COLOR_FIELDS, *URL_FIELDS[3:], "email_from_name")
# Quotas and their least values (a tenant keeps at least its admin).
QUOTA_MINIMUM = {"max_users": 1, "max_products": 0}


# ---- settings --------------------------------------------------------------------------------


def _settings_problem(field: str, message: str) -> InvalidInput:
    return invalid(field, IdentityErrorCode.INVALID_SETTINGS, message)


async def patch_settings(ctx: ServiceContext, tenant_id: uuid.UUID, patch: object) -> Tenant:
    """Merges ``patch`` into the tenant's settings; the row is locked, so concurrent patches of
    different keys both land."""
    ctx.require_role(*TENANT_ADMINS)
    if not isinstance(patch, dict):
        raise _settings_problem("patch", "The patch is a JSON object (null values remove keys).")
    if nests_deeper(patch, MAX_SETTINGS_DEPTH):
        raise _settings_problem("patch", f"The settings nest at most {MAX_SETTINGS_DEPTH} levels deep.")
    async with ctx.transaction() as session:
        tenant = await locked_or_not_found(session, Tenant, tenant_id)
        merged = merge_patch(tenant.settings, patch)
        try:
            encoded = compact_json(merged)
        except ValueError:
            raise _settings_problem("patch", "Numbers in settings are finite (no NaN or Infinity).") from None
        if len(encoded.encode()) > MAX_SETTINGS_BYTES:
            raise _settings_problem(
                "patch", f"The settings may hold at most {MAX_SETTINGS_BYTES} bytes of JSON."
            )
        tenant.settings = merged
        return tenant


# ---- quotas and trial ------------------------------------------------------------------------


def _quota_problem(name: str, value: object) -> FieldProblem | None:
    least = QUOTA_MINIMUM[name]
    if value is None or (isinstance(value, int) and least <= value <= MAX_QUOTA):
        return None
    return FieldProblem(
        ("input", _camel(name)), IdentityErrorCode.INVALID_QUOTA, f"Between {least} and {MAX_QUOTA}, or null."
    )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def update_limits(ctx: ServiceContext, tenant_id: uuid.UUID, changes: dict[str, Any]) -> Tenant:
    """Sets the given quotas (``max_users``, ``max_products``; null: no limit) and trial end
    (``trial_ends_at``). Platform admins only. A quota below the current count refuses new rows
    only; what exists stays."""
    ctx.require_role(*PLATFORM_ADMINS)
    trial_end = changes.get("trial_ends_at")
    reject(
        *(_quota_problem(name, changes[name]) for name in QUOTA_MINIMUM if name in changes),
        FieldProblem(("input", "trialEndsAt"), IdentityErrorCode.INVALID_QUOTA, "Give the time zone (UTC).")
        if isinstance(trial_end, datetime) and trial_end.tzinfo is None
        else None,
    )
    async with ctx.transaction(ALL_TENANTS) as session:
        tenant = await locked_or_not_found(session, Tenant, tenant_id)
        for name in ("max_users", "max_products", "trial_ends_at"):
            if name in changes:
                setattr(tenant, name, changes[name])
        return tenant


# ---- soft delete -----------------------------------------------------------------------------


async def delete_tenant(ctx: ServiceContext, tenant_id: uuid.UUID) -> Tenant:
    """Marks the tenant deleted: its sessions end, no one signs in, and it is hidden from lists and
    lookups (platform admins still find it by id, or listing with includeDeleted)."""
    principal = ctx.require_role(*PLATFORM_ADMINS)
    if tenant_id == principal.home_tenant_id:
        raise invalid("id", IdentityErrorCode.CANNOT_DELETE_OWN_TENANT, "You cannot delete your own tenant.")
    async with ctx.transaction(ALL_TENANTS) as session:
        tenant = await locked_or_not_found(session, Tenant, tenant_id)
        if tenant.deleted_at is not None:
            raise invalid("id", IdentityErrorCode.TENANT_DELETED, "This tenant is already deleted.")
        tenant.deleted_at = utcnow()
        record_access_change(session, tenants=[tenant.id])
        await end_sessions(session, "tenant_deleted", AuthSession.tenant_id == tenant.id)
        return tenant


async def restore_tenant(ctx: ServiceContext, tenant_id: uuid.UUID) -> Tenant:
    """Takes the deletion back within the restore period (settings.tenant_restore_days); its
    users sign in again (their old sessions stay ended)."""
    ctx.require_role(*PLATFORM_ADMINS)
    async with ctx.transaction(ALL_TENANTS) as session:
        tenant = await locked_or_not_found(session, Tenant, tenant_id)
        if tenant.deleted_at is None:
            raise invalid("id", IdentityErrorCode.TENANT_NOT_DELETED, "This tenant is not deleted.")
        if tenant.deleted_at + timedelta(days=ctx.settings.tenant_restore_days) < utcnow():
            raise invalid(
                "id",
                IdentityErrorCode.RESTORE_PERIOD_OVER,
                f"Deleted tenants can be restored for {ctx.settings.tenant_restore_days} days only.",
            )
        tenant.deleted_at = None
        return tenant


# ---- branding --------------------------------------------------------------------------------


def _url_problem(field: str, value: str) -> FieldProblem | None:
    where = ("input", _camel(field))
    if len(value) > MAX_URL_LENGTH:
        return FieldProblem(where, IdentityErrorCode.TOO_LONG, f"At most {MAX_URL_LENGTH} characters.")
    parts = urlsplit(value)
    if (
        parts.scheme != "https"
        or not parts.hostname
        or parts.username is not None
        or any(c.isspace() or not c.isprintable() for c in value)
    ):
        return FieldProblem(
            where,
            IdentityErrorCode.INVALID_URL,
            "Use an absolute https:// URL (no spaces, no user:password@).",
        )
    return None


def _branding_problem(field: str, value: str) -> FieldProblem | None:
    where = ("input", _camel(field))
    if field in URL_FIELDS:
        return _url_problem(field, value)
    if field in COLOR_FIELDS:
        if COLOR.match(value):
            return None
        return FieldProblem(where, IdentityErrorCode.INVALID_COLOR, "Use a #RRGGBB colour, e.g. #1A2B3C.")
    limit = TEXT_FIELDS[field]
    if len(value) > limit:
        return FieldProblem(where, IdentityErrorCode.TOO_LONG, f"At most {limit} characters.")
    # One line: the from-name goes into a mail header, where a line break would add headers.
    if not value.isprintable():
        return FieldProblem(where, IdentityErrorCode.INVALID_TEXT, "One line of printable characters.")
    return None


def _cleaned(field: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None  # cleared: the platform default applies
    value = value.strip()
    return value.upper() if field in COLOR_FIELDS else value


async def set_branding(
    ctx: ServiceContext, tenant_id: uuid.UUID, changes: dict[str, str | None]
) -> TenantBranding:
    """Sets the given branding fields (null or blank clears one); tenant admins of the tenant."""
    ctx.require_role(*TENANT_ADMINS)
    unknown = set(changes).difference(BRANDING_FIELDS)
    if unknown:
        raise ValueError(f"not branding fields: {sorted(unknown)}")
    cleaned = {field: _cleaned(field, value) for field, value in changes.items()}
    reject(*(_branding_problem(field, value) for field, value in cleaned.items() if value is not None))
    async with ctx.transaction() as session:
        await locked_or_not_found(session, Tenant, tenant_id)
        branding = await session.scalar(select(TenantBranding).where(TenantBranding.tenant_id == tenant_id))
        if branding is None:
            branding = TenantBranding(id=uuid.uuid4(), tenant_id=tenant_id)
            session.add(branding)
        for field, value in cleaned.items():
            setattr(branding, field, value)
        return branding


# ---- the public face -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublicProfile:
    """What anyone may know of a tenant in service: its slug, name and branding."""

    tenant: Tenant
    branding: TenantBranding | None


async def _public_rows(
    ctx: ServiceContext, *where: ColumnElement[bool], by_domain: bool = False, limit: int = 1
) -> list[PublicProfile]:
    statement = select(Tenant, TenantBranding).outerjoin(
        TenantBranding, TenantBranding.tenant_id == Tenant.id
    )
    if by_domain:
        statement = statement.join(TenantDomain, TenantDomain.tenant_id == Tenant.id)
    # Across tenants: a public lookup names its tenant by slug, name or domain, and reads only its face.
    async with ctx.read(ALL_TENANTS) as session:
        rows = (await session.execute(statement.where(*where).limit(limit))).all()
    # Suspended, cancelled, deleted or trial over: not in service, not shown.
    return [PublicProfile(row[0], row[1]) for row in rows if row[0].can_sign_in]


async def _public(
    ctx: ServiceContext, *where: ColumnElement[bool], by_domain: bool = False
) -> PublicProfile | None:
    found = await _public_rows(ctx, *where, by_domain=by_domain)
    return found[0] if found else None


async def public_profile_by_slug(ctx: ServiceContext, slug: str) -> PublicProfile | None:
    slug = slug.strip().lower()
    if len(slug) > MAX_TENANT_SLUG_LENGTH:
        return None  # no tenant has one: not worth a query
    return await _public(ctx, Tenant.slug == slug)


async def public_profile_by_domain(ctx: ServiceContext, hostname: str) -> PublicProfile | None:
    """The tenant that verified ``hostname``; None for an unverified, unknown or invalid one."""
    normalised = normalised_hostname(hostname)
    if normalised is None:
        return None
    return await _public(
        ctx, TenantDomain.hostname == normalised, TenantDomain.verified_at.is_not(None), by_domain=True
    )


async def public_profile_by_name(ctx: ServiceContext, name: str) -> PublicProfile | None:
    """The tenant in service named exactly ``name`` (any case, outer spaces ignored). Names are not
    unique: when several tenants in service share it, None (the slug is what names one)."""
    wanted = name.strip().lower()
    if not wanted or len(wanted) > MAX_NAME_LENGTH:
        return None  # no tenant has one: not worth a query
    in_service = (
        func.lower(Tenant.name) == wanted,
        Tenant.status.in_((TenantStatus.ACTIVE, TenantStatus.TRIAL)),
        Tenant.deleted_at.is_(None),
    )
    found = await _public_rows(ctx, *in_service, limit=2)
    return found[0] if len(found) == 1 else None
