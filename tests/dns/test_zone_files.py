"""BIND export (REST and GraphQL) parsed back with dnspython, and zone-file import with per-line
userErrors, all or nothing."""

from __future__ import annotations

from typing import Any

import dns.rdatatype
import dns.zone
import httpx
import pytest
from strawberry import relay

from tests.dns.conftest import ERRORS, RECORD, Tenant, codes, fields

IMPORT = f"""
mutation($input: ImportDnsZoneInput!) {{
  importDnsZone(input: $input) {{ zone {{ soa {{ serial }} }} created {{ {RECORD} }} {ERRORS} }}
}}
"""
EXPORT = "query($id: ID!) { dnsZone(id: $id) { bindExport soa { serial } } }"


async def _filled(acme: Tenant) -> dict[str, Any]:
    zone = await acme.zone("export.example")
    payload = await acme.bulk(
        zone["id"],
        create=[
            {"type": "A", "name": "@", "content": "192.0.2.1"},
            {"type": "A", "name": "www", "content": "192.0.2.2", "ttl": 300},
            {"type": "AAAA", "name": "www", "content": "2001:db8::2"},
            {"type": "CNAME", "name": "blog", "content": "host.example.net"},
            {"type": "MX", "name": "@", "content": "mail.export.example", "priority": 10},
            {"type": "TXT", "name": "@", "content": 'v=spf1 "quoted" \\ back ' + "x" * 300},
            {"type": "NS", "name": "sub", "content": "ns.other.net"},
            {
                "type": "SRV",
                "name": "_sip._tcp",
                "content": "sip.export.example",
                "priority": 1,
                "weight": 2,
                "port": 5060,
            },
            {"type": "CAA", "name": "@", "content": "letsencrypt.org", "tag": "issue"},
            {"type": "PTR", "name": "7", "content": "host.export.example"},
        ],
    )
    assert payload["userErrors"] == []
    return payload


def _parsed(text: str) -> dns.zone.Zone:
    return dns.zone.from_text(text, origin="export.example.", relativize=False)


def _check(zone: dns.zone.Zone, serial: str) -> None:
    soa = zone.find_rdataset("export.example.", "SOA")[0]
    assert soa.serial == int(serial)
    ns = {r.target.to_text() for r in zone.find_rdataset("export.example.", "NS")}
    assert ns == {"ns1.tenantgraph.test.", "ns2.tenantgraph.test."}
    assert zone.find_rdataset("www.export.example.", "A")[0].address == "192.0.2.2"
    assert zone.find_rdataset("www.export.example.", "A").ttl == 300
    assert zone.find_rdataset("www.export.example.", "AAAA")[0].address == "2001:db8::2"
    assert zone.find_rdataset("blog.export.example.", "CNAME")[0].target.to_text() == "host.example.net."
    mx = zone.find_rdataset("export.example.", "MX")[0]
    assert (mx.preference, mx.exchange.to_text()) == (10, "mail.export.example.")
    txt = zone.find_rdataset("export.example.", "TXT")[0]
    assert b"".join(txt.strings).decode() == 'v=spf1 "quoted" \\ back ' + "x" * 300
    assert all(len(s) <= 255 for s in txt.strings)
    assert zone.find_rdataset("sub.export.example.", "NS")[0].target.to_text() == "ns.other.net."
    srv = zone.find_rdataset("_sip._tcp.export.example.", "SRV")[0]
    assert (srv.priority, srv.weight, srv.port) == (1, 2, 5060)
    caa = zone.find_rdataset("export.example.", "CAA")[0]
    assert (caa.flags, caa.tag, caa.value) == (0, b"issue", b"letsencrypt.org")
    assert zone.find_rdataset("7.export.example.", "PTR")[0].target.to_text() == "host.export.example."
    types = sorted(dns.rdatatype.to_text(rds.rdtype) for _, node in zone.items() for rds in node)
    assert len(types) == 12  # SOA, apex NS, and the ten rdatasets above


