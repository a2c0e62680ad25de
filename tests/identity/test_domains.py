"""Custom domains against real PostgreSQL and a local DNS server (tests/support/fake_dns.py):
the TXT challenge, verification through the dnspython resolver, the public lookup by verified
domain, and every bad input (hostname, claim of another tenant, record missing or wrong, resolver
timeout, expired challenge) as a userError."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.permissions import Role
from core.scope import TenantScope
from models.identity.tenant_profile import TenantDomain
from server.runtime import Runtime
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from services.identity.domains import MAX_HOSTNAME_LENGTH
from tests.support.fake_dns import FakeDns, fake_dns
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, quick_account

ALL = TenantScope.all_tenants()
ERRORS = "userErrors { field code message }"
DOMAIN = "id hostname verified verifiedAt challenge { recordType recordName recordValue expiresAt }"
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
REMOVE = f"""
mutation($input: TenantDomainIdInput!) {{
  removeTenantDomain(input: $input) {{ removedDomainId hostname {ERRORS} }}
}}
"""
BY_DOMAIN = (
    "query($hostname: String!) { tenantByDomain(hostname: $hostname) { slug name branding { displayName } } }"
)
DOMAINS = "{ tenant { domains { hostname verified } } }"
NODE = "query($id: ID!) { node(id: $id) { ... on TenantDomain { hostname verified } } }"


@pytest.fixture
def dns_server(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDns]:
    """The local DNS server, which the app's resolver asks (the settings name it)."""
    with fake_dns() as server:
        monkeypatch.setattr(runtime.settings, "dns_nameserver", "127.0.0.1")
        monkeypatch.setattr(runtime.settings, "dns_port", server.port)
        monkeypatch.setattr(runtime.settings, "dns_timeout_seconds", 0.5)
        yield server


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def add(gql: GraphQLClient, account: Account, hostname: str, **extra: Any) -> dict[str, Any]:
    variables = {"input": {"hostname": hostname, **extra}}
    payload: dict[str, Any] = (await gql(ADD, variables, token=account.token)).ok()["addTenantDomain"]
    return payload


async def verify(gql: GraphQLClient, account: Account, domain_id: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql(VERIFY, {"input": {"id": domain_id}}, token=account.token)).ok()[
        "verifyTenantDomain"
    ]
    return payload


async def by_domain(gql: GraphQLClient, hostname: str) -> Any:
    return (await gql(BY_DOMAIN, {"hostname": hostname})).ok()["tenantByDomain"]


def publish(dns_server: FakeDns, domain: dict[str, Any], *others: str) -> None:
    challenge = domain["challenge"]
    dns_server.publish(challenge["recordName"], *others, challenge["recordValue"])


async def test_add_verify_and_resolve(runtime: Runtime, gql: GraphQLClient, dns_server: FakeDns) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    payload = await add(gql, admin, " Shop.Acme.Example. ")
    assert payload["userErrors"] == []
    domain = payload["domain"]
    challenge = domain["challenge"]
    assert (domain["hostname"], domain["verified"], domain["verifiedAt"]) == (
        "shop.acme.example",
        False,
        None,
    )
    assert challenge["recordType"] == "TXT"
    assert challenge["recordName"] == "_tenantgraph-challenge.shop.acme.example"
    assert challenge["recordValue"].startswith("tenantgraph-verification=")
    expires = datetime.fromisoformat(challenge["expiresAt"])
    ttl = timedelta(seconds=runtime.settings.domain_challenge_ttl_seconds)
    assert abs(expires - (datetime.now(UTC) + ttl)) < timedelta(minutes=1)
    # Adding it again answers the same claim and challenge.
    assert (await add(gql, admin, "shop.acme.example"))["domain"] == domain
    # Unverified, it resolves to nothing.
    assert await by_domain(gql, "shop.acme.example") is None

    # Nothing published yet, then something else, then the challenge among other records.
    assert codes(await verify(gql, admin, domain["id"])) == ["DNS_RECORD_MISSING"]
    dns_server.publish(challenge["recordName"], "google-site-verification=abc")
    assert codes(await verify(gql, admin, domain["id"])) == ["DNS_RECORD_MISMATCH"]
    publish(dns_server, domain, "google-site-verification=abc")
    verified = await verify(gql, admin, domain["id"])
    assert verified["userErrors"] == []
    assert verified["domain"]["verified"] is True and verified["domain"]["challenge"] is None
    assert verified["domain"]["verifiedAt"] is not None
    # Each check was a real DNS query at the challenge name.
    assert dns_server.queries.count(challenge["recordName"]) == 3

    assert await by_domain(gql, "SHOP.acme.example.") == {
        "slug": "acme",
        "name": "Acme",
        "branding": {"displayName": None},
    }
    assert (await gql(DOMAINS, token=admin.token)).ok()["tenant"]["domains"] == [
        {"hostname": "shop.acme.example", "verified": True}
    ]
    assert (await gql(NODE, {"id": domain["id"]}, token=admin.token)).ok()["node"] == {
        "hostname": "shop.acme.example",
        "verified": True,
    }
    # Verifying again changes nothing and asks DNS nothing.
    assert (await verify(gql, admin, domain["id"]))["domain"]["verified"] is True
    assert dns_server.queries.count(challenge["recordName"]) == 3

    removed = (await gql(REMOVE, {"input": {"id": domain["id"]}}, token=admin.token)).ok()[
        "removeTenantDomain"
    ]
    assert removed == {"removedDomainId": domain["id"], "hostname": "shop.acme.example", "userErrors": []}
    assert await by_domain(gql, "shop.acme.example") is None


