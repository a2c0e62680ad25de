"""NS-delegation verification: does the world reach the zone through the nameservers we assigned?

The resolver adapter (``NsResolver``; dnspython's over UDP/TCP here) asks the configured resolvers
(``dns_delegation_resolvers``: ip or ip:port, comma-separated; else ``dns_nameserver``; else the
system's) for the zone's NS set. The zone becomes ACTIVE when that set contains every assigned
nameserver. Every check is recorded on the zone (when, what was found, what it means); a resolver
that does not answer is a check result too, never an error of the request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from core.errors import NotFound, invalid
from core.settings import Settings
from models.db import locked_or_not_found
from models.dns import DnsZone, DnsZoneStatus
from services.context import ServiceContext
from services.dns.access import write_scope, zone_changed
from services.dns.errors import DnsErrorCode


class DelegationLookupFailed(Exception):
    """No resolver answered (timeout, SERVFAIL, refused, unreachable)."""


class NsResolver(Protocol):
    async def nameservers(self, zone: str) -> list[str]:
        """The NS targets published for ``zone`` (lower case, no final dot); empty when the name or
        its NS set does not exist. DelegationLookupFailed when no answer came."""


def _nameserver(address: str) -> dns.nameserver.Do53Nameserver:
    host, _, port = address.rpartition(":") if address.count(":") == 1 else (address, "", "")
    if address.startswith("["):  # [v6]:port
        host, _, port = address[1:].partition("]:")
    return dns.nameserver.Do53Nameserver(host or address, int(port) if port else 53)


class DnsPythonNsResolver:
    def __init__(self, resolvers: list[str], timeout_seconds: float) -> None:
        self._resolver = dns.asyncresolver.Resolver(configure=not resolvers)
        if resolvers:
            self._resolver.nameservers = [_nameserver(address) for address in resolvers]
        self._timeout = timeout_seconds

    async def nameservers(self, zone: str) -> list[str]:
        try:
            answer = await self._resolver.resolve(
                zone + ".", dns.rdatatype.NS, lifetime=self._timeout, raise_on_no_answer=False
            )
        except dns.resolver.NXDOMAIN:
            return []
        except dns.exception.DNSException as exc:
            raise DelegationLookupFailed(str(exc) or type(exc).__name__) from exc
        return sorted(
            rdata.target.to_text(omit_final_dot=True).lower()
            for rdata in answer
            if rdata.rdtype == dns.rdatatype.NS
        )


def ns_resolver(settings: Settings) -> NsResolver:
    resolvers = settings.dns_resolver_addresses
    if not resolvers and settings.dns_nameserver:
        resolvers = [f"{settings.dns_nameserver}:{settings.dns_port}"]
    return DnsPythonNsResolver(resolvers, settings.dns_delegation_timeout_seconds)


@dataclass(frozen=True, slots=True)
class DelegationCheck:
    delegated: bool
    found: list[str]
    message: str
    checked_at: datetime


async def check_delegation(resolver: NsResolver, zone: str, assigned: list[str]) -> DelegationCheck:
    now = datetime.now(UTC)
    try:
        found = await resolver.nameservers(zone)
    except DelegationLookupFailed:
        return DelegationCheck(False, [], "No resolver answered; try again later.", now)
    missing = sorted(set(assigned) - set(found))
    if not found:
        return DelegationCheck(
            False, [], f"No NS records found for {zone}: delegate it to {', '.join(assigned)}.", now
        )
    if missing:
        return DelegationCheck(False, found, f"The delegation lacks {', '.join(missing)}.", now)
    return DelegationCheck(True, found, "Delegated to the assigned nameservers.", now)


async def verify_delegation(
    ctx: ServiceContext, zone_id: uuid.UUID, resolver: NsResolver | None = None
) -> tuple[DnsZone, DelegationCheck]:
    """Checks and records the delegation; a delegated zone becomes ACTIVE. The lookup runs
    outside any transaction (no row stays locked while the network answers)."""
    scope = write_scope(ctx)
    async with ctx.read(scope) as session:
        zone = await session.get(DnsZone, zone_id)
        if zone is None:
            raise NotFound("DnsZone")
        name, assigned, status = zone.name, list(zone.nameservers), zone.status
    if status == DnsZoneStatus.SUSPENDED:
        raise invalid("id", DnsErrorCode.ZONE_SUSPENDED, "The zone is suspended.")
    check = await check_delegation(resolver or ns_resolver(ctx.settings), name, assigned)
    async with ctx.transaction(scope) as session:
        zone = await locked_or_not_found(session, DnsZone, zone_id)
        zone.checked_at = check.checked_at
        zone.check_delegated = check.delegated
        zone.check_nameservers = check.found
        zone.check_message = check.message
        if check.delegated and zone.status == DnsZoneStatus.PENDING_VERIFICATION:
            zone.status = DnsZoneStatus.ACTIVE
            zone.verified_at = check.checked_at
            zone_changed(session, zone, "zone.activated")
        return zone, check