async def test_the_rest_export_parses_back_to_every_record(
    acme: Tenant, globex: Tenant, http: httpx.AsyncClient
) -> None:
    payload = await _filled(acme)
    zone_id = relay.GlobalID.from_id(
        (await acme.call("{ dnsZones { nodes { id } } }"))["dnsZones"]["nodes"][0]["id"]
    ).node_id
    response = await http.get(
        f"/dns/zones/{zone_id}/export", headers={"Authorization": f"Bearer {acme.admin.token}"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/dns")
    _check(_parsed(response.text), payload["zone"]["soa"]["serial"])
    other = await http.get(
        f"/dns/zones/{zone_id}/export", headers={"Authorization": f"Bearer {globex.admin.token}"}
    )
    assert other.status_code == 404
    assert (await http.get(f"/dns/zones/{zone_id}/export")).status_code == 401
    assert (
        await http.get("/dns/zones/nonsense/export", headers={"Authorization": f"Bearer {acme.admin.token}"})
    ).status_code == 404


async def test_the_graphql_export_is_the_same_file(acme: Tenant) -> None:
    payload = await _filled(acme)
    zone_id = (await acme.call("{ dnsZones { nodes { id } } }"))["dnsZones"]["nodes"][0]["id"]
    exported = (await acme.call(EXPORT, {"id": zone_id}))["dnsZone"]
    _check(_parsed(exported["bindExport"]), payload["zone"]["soa"]["serial"])


ZONE_FILE = """\
$ORIGIN imported.example.
$TTL 1h
@   IN SOA ns.elsewhere. admin.elsewhere. ( 1 7200 900 1209600 300 )
@   IN NS  ns.elsewhere.      ; managed by us: skipped
@       300 IN A     192.0.2.10
        IN AAAA  2001:db8::10  ; owner inherited
www     IN CNAME @
mail    IN A     192.0.2.20
@       IN MX    10 mail
@       IN TXT   "v=spf1 mx -all" "second string"
_sip._tcp IN SRV 1 5 5060 sip.other.net.
@       IN CAA   0 issue "letsencrypt.org"
sub     IN NS    ns1.other.net.
"""


async def test_import_reads_a_zone_file(acme: Tenant) -> None:
    zone = await acme.zone("imported.example")
    payload = (await acme.call(IMPORT, {"input": {"zoneId": zone["id"], "zoneFile": ZONE_FILE}}))[
        "importDnsZone"
    ]
    assert payload["userErrors"] == []
    created = {(r["type"], r["name"]): r for r in payload["created"]}
    assert len(created) == 9
    assert created[("A", "@")]["ttl"] == 300 and created[("AAAA", "@")]["ttl"] == 3600
    assert created[("CNAME", "www")]["content"] == "imported.example"
    assert created[("MX", "@")]["rdata"] == "10 mail.imported.example."
    assert created[("TXT", "@")]["content"] == "v=spf1 mx -allsecond string"
    assert int(payload["zone"]["soa"]["serial"]) > int(zone["soa"]["serial"])
    # replace: the file's records instead of the zone's
    again = (
        await acme.call(
            IMPORT, {"input": {"zoneId": zone["id"], "zoneFile": "a 60 IN A 192.0.2.1\n", "replace": True}}
        )
    )["importDnsZone"]
    assert again["userErrors"] == []
    assert (await acme.records(zone["id"]))["records"]["totalCount"] == 1


async def test_import_reports_every_line_at_fault_and_changes_nothing(acme: Tenant) -> None:
    zone = await acme.zone("broken.example")
    text = "\n".join(
        [
            "ok   IN A 192.0.2.1",
            "bad  IN A 192.0.2",  # line 2: syntax
            "x    IN HINFO cpu os",  # line 3: type we do not host
            "mx   IN MX mail.broken.example.",  # line 4: no preference
            "low  30 IN A 192.0.2.2",  # line 5: TTL below 60
            "@    IN CNAME other.example.",  # line 6: CNAME at the apex
            "out.other.org. IN A 192.0.2.3",  # line 7: outside the zone
        ]
    )
    payload = (await acme.call(IMPORT, {"input": {"zoneId": zone["id"], "zoneFile": text}}))["importDnsZone"]
    assert payload["created"] == []
    by_line = {tuple(f[:3]): code for f, code in zip(fields(payload), codes(payload), strict=True)}
    assert by_line[("input", "zoneFile", "2")] == "ZONE_FILE_SYNTAX"
    assert by_line[("input", "zoneFile", "3")] == "UNSUPPORTED_TYPE"
    assert by_line[("input", "zoneFile", "4")] == "ZONE_FILE_SYNTAX"
    assert all("Line" in e["message"] for e in payload["userErrors"])
    assert (await acme.records(zone["id"]))["records"]["totalCount"] == 0
    # With the syntax fixed, the rules over the records name their lines and fields.
    fixed = "\n".join(
        [
            "ok IN A 192.0.2.1",
            "low 30 IN A 192.0.2.2",
            "@ IN CNAME other.example.",
            "out.other.org. IN A 192.0.2.3",
        ]
    )
    payload = (await acme.call(IMPORT, {"input": {"zoneId": zone["id"], "zoneFile": fixed}}))["importDnsZone"]
    assert sorted(map(tuple, fields(payload))) == [
        ("input", "zoneFile", "2", "ttl"),
        ("input", "zoneFile", "3", "name"),
        ("input", "zoneFile", "4", "name"),
    ]
    assert (await acme.records(zone["id"]))["records"]["totalCount"] == 0


@pytest.mark.parametrize("size", [20_001])
async def test_an_oversized_zone_file_is_refused(acme: Tenant, size: int) -> None:
    zone = await acme.zone("big.example")
    result = await acme.gql(
        IMPORT, {"input": {"zoneId": zone["id"], "zoneFile": ";" * size}}, token=acme.admin.token
    )
    payload = result.data["importDnsZone"] if result.data else None
    assert payload is None or codes(payload) == ["TOO_LONG"], result.body


async def test_unicode_text_and_names_round_trip(acme: Tenant) -> None:
    zone = await acme.zone("bücher.example")
    await acme.record(zone["id"], type="TXT", name="straße", content='grüße "✓" ; not a comment')
    exported = (await acme.call(EXPORT, {"id": zone["id"]}))["dnsZone"]["bindExport"]
    parsed = dns.zone.from_text(exported, origin="xn--bcher-kva.example.")
    txt = parsed.find_rdataset("xn--strae-oqa", "TXT")[0]
    assert b"".join(txt.strings).decode() == 'grüße "✓" ; not a comment'
    # and the file imports back into another zone unchanged
    other = await acme.zone("copy.example")
    body = exported.replace("xn--bcher-kva.example", "copy.example")
    payload = (await acme.call(IMPORT, {"input": {"zoneId": other["id"], "zoneFile": body}}))["importDnsZone"]
    assert payload["userErrors"] == []
    assert [(r["name"], r["content"]) for r in payload["created"]] == [
        ("xn--strae-oqa", 'grüße "✓" ; not a comment')
    ]
