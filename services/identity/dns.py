"""DNS lookups for custom-domain verification: the adapter's interfaces (TXT records, addresses)
and their dnspython implementation (nameserver, port and timeout from the settings)."""

from __future__ import annotations

from typing import Any, Protocol

import dns.asyncresolver
import dns.exception
import dns.rdatatype
import dns.resolver

from core.settings import Settings


class DnsLookupFailed(Exception):
    """The resolver gave no answer: timed out, or every nameserver failed (SERVFAIL, refused)."""


class TxtResolver(Protocol):
    async def txt_records(self, name: str) -> list[str]:
        """The TXT strings published at ``name`` (each record's strings joined, RFC 7208 style);
        empty when the name or its TXT records do not exist. DnsLookupFailed when no answer came."""


class AddressResolver(Protocol):
    async def addresses(self, name: str) -> list[str]:
        """The IPv4 and IPv6 addresses of ``name`` (A and AAAA records); empty when there are
        none. DnsLookupFailed when no answer came."""


class DnsPythonResolver:
    def __init__(self, nameserver: str, port: int, timeout_seconds: float) -> None:
        # Without a nameserver: the system's (resolv.conf); with one: only it.
        self._resolver = dns.asyncresolver.Resolver(configure=not nameserver)
        if nameserver:
            self._resolver.nameservers = [nameserver]
        self._resolver.port = port
        self._timeout = timeout_seconds

    async def _records(self, name: str, rdtype: dns.rdatatype.RdataType) -> list[Any]:
        try:
            answer = await self._resolver.resolve(
                name, rdtype, lifetime=self._timeout, raise_on_no_answer=False
            )
        except dns.resolver.NXDOMAIN:
            return []
        except dns.exception.DNSException as exc:  # timeout, SERVFAIL, no nameservers, ...
            raise DnsLookupFailed(str(exc) or type(exc).__name__) from exc
        return [rdata for rdata in answer if rdata.rdtype == rdtype]

    async def txt_records(self, name: str) -> list[str]:
        return [
            b"".join(rdata.strings).decode("utf-8", "replace")
            for rdata in await self._records(name, dns.rdatatype.TXT)
        ]

    async def addresses(self, name: str) -> list[str]:
        found = await self._records(name, dns.rdatatype.A)
        found += await self._records(name, dns.rdatatype.AAAA)
        return [rdata.address for rdata in found]


def dns_resolver(settings: Settings) -> DnsPythonResolver:
    return DnsPythonResolver(settings.dns_nameserver, settings.dns_port, settings.dns_timeout_seconds)


def txt_resolver(settings: Settings) -> TxtResolver:
    return dns_resolver(settings)


def address_resolver(settings: Settings) -> AddressResolver:
    return dns_resolver(settings)
