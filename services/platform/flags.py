"""Feature flags by name: a global default (platform-wide) and per-tenant overrides. Platform
admins list them and set either; every signed-in user reads the effective values of their
tenant (its override where there is one, else the default)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select

from core.errors import Forbidden, NotFound
from core.principal import Principal
from core.scope import TenantScope
from models.base import utcnow
from models.identity.accounts import Tenant
from models.platform import FeatureFlag, FeatureFlagOverride
from services.context import ServiceContext
from services.platform.texts import bounded, name

MAX_FLAGS = 200
MAX_DESCRIPTION = 500


@dataclass(frozen=True, slots=True)
class EffectiveFlag:
    name: str
    description: str
    enabled: bool
    # The global default, and this tenant's override (None: the default applies).
    default_enabled: bool
    tenant_override: bool | None


def _admin(ctx: ServiceContext) -> Principal:
    principal = ctx.require_principal()
    if not principal.is_platform_admin:
        raise Forbidden("Only platform administrators set feature flags.")
    return principal


async def _flags_with(ctx: ServiceContext, tenant_id: uuid.UUID) -> list[EffectiveFlag]:
    async with ctx.db.session(TenantScope.of(tenant_id)) as session:
        flags = list(await session.scalars(select(FeatureFlag).order_by(FeatureFlag.name).limit(MAX_FLAGS)))
        overrides = {row.flag_id: row.enabled for row in await session.scalars(select(FeatureFlagOverride))}
    return [
        EffectiveFlag(
            flag.name,
            flag.description,
            overrides.get(flag.id, flag.enabled),
            flag.enabled,
            overrides.get(flag.id),
        )
        for flag in flags
    ]


async def tenant_flags(ctx: ServiceContext) -> list[EffectiveFlag]:
    """The caller's tenant's flags (the X-Tenant-Id one for a platform admin), by name."""
    return await _flags_with(ctx, ctx.require_principal().tenant_id)


async def flags_of_tenant(ctx: ServiceContext, tenant_id: uuid.UUID) -> list[EffectiveFlag]:
    _admin(ctx)
    return await _flags_with(ctx, tenant_id)


async def set_flag(
    ctx: ServiceContext,
    flag_name: str,
    enabled: bool,
    *,
    tenant_id: uuid.UUID | None = None,
    description: str | None = None,
) -> FeatureFlag:
    """The flag's global default (created on first set), or with ``tenant_id`` that tenant's
    override."""
    _admin(ctx)
    flag_name = name("name", flag_name)
    text = bounded("description", description, MAX_DESCRIPTION) if description is not None else None
    async with ctx.transaction(TenantScope.all_tenants()) as session:
        if tenant_id is not None and await session.get(Tenant, tenant_id) is None:
            raise NotFound("Tenant")
        flag = await session.scalar(
            select(FeatureFlag).where(FeatureFlag.name == flag_name).with_for_update()
        )
        if flag is None:
            if tenant_id is not None:
                raise NotFound("FeatureFlag")
            flag = FeatureFlag(id=uuid.uuid4(), name=flag_name, description="", enabled=enabled)
            session.add(flag)
        if text is not None:
            flag.description = text
        flag.updated_at = utcnow()
        if tenant_id is None:
            flag.enabled = enabled
            return flag
        override = await session.scalar(
            select(FeatureFlagOverride).where(
                FeatureFlagOverride.flag_id == flag.id, FeatureFlagOverride.tenant_id == tenant_id
            )
        )
        if override is None:
            session.add(FeatureFlagOverride(tenant_id=tenant_id, flag_id=flag.id, enabled=enabled))
        else:
            override.enabled = enabled
            override.updated_at = utcnow()
    return flag


async def clear_override(ctx: ServiceContext, flag_name: str, tenant_id: uuid.UUID) -> None:
    """The tenant follows the flag's default again."""
    _admin(ctx)
    async with ctx.transaction(TenantScope.all_tenants()) as session:
        flag = await session.scalar(select(FeatureFlag).where(FeatureFlag.name == flag_name.strip().lower()))
        if flag is None:
            raise NotFound("FeatureFlag")
        await session.execute(
            delete(FeatureFlagOverride).where(
                FeatureFlagOverride.flag_id == flag.id, FeatureFlagOverride.tenant_id == tenant_id
            )
        )
