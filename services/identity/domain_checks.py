"""HTTP_FILE domain checks: the tenant serves the challenge value at
``http://<hostname>/.well-known/tenantgraph-challenge/<token>`` and we fetch it.

The fetch goes out to an address a tenant chose, so it is held short: the hostname's addresses come
from our resolver (services/identity/dns.py) and every one must be public (no loopback, private,
link-local or reserved address: no reaching into our own network), the connection goes to that
checked address (no second lookup to rebind), redirects are not followed, at most MAX_FILE_BYTES
are read, and the whole exchange has the settings' timeout."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from dataclasses import dataclass
from typing import Protocol

import httpx

from core.errors import invalid
from core.settings import Settings
from services.identity.dns import AddressResolver, DnsLookupFailed, address_resolver
from services.identity.errors import IdentityErrorCode

log = logging.getLogger(__name__)

WELL_KNOWN_PATH = "/.well-known/tenantgraph-challenge/"
# The file holds one line; anything longer is not the challenge.
MAX_FILE_BYTES = 1024


class FetchFailed(Exception):
    """No address, no connection, or no answer in time."""


class AddressForbidden(Exception):
    """The hostname resolves to an address that is not public."""


@dataclass(frozen=True, slots=True)
class FetchedFile:
    status: int
    body: str
    # More than MAX_FILE_BYTES came: not the one-line file, whatever its start holds.
    oversized: bool = False


class ChallengeFetcher(Protocol):
    async def fetch(self, hostname: str, path: str) -> FetchedFile:
        """GET ``path`` of ``hostname`` over HTTP; FetchFailed or AddressForbidden otherwise."""


def _public(address: str) -> bool:
    return ipaddress.ip_address(address).is_global


class HttpxFetcher:
    def __init__(
        self, resolver: AddressResolver, port: int, timeout_seconds: float, allow_private: bool
    ) -> None:
        self._resolver = resolver
        self._port = port
        self._timeout = timeout_seconds
        self._allow_private = allow_private

    async def _address(self, hostname: str) -> str:
        try:
            addresses = await self._resolver.addresses(hostname)
        except DnsLookupFailed as exc:
            raise FetchFailed(f"address lookup failed: {exc}") from exc
        if not addresses:
            raise FetchFailed("the hostname has no address")
        # Every address must be public: one private among them could be the one a client picks.
        if not self._allow_private and not all(_public(address) for address in addresses):
            raise AddressForbidden(hostname)
        return addresses[0]

    async def fetch(self, hostname: str, path: str) -> FetchedFile:
        address = await self._address(hostname)
        host = f"[{address}]" if ":" in address else address
        # The Host header names the site; the connection goes to the address checked above.
        host_header = hostname if self._port == 80 else f"{hostname}:{self._port}"
        try:
            # httpx's timeout holds for each read; a site trickling bytes would outlast it.
            async with (
                asyncio.timeout(self._timeout),
                httpx.AsyncClient(timeout=self._timeout, follow_redirects=False, trust_env=False) as client,
                client.stream(
                    "GET", f"http://{host}:{self._port}{path}", headers={"Host": host_header}
                ) as answer,
            ):
                body = b""
                async for chunk in answer.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_FILE_BYTES:
                        break
        except TimeoutError as exc:
            raise FetchFailed(f"no whole answer within {self._timeout} s") from exc
        except httpx.HTTPError as exc:
            raise FetchFailed(str(exc) or type(exc).__name__) from exc
        text = body[:MAX_FILE_BYTES].decode("utf-8", "replace")
        return FetchedFile(answer.status_code, text, oversized=len(body) > MAX_FILE_BYTES)


def challenge_fetcher(settings: Settings) -> ChallengeFetcher:
    return HttpxFetcher(
        address_resolver(settings),
        settings.domain_http_port,
        settings.domain_http_timeout_seconds,
        settings.domain_http_allow_private_addresses,
    )


def challenge_path(token: str) -> str:
    return f"{WELL_KNOWN_PATH}{token}"


def challenge_url(settings: Settings, hostname: str, token: str) -> str:
    """Where the tenant serves the file (what we fetch)."""
    port = "" if settings.domain_http_port == 80 else f":{settings.domain_http_port}"
    return f"http://{hostname}{port}{challenge_path(token)}"


async def check_http_file(settings: Settings, hostname: str, token: str, expected: str) -> None:
    """Raises the userError of a challenge file that is not served as it should be."""
    url = challenge_url(settings, hostname, token)
    try:
        fetched = await challenge_fetcher(settings).fetch(hostname, challenge_path(token))
    except AddressForbidden as exc:
        raise invalid(
            "id",
            IdentityErrorCode.DOMAIN_ADDRESS_FORBIDDEN,
            f"{hostname} resolves to a private or reserved address; it cannot be checked over HTTP.",
        ) from exc
    except FetchFailed as exc:
        # The detail may name our network: logged, not told.
        log.warning("HTTP check of %s failed: %s", url, exc)
        raise invalid(
            "id", IdentityErrorCode.HTTP_FETCH_FAILED, f"Fetching {url} failed; try again later."
        ) from exc
    if fetched.status != 200:
        raise invalid(
            "id", IdentityErrorCode.HTTP_FILE_MISSING, f"{url} answered HTTP {fetched.status}, not 200."
        )
    if fetched.oversized or fetched.body.strip() != expected:
        raise invalid(
            "id", IdentityErrorCode.HTTP_FILE_MISMATCH, f"The file at {url} does not hold {expected}."
        )
