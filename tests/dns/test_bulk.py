"""Bulk record operations: all or nothing, each userError naming its item, rules over the whole set
as it would be; the serial of concurrent changes strictly increases."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.dns.conftest import Tenant, codes, fields


@pytest.fixture
async def zone(acme: Tenant) -> dict[str, Any]:
    return await acme.zone("bulk.example")


async def test_create_update_delete_in_one_step(acme: Tenant, zone: dict[str, Any]) -> None:
    www = await acme.record(zone["id"], type="A", name="www", content="192.0.2.1")
    old = await acme.record(zone["id"], type="A", name="old", content="192.0.2.2")
    before = int((await acme.records(zone["id"]))["soa"]["serial"])
    payload = await acme.bulk(
        zone["id"],
        create=[
            {"type": "A", "name": "api", "content": "192.0.2.3"},
            {"type": "MX", "name": "@", "content": "mx.bulk.example", "priority": 5},
        ],
        update=[{"id": www["id"], "changes": {"content": "192.0.2.10"}}],
        delete=[old["id"]],
    )
    assert payload["userErrors"] == []
    assert [r["name"] for r in payload["created"]] == ["api", "@"]
    assert payload["updated"][0]["content"] == "192.0.2.10"
    assert payload["deletedRecordIds"] == [old["id"]]
    assert int(payload["zone"]["soa"]["serial"]) == before + 1  # one change, one step
    names = sorted(r["name"] for r in (await acme.records(zone["id"]))["records"]["nodes"])
    assert names == ["@", "api", "www"]


async def test_one_bad_item_changes_nothing_and_names_every_fault(acme: Tenant, zone: dict[str, Any]) -> None:
    www = await acme.record(zone["id"], type="A", name="www", content="192.0.2.1")
    before = await acme.records(zone["id"])
    payload = await acme.bulk(
        zone["id"],
        create=[
            {"type": "A", "name": "ok", "content": "192.0.2.3"},
            {"type": "A", "name": "bad", "content": "300.0.0.1"},
            {"type": "MX", "name": "@", "content": "mx.bulk.example"},
        ],
        update=[{"id": www["id"], "changes": {"ttl": 5}}],
        delete=["RG5zUmVjb3JkOjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMQ=="],
    )
    assert payload["created"] == [] and payload["zone"] is None
    assert sorted(map(tuple, fields(payload))) == sorted(
        [
            ("input", "create", "1", "content"),
            ("input", "create", "2", "priority"),
            ("input", "update", "0", "ttl"),
            ("input", "delete", "0"),
        ]
    )
    assert sorted(codes(payload)) == ["INVALID_ADDRESS", "INVALID_PRIORITY", "INVALID_TTL", "NOT_FOUND"]
    after = await acme.records(zone["id"])
    assert after == before


async def test_set_rules_see_the_batch_as_a_whole(acme: Tenant, zone: dict[str, Any]) -> None:
    www = await acme.record(zone["id"], type="A", name="www", content="192.0.2.1")
    # A CNAME beside an A record created in the same batch, and a duplicate pair.
    clash = await acme.bulk(
        zone["id"],
        create=[
            {"type": "A", "name": "app", "content": "192.0.2.5"},
            {"type": "CNAME", "name": "app", "content": "elsewhere.example.net"},
            {"type": "TXT", "name": "t", "content": "same"},
            {"type": "TXT", "name": "t", "content": "same"},
        ],
    )
    assert sorted(codes(clash)) == ["CNAME_CONFLICT", "CNAME_CONFLICT", "DUPLICATE_RECORD"]
    assert ["input", "create", "3", "content"] in fields(clash)
    # Deleting the A record and adding a CNAME at its name in one step is fine.
    swap = await acme.bulk(
        zone["id"],
        delete=[www["id"]],
        create=[{"type": "CNAME", "name": "www", "content": "cdn.example.net"}],
    )
    assert swap["userErrors"] == []


async def test_more_than_100_operations_are_refused(acme: Tenant, zone: dict[str, Any]) -> None:
    many = [{"type": "A", "name": f"h{i}", "content": "192.0.2.1"} for i in range(101)]
    payload = await acme.bulk(zone["id"], create=many)
    assert codes(payload) == ["TOO_MANY_OPERATIONS"]


async def test_concurrent_changes_get_strictly_increasing_serials(acme: Tenant, zone: dict[str, Any]) -> None:
    payloads = await asyncio.gather(
        *(
            acme.create_record(zone["id"], type="A", name=f"c{i}", content=f"192.0.2.{i + 1}")
            for i in range(8)
        )
    )
    serials = [int(p["zone"]["soa"]["serial"]) for p in payloads]
    assert all(p["userErrors"] == [] for p in payloads)
    assert len(set(serials)) == 8
    final = int((await acme.records(zone["id"]))["soa"]["serial"])
    assert final == max(serials) == int(zone["soa"]["serial"]) + 8
