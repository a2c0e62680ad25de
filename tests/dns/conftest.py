"""DNS test helpers: tenants with a signed-in admin, GraphQL documents, and the local nameserver
the app's delegation resolver asks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from core.permissions import Role
from server.runtime import Runtime
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, quick_account

ERRORS = "userErrors { field code message }"
ZONE = (
    "id name displayName status nameservers defaultTtl verifiedAt "
    "soa { mname rname serial refresh retry expire minimum } "
    "lastCheck { checkedAt delegated foundNameservers message }"
)
RECORD = "id type name fqdn content ttl priority weight port flags tag rdata"
CREATE_ZONE = f"""
mutation($input: CreateDnsZoneInput!) {{ createDnsZone(input: $input) {{ zone {{ {ZONE} }} {ERRORS} }} }}
"""
CREATE_RECORD = f"""
mutation($input: CreateDnsRecordInput!) {{
  createDnsRecord(input: $input) {{ record {{ {RECORD} }} zone {{ soa {{ serial }} }} {ERRORS} }}
}}
"""
BULK = f"""
mutation($input: BulkDnsRecordsInput!) {{
  bulkDnsRecords(input: $input) {{
    zone {{ soa {{ serial }} }} created {{ {RECORD} }} updated {{ {RECORD} }} deletedRecordIds {ERRORS}
  }}
}}
"""
ZONE_RECORDS = f"""
query($id: ID!, $filter: DnsRecordFilterInput, $first: Int, $after: String) {{
  dnsZone(id: $id) {{
    soa {{ serial }}
    records(filter: $filter, first: $first, after: $after) {{
      totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {RECORD} }}
    }}
  }}
}}
"""


@dataclass
class Tenant:
    slug: str
    admin: Account
    gql: GraphQLClient

    async def call(self, document: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        return (await self.gql(document, variables, token=self.admin.token, **kw)).ok()

    async def create_zone(self, name: str, **fields: Any) -> dict[str, Any]:
        payload: dict[str, Any] = (await self.call(CREATE_ZONE, {"input": {"name": name, **fields}}))[
            "createDnsZone"
        ]
        return payload

    async def zone(self, name: str, **fields: Any) -> dict[str, Any]:
        payload = await self.create_zone(name, **fields)
        assert payload["userErrors"] == [], payload
        zone: dict[str, Any] = payload["zone"]
        return zone

    async def create_record(self, zone_id: str, **record: Any) -> dict[str, Any]:
        payload: dict[str, Any] = (
            await self.call(CREATE_RECORD, {"input": {"zoneId": zone_id, "record": record}})
        )["createDnsRecord"]
        return payload

    async def record(self, zone_id: str, **record: Any) -> dict[str, Any]:
        payload = await self.create_record(zone_id, **record)
        assert payload["userErrors"] == [], payload
        found: dict[str, Any] = payload["record"]
        return found

    async def bulk(self, zone_id: str, **operations: Any) -> dict[str, Any]:
        payload: dict[str, Any] = (await self.call(BULK, {"input": {"zoneId": zone_id, **operations}}))[
            "bulkDnsRecords"
        ]
        return payload

    async def records(self, zone_id: str, **variables: Any) -> dict[str, Any]:
        zone: dict[str, Any] = (await self.call(ZONE_RECORDS, {"id": zone_id, **variables}))["dnsZone"]
        return zone


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


def fields(payload: dict[str, Any]) -> list[list[str]]:
    return [error["field"] for error in payload["userErrors"]]


async def open_tenant(
    runtime: Runtime, gql: GraphQLClient, slug: str, role: Role = Role.TENANT_ADMIN
) -> Tenant:
    return Tenant(slug, await quick_account(runtime, slug, role), gql)


@pytest.fixture
async def acme(runtime: Runtime, gql: GraphQLClient) -> Tenant:
    return await open_tenant(runtime, gql, "acme")


@pytest.fixture
async def globex(runtime: Runtime, gql: GraphQLClient) -> Tenant:
    return await open_tenant(runtime, gql, "globex")


@pytest.fixture
async def platform(runtime: Runtime, gql: GraphQLClient) -> Tenant:
    return await open_tenant(runtime, gql, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