@pytest.mark.parametrize(
    "hostname",
    [
        "",
        "   ",
        "localhost",
        "acme",
        "192.0.2.10",
        "*.acme.example",
        "https://shop.acme.example",
        "shop.acme.example:8443",
        "shop acme.example",
        "-shop.acme.example",
        "shop-.acme.example",
        "shop..acme.example",
        "shop_1.acme.example",
        "bücher.example.com",
        "a" * 64 + ".example.com",
        ("a" * 60 + ".") * 4 + "example.com",
        "printer.local",
        "db.internal",
    ],
)
async def test_invalid_hostnames_are_user_errors(runtime: Runtime, gql: GraphQLClient, hostname: str) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    payload = await add(gql, admin, hostname)
    assert payload == {
        "domain": None,
        "userErrors": [
            {
                "field": ["input", "hostname"],
                "code": "INVALID_HOSTNAME",
                "message": "Enter a hostname such as shop.example.com (punycode for non-ASCII names, "
                "no port).",
            }
        ],
    }
    if len(hostname) > MAX_HOSTNAME_LENGTH:  # refused before resolving, as any over-long argument
        assert (await gql(BY_DOMAIN, {"hostname": hostname})).error_codes == ["BAD_USER_INPUT"]
    else:
        assert await by_domain(gql, hostname) is None


async def test_a_hostname_verified_by_another_tenant_is_taken(
    runtime: Runtime, gql: GraphQLClient, dns_server: FakeDns
) -> None:
    acme = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    globex = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    # Both claim it; both challenges are published (a shared zone, say).
    acme_domain = (await add(gql, acme, "shop.example.com"))["domain"]
    globex_domain = (await add(gql, globex, "shop.example.com"))["domain"]
    assert acme_domain["challenge"]["recordValue"] != globex_domain["challenge"]["recordValue"]
    dns_server.publish(
        acme_domain["challenge"]["recordName"],
        acme_domain["challenge"]["recordValue"],
        globex_domain["challenge"]["recordValue"],
    )
    assert (await verify(gql, acme, acme_domain["id"]))["domain"]["verified"] is True
    # The first to verify holds it: the other can neither verify nor add it again.
    taken = await verify(gql, globex, globex_domain["id"])
    assert (taken["domain"], codes(taken)) == (None, ["DOMAIN_TAKEN"])
    assert codes(await add(gql, globex, "SHOP.example.com")) == ["DOMAIN_TAKEN"]
    assert (await by_domain(gql, "shop.example.com"))["slug"] == "acme"
    # Neither can touch the other's domain.
    foreign = await gql(VERIFY, {"input": {"id": acme_domain["id"]}}, token=globex.token)
    assert foreign.error_codes == ["NOT_FOUND"]
    foreign = await gql(REMOVE, {"input": {"id": acme_domain["id"]}}, token=globex.token)
    assert foreign.error_codes == ["NOT_FOUND"]
    assert (await gql(NODE, {"id": acme_domain["id"]}, token=globex.token)).error_codes == ["NOT_FOUND"]

    # Released, it goes to the other tenant.
    await gql(REMOVE, {"input": {"id": acme_domain["id"]}}, token=acme.token)
    assert (await verify(gql, globex, globex_domain["id"]))["domain"]["verified"] is True
    assert (await by_domain(gql, "shop.example.com"))["slug"] == "globex"


