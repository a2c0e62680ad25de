"""Who reads and writes a tenant's DNS, and the serial and event every change of a zone brings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadUserInput, Forbidden
from core.permissions import DNS_ADMINS, DNS_READERS, DNS_WRITERS, RoleSet
from core.scope import TenantScope
from models.dns import DnsZone
from services.context import ServiceContext
from services.events import record_event

# The outbox topic of every zone and record change (payload: zone id, serial, what happened).
ZONE_CHANGED = "dns.zone.changed"


def _tenant_scope(ctx: ServiceContext, roles: RoleSet) -> TenantScope:
    principal = ctx.require_principal()
    if not principal.has_any_role(*roles):
        raise Forbidden("You are not allowed to do this.")
    if principal.scope.tenant_id is None:
        raise BadUserInput("Platform administrators name the tenant with the X-Tenant-Id header.")
    return principal.scope


def read_scope(ctx: ServiceContext) -> TenantScope:
    return _tenant_scope(ctx, DNS_READERS)


def write_scope(ctx: ServiceContext) -> TenantScope:
    return _tenant_scope(ctx, DNS_WRITERS)


def admin_scope(ctx: ServiceContext) -> TenantScope:
    """Platform admins only; every tenant."""
    ctx.require_role(*DNS_ADMINS)
    return TenantScope.all_tenants()


def next_serial(current: int, now: datetime | None = None) -> int:
    """YYYYMMDDnn of today when that is above ``current``, else ``current + 1``: strictly increasing."""
    today = (now or datetime.now(UTC)).strftime("%Y%m%d")
    return max(current + 1, int(today) * 100)


def zone_changed(session: AsyncSession, zone: DnsZone, action: str, **details: Any) -> None:
    """Bumps the serial of the (locked) zone and records the change in the outbox."""
    zone.serial = next_serial(zone.serial)
    zone.updated_at = datetime.now(UTC)
    record_event(
        session,
        topic=ZONE_CHANGED,
        tenant_id=zone.tenant_id,
        payload={
            "zoneId": str(zone.id),
            "zone": zone.name,
            "serial": zone.serial,
            "action": action,
            **details,
        },
    )
