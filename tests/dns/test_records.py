"""Records against real PostgreSQL: each type's fields and bad input, names inside the zone,
CNAME rules, the serial on every change, filters and cursors, isolation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dns.conftest import ERRORS, RECORD, Tenant, codes, fields

UPDATE = f"""
mutation($input: UpdateDnsRecordInput!) {{
  updateDnsRecord(input: $input) {{ record {{ {RECORD} }} zone {{ soa {{ serial }} }} {ERRORS} }}
}}
"""
DELETE = f"""
mutation($input: DnsRecordIdInput!) {{
  deleteDnsRecord(input: $input) {{ deletedRecordId zone {{ soa {{ serial }} }} {ERRORS} }}
}}
"""
GET = f"query($id: ID!) {{ dnsRecord(id: $id) {{ {RECORD} zone {{ name }} }} }}"


@pytest.fixture
async def zone(acme: Tenant) -> dict[str, Any]:
    return await acme.zone("example.com")


GOOD = [
    ({"type": "A", "name": "www", "content": "192.0.2.1"}, "192.0.2.1"),
    ({"type": "AAAA", "name": "@", "content": "2001:DB8:0:0::1"}, "2001:db8::1"),
    ({"type": "CNAME", "name": "blog", "content": "Host.Example.NET."}, "host.example.net."),
    ({"type": "MX", "name": "@", "content": "mail.example.com", "priority": 10}, "10 mail.example.com."),
    ({"type": "TXT", "name": "@", "content": 'v=spf1 include:"x" -all'}, '"v=spf1 include:\\"x\\" -all"'),
    ({"type": "NS", "name": "sub", "content": "ns1.other.net"}, "ns1.other.net."),
    (
        {
            "type": "SRV",
            "name": "_sip._tcp",
            "content": "sip.example.com",
            "priority": 1,
            "weight": 5,
            "port": 5060,
        },
        "1 5 5060 sip.example.com.",
    ),
    ({"type": "CAA", "name": "@", "content": "letsencrypt.org", "tag": "issue"}, '0 issue "letsencrypt.org"'),
    ({"type": "PTR", "name": "1", "content": "host.example.com"}, "host.example.com."),
]


@pytest.mark.parametrize(("record", "rdata"), GOOD, ids=[r["type"] for r, _ in GOOD])
async def test_every_type_is_stored_normalised(
    acme: Tenant, zone: dict[str, Any], record: Any, rdata: str
) -> None:
    created = await acme.record(zone["id"], **record)
    assert created["rdata"] == rdata
    assert created["ttl"] == 3600
    assert created["fqdn"] == ("example.com" if record["name"] == "@" else f"{record['name']}.example.com")


BAD = [
    ({"type": "A", "name": "www", "content": "192.0.2.300"}, "INVALID_ADDRESS", "content"),
    ({"type": "A", "name": "www", "content": "2001:db8::1"}, "INVALID_ADDRESS", "content"),
    ({"type": "AAAA", "name": "www", "content": "192.0.2.1"}, "INVALID_ADDRESS", "content"),
    ({"type": "A", "name": "www", "content": "192.0.2.1", "priority": 5}, "NOT_APPLICABLE", "priority"),
    ({"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 59}, "INVALID_TTL", "ttl"),
    ({"type": "A", "name": "www", "content": "192.0.2.1", "ttl": 86401}, "INVALID_TTL", "ttl"),
    ({"type": "A", "name": "www.other.org.", "content": "192.0.2.1"}, "NAME_OUTSIDE_ZONE", "name"),
    ({"type": "A", "name": "bad name", "content": "192.0.2.1"}, "INVALID_NAME", "name"),
    ({"type": "A", "name": "x" * 64, "content": "192.0.2.1"}, "INVALID_NAME", "name"),
    ({"type": "CNAME", "name": "@", "content": "host.example.net"}, "CNAME_AT_APEX", "name"),
    ({"type": "CNAME", "name": "blog", "content": "not a host"}, "INVALID_TARGET", "content"),
    ({"type": "MX", "name": "@", "content": "mail.example.com"}, "INVALID_PRIORITY", "priority"),
    (
        {"type": "MX", "name": "@", "content": "mail.example.com", "priority": 70000},
        "INVALID_PRIORITY",
        "priority",
    ),
    ({"type": "MX", "name": "@", "content": "bad..host", "priority": 1}, "INVALID_TARGET", "content"),
    ({"type": "TXT", "name": "@", "content": "line\nbreak"}, "INVALID_TEXT", "content"),
    ({"type": "TXT", "name": "@", "content": ""}, "REQUIRED", "content"),
    ({"type": "NS", "name": "@", "content": "ns1.other.net"}, "APEX_NS_MANAGED", "name"),
    (
        {"type": "SRV", "name": "_sip._tcp", "content": "sip.example.com", "weight": 1, "port": 5060},
        "INVALID_PRIORITY",
        "priority",
    ),
    (
        {"type": "SRV", "name": "_sip._tcp", "content": "sip.example.com", "priority": 1, "port": 5060},
        "INVALID_WEIGHT",
        "weight",
    ),
    (
        {
            "type": "SRV",
            "name": "_sip._tcp",
            "content": "sip.example.com",
            "priority": 1,
            "weight": 1,
            "port": 70000,
        },
        "INVALID_PORT",
        "port",
    ),
    ({"type": "CAA", "name": "@", "content": "letsencrypt.org", "tag": "bogus"}, "INVALID_CAA", "tag"),
    (
        {"type": "CAA", "name": "@", "content": "letsencrypt.org", "tag": "issue", "flags": 3},
        "INVALID_CAA",
        "flags",
    ),
    ({"type": "CAA", "name": "@", "content": "not-a-url", "tag": "iodef"}, "INVALID_CAA", "content"),
    ({"type": "PTR", "name": "1", "content": "-"}, "INVALID_TARGET", "content"),
]


@pytest.mark.parametrize(
    ("record", "code", "field"), BAD, ids=[f"{r['type']}-{c}-{i}" for i, (r, c, _) in enumerate(BAD)]
)
async def test_bad_input_of_every_type_is_a_user_error(
    acme: Tenant, zone: dict[str, Any], record: Any, code: str, field: str
) -> None:
    payload = await acme.create_record(zone["id"], **record)
    assert payload["record"] is None
    assert code in codes(payload), payload
    assert ["input", "record", field] in fields(payload)


async def test_long_txt_is_split_into_strings_of_255(acme: Tenant, zone: dict[str, Any]) -> None:
    text = "k=" + "a" * 600
    created = await acme.record(zone["id"], type="TXT", name="dkim._domainkey", content=text)
    assert created["content"] == text
    strings = created["rdata"].split('" "')
    assert len(strings) == 3
    too_long = await acme.create_record(zone["id"], type="TXT", name="@", content="x" * 4001)
    assert codes(too_long) == ["TOO_LONG"]


async def test_names_relative_and_absolute_are_normalised(acme: Tenant, zone: dict[str, Any]) -> None:
    for name in ("Www", "www.example.com.", "www.example.com"):
        created = await acme.create_record(zone["id"], type="A", name=name, content="192.0.2.9")
        if name == "Www":
            assert created["record"]["name"] == "www"
        else:  # the same record again
            assert codes(created) == ["DUPLICATE_RECORD"]
    apex = await acme.record(zone["id"], type="A", name="example.com.", content="192.0.2.9")
    assert apex["name"] == "@"
    wildcard = await acme.record(zone["id"], type="A", name="*.apps", content="192.0.2.9")
    assert wildcard["fqdn"] == "*.apps.example.com"


async def test_a_cname_is_alone_at_its_name(acme: Tenant, zone: dict[str, Any]) -> None:
    await acme.record(zone["id"], type="A", name="www", content="192.0.2.1")
    beside = await acme.create_record(zone["id"], type="CNAME", name="www", content="host.example.net")
    assert codes(beside) == ["CNAME_CONFLICT"] and fields(beside) == [["input", "record", "type"]]
    await acme.record(zone["id"], type="CNAME", name="blog", content="host.example.net")
    under = await acme.create_record(zone["id"], type="TXT", name="blog", content="hello")
    assert codes(under) == ["CNAME_CONFLICT"] and fields(under) == [["input", "record", "name"]]
    second = await acme.create_record(zone["id"], type="CNAME", name="blog", content="other.example.net")
    assert codes(second) == ["CNAME_CONFLICT"]


async def test_update_and_delete_raise_the_serial(acme: Tenant, zone: dict[str, Any]) -> None:
    serial = int(zone["soa"]["serial"])
    created = await acme.create_record(
        zone["id"], type="MX", name="@", content="mx1.example.com", priority=10
    )
    record = created["record"]
    assert int(created["zone"]["soa"]["serial"]) > serial
    serial = int(created["zone"]["soa"]["serial"])
    changed = (
        await acme.call(UPDATE, {"input": {"id": record["id"], "changes": {"priority": 20, "ttl": 300}}})
    )["updateDnsRecord"]
    assert changed["userErrors"] == [] and changed["record"]["rdata"] == "20 mx1.example.com."
    assert int(changed["zone"]["soa"]["serial"]) > serial
    serial = int(changed["zone"]["soa"]["serial"])
    # a new type drops the old one's own fields
    retyped = (
        await acme.call(
            UPDATE, {"input": {"id": record["id"], "changes": {"type": "A", "content": "192.0.2.5"}}}
        )
    )["updateDnsRecord"]
    assert retyped["record"]["priority"] is None and retyped["record"]["type"] == "A"
    bad = (await acme.call(UPDATE, {"input": {"id": record["id"], "changes": {"content": "nope"}}}))[
        "updateDnsRecord"
    ]
    assert codes(bad) == ["INVALID_ADDRESS"] and fields(bad) == [["input", "changes", "content"]]
    deleted = (await acme.call(DELETE, {"input": {"id": record["id"]}}))["deleteDnsRecord"]
    assert deleted["deletedRecordId"] == record["id"]
    assert int(deleted["zone"]["soa"]["serial"]) > int(retyped["zone"]["soa"]["serial"]) > serial


async def test_records_filter_by_type_and_name_with_cursors(acme: Tenant, zone: dict[str, Any]) -> None:
    for i in range(5):
        await acme.record(zone["id"], type="A", name=f"h{i}", content=f"192.0.2.{i + 1}")
    await acme.record(zone["id"], type="TXT", name="h1", content="note")
    first = (await acme.records(zone["id"], first=2))["records"]
    assert [r["name"] for r in first["nodes"]] == ["h0", "h1"] and first["totalCount"] == 6
    rest = (await acme.records(zone["id"], first=10, after=first["pageInfo"]["endCursor"]))["records"]
    assert len(rest["nodes"]) == 4 and not rest["pageInfo"]["hasNextPage"]
    only_a = (await acme.records(zone["id"], filter={"type": "A"}))["records"]
    assert only_a["totalCount"] == 5
    at_h1 = (await acme.records(zone["id"], filter={"name": "h1.example.com."}))["records"]
    assert sorted(r["type"] for r in at_h1["nodes"]) == ["A", "TXT"] and at_h1["totalCount"] == 2


async def test_another_tenants_records_are_not_found(
    acme: Tenant, globex: Tenant, zone: dict[str, Any]
) -> None:
    record = await acme.record(zone["id"], type="A", name="www", content="192.0.2.1")
    for document, variables in (
        (GET, {"id": record["id"]}),
        (UPDATE, {"input": {"id": record["id"], "changes": {"ttl": 600}}}),
        (DELETE, {"input": {"id": record["id"]}}),
    ):
        result = await globex.gql(document, variables, token=globex.admin.token)
        assert result.error_codes == ["NOT_FOUND"], result.body
    refused = await globex.gql(
        "mutation($input: CreateDnsRecordInput!) { createDnsRecord(input: $input) { userErrors { code } } }",
        {"input": {"zoneId": zone["id"], "record": {"type": "A", "name": "x", "content": "192.0.2.2"}}},
        token=globex.admin.token,
    )
    assert refused.error_codes == ["NOT_FOUND"]
    assert (await acme.call(GET, {"id": record["id"]}))["dnsRecord"]["zone"]["name"] == "example.com"