async def test_a_resolver_timeout_is_a_user_error(
    runtime: Runtime, gql: GraphQLClient, dns_server: FakeDns
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    domain = (await add(gql, admin, "slow.acme.example"))["domain"]
    dns_server.silent.add(domain["challenge"]["recordName"])
    payload = await verify(gql, admin, domain["id"])
    assert payload["domain"] is None
    assert payload["userErrors"] == [
        {
            "field": ["input", "id"],
            "code": "DNS_LOOKUP_FAILED",
            "message": f"The DNS lookup of {domain['challenge']['recordName']} failed; try again later.",
        }
    ]
    # Answering again, the same domain verifies.
    dns_server.silent.clear()
    publish(dns_server, domain)
    assert (await verify(gql, admin, domain["id"]))["domain"]["verified"] is True


async def test_an_expired_challenge_is_renewed_by_adding_again(
    runtime: Runtime, gql: GraphQLClient, dns_server: FakeDns
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    domain = (await add(gql, admin, "shop.acme.example"))["domain"]
    publish(dns_server, domain)
    async with runtime.db.transaction(ALL) as session:
        row = await session.get_one(TenantDomain, _row_id(domain["id"]))
        row.challenge_expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert codes(await verify(gql, admin, domain["id"])) == ["DOMAIN_CHALLENGE_EXPIRED"]
    assert dns_server.queries == []  # refused before any lookup

    renewed = (await add(gql, admin, "shop.acme.example"))["domain"]
    assert renewed["id"] == domain["id"]
    assert renewed["challenge"]["recordValue"] != domain["challenge"]["recordValue"]
    assert datetime.fromisoformat(renewed["challenge"]["expiresAt"]) > datetime.now(UTC)
    # The old value, still published, no longer proves anything; the new one does.
    assert codes(await verify(gql, admin, domain["id"])) == ["DNS_RECORD_MISMATCH"]
    publish(dns_server, renewed)
    assert (await verify(gql, admin, domain["id"]))["domain"]["verified"] is True


async def test_who_may_manage_domains(runtime: Runtime, gql: GraphQLClient, dns_server: FakeDns) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme", Role.USER)
    refused = await gql(ADD, {"input": {"hostname": "shop.acme.example"}}, token=user.token)
    assert refused.error_codes == ["FORBIDDEN"]
    assert (await gql(ADD, {"input": {"hostname": "shop.acme.example"}})).error_codes == ["UNAUTHENTICATED"]
    # A platform admin names the tenant.
    domain = (await add(gql, platform, "shop.acme.example", tenantId=admin.tenant_gid))["domain"]
    assert (await gql(DOMAINS, token=admin.token)).ok()["tenant"]["domains"] == [
        {"hostname": "shop.acme.example", "verified": False}
    ]
    refused = await gql(VERIFY, {"input": {"id": domain["id"]}}, token=user.token)
    assert refused.error_codes == ["FORBIDDEN"]
    # Members read the tenant's domains.
    assert (await gql(DOMAINS, token=user.token)).ok()["tenant"]["domains"] == [
        {"hostname": "shop.acme.example", "verified": False}
    ]


async def test_at_most_twenty_domains(runtime: Runtime, gql: GraphQLClient, dns_server: FakeDns) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    for n in range(20):
        assert (await add(gql, admin, f"shop{n}.acme.example"))["userErrors"] == []
    assert codes(await add(gql, admin, "one-more.acme.example")) == ["TOO_MANY_DOMAINS"]
    # A claim it has already is still answered.
    assert (await add(gql, admin, "shop7.acme.example"))["domain"]["hostname"] == "shop7.acme.example"


async def test_a_deleted_or_suspended_tenant_resolves_to_nothing(
    runtime: Runtime, gql: GraphQLClient, dns_server: FakeDns
) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    domain = (await add(gql, admin, "shop.acme.example"))["domain"]
    publish(dns_server, domain)
    await verify(gql, admin, domain["id"])
    assert (await by_domain(gql, "shop.acme.example"))["slug"] == "acme"

    tenant = {"input": {"id": admin.tenant_gid}}
    await gql(
        "mutation($input: TenantIdInput!) { deleteTenant(input: $input) { userErrors { code } } }",
        tenant,
        token=platform.token,
    )
    assert await by_domain(gql, "shop.acme.example") is None
    await gql(
        "mutation($input: TenantIdInput!) { restoreTenant(input: $input) { userErrors { code } } }",
        tenant,
        token=platform.token,
    )
    assert (await by_domain(gql, "shop.acme.example"))["slug"] == "acme"
    await gql(
        "mutation($input: TenantIdInput!) { suspendTenant(input: $input) { userErrors { code } } }",
        tenant,
        token=platform.token,
    )
    assert await by_domain(gql, "shop.acme.example") is None


def _row_id(domain_gid: str) -> uuid.UUID:
    return uuid.UUID(base64.b64decode(domain_gid).decode().removeprefix("TenantDomain:"))
