"""Reverse DNS: the PTR name of an IP address the tenant holds.

Which addresses a tenant holds is what a platform admin allocated to it (``IpAllocation``), not
what its A/AAAA records say: anyone can point an A record at any address, so those prove nothing
about who may name it. One address belongs to one tenant at a time (a global unique index)."""

from __future__ import annotations

import ipaddress
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidInput, NotFound, invalid
from core.scope import TenantScope
from models.dns import IpAllocation
from models.identity.accounts import Tenant
from services.context import ServiceContext
from services.dns.access import admin_scope, read_scope, write_scope
from services.dns.errors import DnsErrorCode
from services.dns.names import BadName, target_name
from services.events import record_event

MAX_ADDRESS_INPUT = 64
REVERSE_CHANGED = "dns.reverse.changed"


def canonical_address(raw: str, field: str = "ip") -> str:
    try:
        return ipaddress.ip_address(raw.strip()[:MAX_ADDRESS_INPUT]).compressed
    except ValueError as exc:
        raise invalid(field, DnsErrorCode.INVALID_ADDRESS, "Not an IPv4 or IPv6 address.") from exc


def reverse_pointer(address: str) -> str:
    """The in-addr.arpa / ip6.arpa name the PTR lives at."""
    return ipaddress.ip_address(address).reverse_pointer


def _not_allocated() -> InvalidInput:
    return invalid("ip", DnsErrorCode.ADDRESS_NOT_ALLOCATED, "This address is not allocated to your tenant.")


async def _allocation(session: AsyncSession, address: str) -> IpAllocation | None:
    """The tenant's allocation of the address, locked; None when it is not the tenant's."""
    return await session.scalar(select(IpAllocation).where(IpAllocation.address == address).with_for_update())


async def set_reverse(ctx: ServiceContext, raw_address: str, ptr: str) -> IpAllocation:
    scope = write_scope(ctx)
    address = canonical_address(raw_address)
    try:
        name = target_name(ptr)
    except BadName as exc:
        raise invalid("ptr", DnsErrorCode.INVALID_TARGET, f"The PTR name is not a hostname: {exc}") from exc
    async with ctx.transaction(scope) as session:
        allocation = await _allocation(session, address)
        if allocation is None:
            raise _not_allocated()
        allocation.ptr = name
        allocation.ptr_updated_at = datetime.now(UTC)
        record_event(
            session,
            topic=REVERSE_CHANGED,
            tenant_id=allocation.tenant_id,
            payload={"ip": address, "ptr": name},
        )
        return allocation


async def remove_reverse(ctx: ServiceContext, raw_address: str) -> IpAllocation:
    scope = write_scope(ctx)
    address = canonical_address(raw_address)
    async with ctx.transaction(scope) as session:
        allocation = await _allocation(session, address)
        if allocation is None:
            raise _not_allocated()
        allocation.ptr = None
        allocation.ptr_updated_at = datetime.now(UTC)
        record_event(
            session,
            topic=REVERSE_CHANGED,
            tenant_id=allocation.tenant_id,
            payload={"ip": address, "ptr": None},
        )
        return allocation


async def get_reverse(ctx: ServiceContext, raw_address: str) -> IpAllocation:
    scope = read_scope(ctx)
    try:
        address = ipaddress.ip_address(raw_address.strip()).compressed
    except ValueError as exc:
        raise NotFound("IpAllocation") from exc
    async with ctx.read(scope) as session:
        allocation = await session.scalar(select(IpAllocation).where(IpAllocation.address == address))
    if allocation is None:
        raise NotFound("IpAllocation")
    return allocation


async def allocate(ctx: ServiceContext, tenant_id: uuid.UUID, raw_address: str) -> IpAllocation:
    """Platform admins give a tenant an address (then only that tenant names it)."""
    admin_scope(ctx)
    address = canonical_address(raw_address)
    async with ctx.transaction(TenantScope.of(tenant_id)) as session:
        if await session.get(Tenant, tenant_id) is None:
            raise invalid("tenantId", DnsErrorCode.NOT_FOUND, "No such tenant.")
        allocation = IpAllocation(id=uuid.uuid4(), address=address, tenant_id=tenant_id)
        session.add(allocation)
        try:
            await session.flush()
        except IntegrityError as error:
            raise invalid("ip", DnsErrorCode.ADDRESS_TAKEN, "This address is allocated already.") from error
        return allocation


async def release(ctx: ServiceContext, raw_address: str) -> str:
    scope = admin_scope(ctx)
    address = canonical_address(raw_address)
    async with ctx.transaction(scope) as session:
        allocation = await _allocation(session, address)
        if allocation is None:
            raise _not_allocated()
        await session.delete(allocation)
        return address
