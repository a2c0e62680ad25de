"""DNS lookups for custom-domain verification: the adapter's interface and its dnspython
implementation (nameserver, port and timeout from the settings)."""

from __future__ import annotations

from typing import Protocol

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


class DnsPythonResolver:
    def __init__(self, nameserver: str, port: int, timeout_seconds: float) -> None:
        # Without a nameserver: the system's (resolv.conf); with one: only it.
        self._resolver = dns.asyncresolver.Resolver(configure=not nameserver)
        if nameserver:
            self._resolver.nameservers = [nameserver]
        self._resolver.port = port
        self._timeout = timeout_seconds

    async def txt_records(self, name: str) -> list[str]:
        try:
            answer = await self._resolver.resolve(
                name, dns.rdatatype.TXT, lifetime=self._timeout, raise_on_no_answer=False
            )
        except dns.resolver.NXDOMAIN:
            return []
        except dns.exception.DNSException as exc:  # timeout, SERVFAIL, no nameservers, ...
            raise DnsLookupFailed(str(exc) or type(exc).__name__) from exc
        return [
            b"".join(rdata.strings).decode("utf-8", "replace")
            for rdata in answer
            if rdata.rdtype == dns.rdatatype.TXT
        ]


def txt_resolver(settings: Settings) -> TxtResolver:
    return DnsPythonResolver(settings.dns_nameserver, settings.dns_port, settings.dns_timeout_seconds)
