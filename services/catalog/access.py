"""Who reads which tenant's catalog and what they see; who writes it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from core.errors import BadUserInput, Forbidden, NotFound
from core.permissions import CATALOG_STAFF, PRODUCTS_WRITE, RoleSet
from core.principal import Principal
from core.scope import TenantScope
from models.catalog import Product, ProductStatus
from models.identity.accounts import Tenant
from services.context import ServiceContext

ALL_TENANTS = TenantScope.all_tenants()


def is_catalog_staff(principal: Principal | None) -> bool:
    return principal is not None and principal.allows(PRODUCTS_WRITE, *CATALOG_STAFF)


def can_see_product(principal: Principal | None, product: Product) -> bool:
    """Out-of-reach products look exactly like products that do not exist."""
    return product.status == ProductStatus.ACTIVE or is_catalog_staff(principal)


@dataclass(frozen=True, slots=True)
class CatalogReader:
    """Where a catalog read looks and what it may see."""

    scope: TenantScope
    # Catalog staff see products of every status; everyone else ACTIVE ones only.
    staff: bool
    # Set for anonymous storefront reads: the tenant named by slug, whose scope the request's
    # loaders must then use (RequestContext.read_as_storefront).
    storefront_tenant_id: uuid.UUID | None = None


async def _tenant_by_slug(ctx: ServiceContext, slug: str) -> Tenant | None:
    async with ctx.read(ALL_TENANTS) as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug.strip().lower()))
    return tenant if tenant is not None and tenant.can_sign_in else None


async def catalog_reader(ctx: ServiceContext, tenant_slug: str | None) -> CatalogReader:
    """Anonymous callers name the storefront's tenant by slug; signed-in callers read their own
    tenant (a slug, if given, must name it; platform admins may name any tenant)."""
    principal = ctx.principal
    if principal is None:
        if not tenant_slug:
            raise BadUserInput("Name the storefront with `tenantSlug`, or sign in.")
        tenant = await _tenant_by_slug(ctx, tenant_slug)
        if tenant is None:
            raise NotFound("Tenant")
        return CatalogReader(TenantScope.of(tenant.id), staff=False, storefront_tenant_id=tenant.id)
    staff = is_catalog_staff(principal)
    if not tenant_slug:
        return CatalogReader(principal.scope, staff)
    tenant = await _tenant_by_slug(ctx, tenant_slug)
    if principal.is_platform_admin and principal.acting_tenant_id is None:
        if tenant is None:
            raise NotFound("Tenant")
        return CatalogReader(TenantScope.of(tenant.id), staff)
    if tenant is None or tenant.id != principal.tenant_id:
        raise BadUserInput("Signed-in callers read their own tenant's catalog: omit `tenantSlug`.")
    return CatalogReader(principal.scope, staff)


def write_scope(ctx: ServiceContext, permission: str, roles: RoleSet = CATALOG_STAFF) -> TenantScope:
    """The tenant a catalog write changes: the caller's, who must hold one of ``roles`` (catalog
    staff) or ``permission`` (e.g. products:write through a custom role)."""
    principal = ctx.require_principal()
    if not principal.allows(permission, *roles):
        raise Forbidden("You are not allowed to do this.")
    if principal.scope.tenant_id is None:
        raise BadUserInput("Platform administrators name the tenant to change with the X-Tenant-Id header.")
    return principal.scope
