"""HTTP_FILE domain verification (seed 002 POST /tenants/{id}/domains/verify, method HTTP_FILE)
against real PostgreSQL, a local DNS server and a local web site (tests/support/fake_site.py): the
file's URL and value, the fetch through the adapter (services/identity/domain_checks.py) to the
resolved address with the site's Host, and every failure as a userError: no address, no file,
wrong file, redirect, private address, nothing listening, oversized file, wrong tenant or role."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from core.permissions import Role
from server.runtime import Runtime
from services.identity.domain_checks import MAX_FILE_BYTES, WELL_KNOWN_PATH
from tests.harness.servers import free_port
from tests.support.fake_site import AddressDns, FakeSite, fake_site
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, quick_account

HOST = "shop.acme.example"
ERRORS = "userErrors { field code message }"
DOMAIN = "id hostname method verified challenge { method recordType recordName recordValue url }"
ADD = f"""
mutation($input: AddTenantDomainInput!) {{
  addTenantDomain(input: $input) {{ domain {{ {DOMAIN} }} {ERRORS} }}
}}
"""
VERIFY = f"""
mutation($input: TenantDomainIdInput!) {{
  verifyTenantDomain(input: $input) {{ domain {{ {DOMAIN} }} {ERRORS} }}
}}
"""
BY_DOMAIN = "query($hostname: String!) { tenantByDomain(hostname: $hostname) { slug } }"


@pytest.fixture
def site(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeSite, AddressDns]]:
    """The tenant's site and the DNS server the app's resolver asks; private addresses allowed,
    since the site listens on 127.0.0.1 (one test turns that off again)."""
    with fake_site() as (web, dns_server):
        settings = runtime.settings
        monkeypatch.setattr(settings, "dns_nameserver", "127.0.0.1")
        monkeypatch.setattr(settings, "dns_port", dns_server.port)
        monkeypatch.setattr(settings, "dns_timeout_seconds", 0.5)
        monkeypatch.setattr(settings, "domain_http_port", web.port)
        monkeypatch.setattr(settings, "domain_http_timeout_seconds", 2.0)
        monkeypatch.setattr(settings, "domain_http_allow_private_addresses", True)
        yield web, dns_server


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def add(gql: GraphQLClient, account: Account, method: str = "HTTP_FILE") -> dict[str, Any]:
    variables = {"input": {"hostname": HOST, "method": method}}
    payload: dict[str, Any] = (await gql(ADD, variables, token=account.token)).ok()["addTenantDomain"]
    assert payload["userErrors"] == []
    return payload["domain"]  # type: ignore[no-any-return]


async def verify(gql: GraphQLClient, account: Account, domain_id: str) -> dict[str, Any]:
    result = await gql(VERIFY, {"input": {"id": domain_id}}, token=account.token)
    payload: dict[str, Any] = result.ok()["verifyTenantDomain"]
    return payload


def path_of(domain: dict[str, Any]) -> str:
    url: str = domain["challenge"]["url"]
    return url[url.index(WELL_KNOWN_PATH) :]


async def test_the_file_verifies_the_domain(
    runtime: Runtime, gql: GraphQLClient, site: tuple[FakeSite, AddressDns]
) -> None:
    web, dns_server = site
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    domain = await add(gql, admin)
    challenge = domain["challenge"]
    assert (domain["method"], challenge["method"], challenge["recordType"]) == ("HTTP_FILE",) * 3
    assert challenge["url"].startswith(f"http://{HOST}:{web.port}{WELL_KNOWN_PATH}")
    assert challenge["recordName"] == challenge["url"]
    assert challenge["recordValue"].startswith("tenantgraph-verification=")
    path = path_of(domain)

    # No address for the hostname yet, then an address but no file, then the wrong file.
    assert codes(await verify(gql, admin, domain["id"])) == ["HTTP_FETCH_FAILED"]
    dns_server.addresses[HOST] = ["127.0.0.1"]
    assert codes(await verify(gql, admin, domain["id"])) == ["HTTP_FILE_MISSING"]
    web.files[path] = "tenantgraph-verification=someone-else"
    assert codes(await verify(gql, admin, domain["id"])) == ["HTTP_FILE_MISMATCH"]
    assert (await gql(BY_DOMAIN, {"hostname": HOST})).ok()["tenantByDomain"] is None

    web.files[path] = challenge["recordValue"] + "\n"
    verified = await verify(gql, admin, domain["id"])
    assert verified["userErrors"] == []
    assert verified["domain"]["verified"] is True and verified["domain"]["challenge"] is None
    assert (await gql(BY_DOMAIN, {"hostname": HOST})).ok()["tenantByDomain"] == {"slug": "acme"}
    # Each check was a real request to the resolved address, naming the site in Host.
    assert web.requests == [(f"{HOST}:{web.port}", path)] * 3
    # Verified: a check again asks nothing.
    assert (await verify(gql, admin, domain["id"]))["domain"]["verified"] is True
    assert len(web.requests) == 3


async def test_redirects_are_not_followed(
    runtime: Runtime, gql: GraphQLClient, site: tuple[FakeSite, AddressDns]
) -> None:
    web, dns_server = site
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    domain = await add(gql, admin)
    dns_server.addresses[HOST] = ["127.0.0.1"]
    web.files["/elsewhere"] = domain["challenge"]["recordValue"]
    web.redirects[path_of(domain)] = "/elsewhere"
    payload = await verify(gql, admin, domain["id"])
    assert codes(payload) == ["HTTP_FILE_MISSING"]
    assert "HTTP 302" in payload["userErrors"][0]["message"]
    assert [path for _, path in web.requests] == [path_of(domain)]


async def test_private_addresses_are_refused(
    runtime: Runtime, gql: GraphQLClient, site: tuple[FakeSite, AddressDns], monkeypatch: pytest.MonkeyPatch
) -> None:
    web, dns_server = site
    monkeypatch.setattr(runtime.settings, "domain_http_allow_private_addresses", False)
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    domain = await add(gql, admin)
    web.files[path_of(domain)] = domain["challenge"]["recordValue"]
    for addresses in (["127.0.0.1"], ["10.1.2.3"], ["169.254.169.254"], ["93.184.215.14", "192.168.0.1"]):
        dns_server.addresses[HOST] = addresses
        assert codes(await verify(gql, admin, domain["id"])) == ["DOMAIN_ADDRESS_FORBIDDEN"]
    assert web.requests == []  # nothing was fetched


async def test_nothing_listening_and_oversized_files_fail(
    runtime: Runtime, gql: GraphQLClient, site: tuple[FakeSite, AddressDns], monkeypatch: pytest.MonkeyPatch
) -> None:
    web, dns_server = site
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    domain = await add(gql, admin)
    dns_server.addresses[HOST] = ["127.0.0.1"]
    value = domain["challenge"]["recordValue"]
    # The value, then more than the file may hold: refused, though its start is right.
    web.files[path_of(domain)] = value + " " * MAX_FILE_BYTES
    assert codes(await verify(gql, admin, domain["id"])) == ["HTTP_FILE_MISMATCH"]
    monkeypatch.setattr(runtime.settings, "domain_http_port", free_port())
    assert codes(await verify(gql, admin, domain["id"])) == ["HTTP_FETCH_FAILED"]


async def test_adding_again_switches_the_method(
    runtime: Runtime, gql: GraphQLClient, site: tuple[FakeSite, AddressDns]
) -> None:
    web, dns_server = site
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    by_dns = await add(gql, admin, "DNS_TXT")
    assert (by_dns["method"], by_dns["challenge"]["recordType"], by_dns["challenge"]["url"]) == (
        "DNS_TXT",
        "TXT",
        None,
    )
    by_file = await add(gql, admin, "HTTP_FILE")
    assert by_file["id"] == by_dns["id"] and by_file["method"] == "HTTP_FILE"
    assert by_file["challenge"]["recordValue"] == by_dns["challenge"]["recordValue"]
    dns_server.addresses[HOST] = ["127.0.0.1"]
    web.files[path_of(by_file)] = by_file["challenge"]["recordValue"]
    assert (await verify(gql, admin, by_file["id"]))["domain"]["verified"] is True


async def test_only_the_tenants_admins_verify(
    runtime: Runtime, gql: GraphQLClient, site: tuple[FakeSite, AddressDns]
) -> None:
    web, _ = site
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    member = await quick_account(runtime, "acme", Role.USER)
    other = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    domain = await add(gql, admin)
    refused = await gql(VERIFY, {"input": {"id": domain["id"]}}, token=member.token)
    assert refused.error_codes == ["FORBIDDEN"]
    crossed = await gql(VERIFY, {"input": {"id": domain["id"]}}, token=other.token)
    assert crossed.error_codes == ["NOT_FOUND"]
    bad_method = await gql(ADD, {"input": {"hostname": HOST, "method": "FTP"}}, token=admin.token)
    assert bad_method.error_codes == ["BAD_USER_INPUT"]
    assert web.requests == []


async def test_a_trickling_site_is_cut_off_at_the_timeout(
    runtime: Runtime, gql: GraphQLClient, site: tuple[FakeSite, AddressDns], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each byte comes well within the read timeout, the whole file long after the check's."""
    _, dns_server = site
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    domain = await add(gql, admin)
    dns_server.addresses[HOST] = ["127.0.0.1"]
    body = domain["challenge"]["recordValue"].encode()

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
        for index in range(len(body)):
            writer.write(body[index : index + 1])
            await writer.drain()
            await asyncio.sleep(0.1)
        writer.close()

    server = await asyncio.start_server(trickle, "127.0.0.1", 0)
    monkeypatch.setattr(runtime.settings, "domain_http_port", server.sockets[0].getsockname()[1])
    monkeypatch.setattr(runtime.settings, "domain_http_timeout_seconds", 1.0)
    started = time.monotonic()
    async with server:
        assert codes(await verify(gql, admin, domain["id"])) == ["HTTP_FETCH_FAILED"]
    assert time.monotonic() - started < 3
