"""Split deployment: `tenantgraph serve --subgraph identity|commerce|operations|support` serves one
domain group as a federation subgraph; composed (by @apollo/composition, tools/federation) the four
give the monolith's API schema, and each real process answers only its own fields and entities."""

from __future__ import annotations

import difflib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import ObjectTypeDefinitionNode, parse

from core.permissions import Role
from core.settings import Settings
from realtime.stream import channel_name
from resolvers.federation import FederationQuery
from server.cli import main
from server.runtime import Runtime
from services.tickets.states import TICKET_CHANGED
from subgraph.build import MUTATIONS, QUERIES, SUBSCRIPTIONS, build_schema
from subgraph.groups import (
    ALL,
    BILLING_JOBS,
    DATA_EXPORTS,
    GROUPS,
    PROVISIONING,
    ROOTS,
    WEB_PUSH,
    WORKER_GROUPS,
    runs_worker,
)
from tests.conftest import TEST_SIGNING_KEY
from tests.federation.harness import Composition, compose
from tests.support.identity import Identity, global_id
from tests.support.live_server import ROOT, LiveServer, TransportWsClient, server_env, wait_listening
from tests.support.split import start_split, stop_split


def compose_files(sources: dict[str, Path]) -> Composition:
    return compose([(name, str(path)) for name, path in sources.items()])


def _diff(expected: str, actual: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(), actual.splitlines(), "monolith", "split", lineterm="", n=2
    )
    return "\n".join(list(lines)[:200])


@pytest.fixture(scope="module")
def sdl_files(settings: Settings, tmp_path_factory: pytest.TempPathFactory, node: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("split-sdl")
    files = {}
    for group in (ALL, *GROUPS):
        files[group] = folder / f"{group}.graphql"
        files[group].write_text(build_schema(settings, group=group).as_str())
    return files


def test_every_root_class_is_in_exactly_one_group_and_one_root() -> None:
    grouped = [cls for classes in ROOTS.values() for cls in classes]
    assert len(grouped) == len(set(grouped))
    merged = [*QUERIES, *MUTATIONS, *SUBSCRIPTIONS]
    assert len(merged) == len(set(merged))
    assert set(merged) == {*grouped, FederationQuery}


def test_every_worker_runs_in_one_group_and_all_in_the_monolith() -> None:
    for worker, group in WORKER_GROUPS.items():
        assert [g for g in GROUPS if runs_worker(g, worker)] == [group]
        assert runs_worker(ALL, worker)


def test_the_split_composes_to_the_monolith(sdl_files: dict[str, Path]) -> None:
    monolith = compose_files({"monolith": sdl_files[ALL]})
    assert (monolith.errors, monolith.hints) == ([], [])
    for group in GROUPS:
        alone = compose_files({group: sdl_files[group]})
        assert alone.errors == [], (group, alone.errors)

    split = compose_files({group: sdl_files[group] for group in GROUPS})
    assert (split.errors, split.hints) == ([], [])
    assert monolith.api_schema is not None and split.api_schema is not None
    assert split.api_schema == monolith.api_schema, _diff(monolith.api_schema, split.api_schema)


def test_each_field_is_served_by_one_subgraph(sdl_files: dict[str, Path]) -> None:
    sdl = {group: sdl_files[group].read_text() for group in GROUPS}
    # The contributed field: User.orders is commerce's, on its own copy of the entity User.
    assert 'type User @key(fields: "id") {' in sdl["commerce"]
    user_in_commerce = sdl["commerce"].split('type User @key(fields: "id") {')[1].split("\n}")[0]
    assert "  orders(" in user_in_commerce and "email" not in user_in_commerce
    user_in_identity = sdl["identity"].split("type User implements Node")[1].split("\n}")[0]
    assert "  email:" in user_in_identity and "  orders(" not in user_in_identity
    # Another group's entity is a key stub; Node is an entity interface of identity only.
    assert 'type User @key(fields: "id", resolvable: false) {' in sdl["support"]
    assert 'interface Node @key(fields: "id") {' in sdl["identity"]
    assert all("interface Node" not in sdl[group] for group in GROUPS if group != "identity")


@pytest.fixture(scope="module")
async def split(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, LiveServer]]:
    env = server_env(settings.database_url, settings.broadcast_url, TEST_SIGNING_KEY)
    log_dir = tmp_path_factory.mktemp("split-logs")
    # `serve --subgraph all` beside them, starting meanwhile.
    monolith = LiveServer("split-all", log_dir, env, extra_args=("--subgraph", ALL))
    monolith.spawn()
    servers_and_all = {ALL: monolith}
    try:
        servers_and_all |= await start_split(log_dir, env)
        await monolith.wait_healthy()
        yield servers_and_all
    finally:
        await stop_split(servers_and_all)


async def _post(
    server: LiveServer, query: str, variables: dict[str, Any] | None = None, token: str = ""
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
    assert response.status_code == 200, response.text
    return response.json()


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


async def test_each_process_serves_its_own_sdl(
    split: dict[str, LiveServer], sdl_files: dict[str, Path]
) -> None:
    for group, server in split.items():
        body = await _post(server, "{ _service { sdl } }")
        assert body["data"]["_service"]["sdl"] == sdl_files[group].read_text(), group
    assert sdl_files[ALL].read_text() == (ROOT / "schema.graphql").read_text().removesuffix("\n")


OWN_FIELDS = {
    "identity": "{ me { email } }",
    "commerce": "{ products(first: 1) { totalCount } }",
    "operations": "{ dnsZones(first: 1) { totalCount } }",
    "support": "{ tickets(first: 1) { totalCount } }",
}


async def test_each_process_answers_its_root_fields_and_refuses_the_others(
    split: dict[str, LiveServer], identity: Identity
) -> None:
    admin = await identity.account("acme", Role.TENANT_ADMIN)
    for group in GROUPS:
        for other, query in OWN_FIELDS.items():
            body = await _post(split[group], query, token=admin.token)
            if other == group:
                assert "errors" not in body, (group, body)
            else:
                assert body.get("data") is None and _codes(body) == ["BAD_USER_INPUT"], (group, other, body)
                assert "Cannot query field" in body["errors"][0]["message"]
    # The monolith answers them all.
    for query in OWN_FIELDS.values():
        assert "errors" not in await _post(split[ALL], query, token=admin.token)
    # Nor does a subgraph answer another group's fields of its types, which its SDL leaves out.
    for group, query, refused in (
        ("identity", "{ me { email orders(first: 1) { totalCount } } }", "orders"),
        ("support", "{ tickets(first: 1) { nodes { requester { email } } } }", "email"),
    ):
        body = await _post(split[group], query, token=admin.token)
        assert body.get("data") is None and _codes(body) == ["BAD_USER_INPUT"], (group, body)
        assert body["errors"][0]["message"] == f"Cannot query field '{refused}' on type 'User'.", body
        assert "errors" not in await _post(split[ALL], query, token=admin.token)


CREATE_PRODUCT = """
mutation($input: CreateProductInput!) {
  createProduct(input: $input) { product { id name } userErrors { code } }
}
"""
ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { __typename ...on User { id email } } }"
COMMERCE_ENTITIES = """
query($r: [_Any!]!) {
  _entities(representations: $r) { ...on Product { name } ...on User { orders { totalCount } } }
}
"""


def _deep(levels: int) -> str:
    """``me { tenant { users { edges { node { tenant ... } } } } }``: 2 + 4 * ``levels`` deep."""
    inner = "tenant { slug }"
    for _ in range(levels):
        inner = f"tenant {{ users(first: 1) {{ edges {{ node {{ {inner} }} }} }} }}"
    return f"{{ me {{ {inner} }} }}"


DEEP = _deep(3)  # deeper than the default limit (12)


async def test_entities_resolve_where_they_are_owned(
    split: dict[str, LiveServer], identity: Identity
) -> None:
    admin = await identity.account("acme", Role.TENANT_ADMIN)
    created = await _post(
        split["commerce"],
        CREATE_PRODUCT,
        {"input": {"sku": "SPLIT-1", "name": "Split lamp", "basePrice": {"amount": 1200, "currency": "EUR"}}},
        token=admin.token,
    )
    product = created["data"]["createProduct"]
    assert product["userErrors"] == [] and product["product"]["name"] == "Split lamp", created
    product_id = product["product"]["id"]
    user = {"__typename": "User", "id": global_id("User", admin.user_id)}

    # identity owns User; commerce resolves its own fields of the Product and its User.orders.
    body = await _post(split["identity"], ENTITIES, {"r": [user]}, token=admin.token)
    assert body["data"]["_entities"] == [{"__typename": "User", "id": admin.gid, "email": admin.email}], body
    body = await _post(
        split["commerce"],
        COMMERCE_ENTITIES,
        {"r": [{"__typename": "Product", "id": product_id}, user]},
        token=admin.token,
    )
    assert body["data"]["_entities"] == [{"name": "Split lamp"}, {"orders": {"totalCount": 0}}], body

    # node(id:) is identity's: it knows every Node type by its key (the gateway asks commerce the rest).
    body = await _post(
        split["identity"],
        "query($id: ID!) { node(id: $id) { __typename id } }",
        {"id": product_id},
        token=admin.token,
    )
    assert body["data"] == {"node": {"__typename": "Product", "id": product_id}}, body
    body = await _post(
        split["commerce"], "query($id: ID!) { node(id: $id) { id } }", {"id": product_id}, token=admin.token
    )
    assert _codes(body) == ["BAD_USER_INPUT"], body

    # An entity of another group: refused, not half-resolved.
    body = await _post(
        split["support"],
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
        {"r": [user]},
        token=admin.token,
    )
    assert body["data"] is None and _codes(body) == ["BAD_USER_INPUT"], body
    assert "Not an entity of the support subgraph: User." in body["errors"][0]["message"]


async def test_the_extensions_run_in_split_mode(split: dict[str, LiveServer], identity: Identity) -> None:
    admin = await identity.account("acme", Role.TENANT_ADMIN)
    # Access directives: anonymous is refused; query limits: too deep is refused.
    assert _codes(await _post(split["support"], OWN_FIELDS["support"])) == ["UNAUTHENTICATED"]
    body = await _post(split["identity"], DEEP, token=admin.token)
    assert _codes(body) == ["BAD_USER_INPUT"] and "depth" in body["errors"][0]["message"].lower(), body


def test_subscriptions_are_per_group(sdl_files: dict[str, Path]) -> None:
    def subscription_fields(group: str) -> set[str]:
        document = parse(sdl_files[group].read_text())
        found = [d for d in document.definitions if isinstance(d, ObjectTypeDefinitionNode)]
        return {f.name.value for d in found if d.name.value == "Subscription" for f in d.fields or ()}

    every = subscription_fields(ALL)
    by_group = {group: subscription_fields(group) for group in GROUPS}
    assert set().union(*by_group.values()) == every
    assert sum(len(fields) for fields in by_group.values()) == len(every)
    assert "orderStatusChanged" in by_group["commerce"] and "ticketUpdated" in by_group["support"]


async def test_each_group_runs_its_own_workers(settings: Settings) -> None:
    def running(runtime: Runtime) -> dict[str, bool]:
        return {
            DATA_EXPORTS: runtime.data_exports.running,
            BILLING_JOBS: runtime.billing_jobs.running,
            PROVISIONING: all(worker.running for worker in runtime.provisioning_workers),
            WEB_PUSH: runtime.push_worker.running,
        }

    for group in (ALL, *GROUPS):
        # The shared settings' provisioning workers never poll, and so never start: these do.
        runtime = Runtime.create(
            settings.model_copy(update={"subgraph": group, "provisioning_poll_seconds": 60})
        )
        await runtime.start()
        try:
            seen = running(runtime)
            assert runtime.dispatcher.running, group
        finally:
            await runtime.stop()
        assert seen == {worker: runs_worker(group, worker) for worker in seen}, group


CREATE_TICKET = """
mutation($input: CreateTicketInput!) { createTicket(input: $input) { ticket { id } userErrors { code } } }
"""
SET_STATUS = """
mutation($input: SetTicketStatusInput!) { setTicketStatus(input: $input) { userErrors { code } } }
"""
UPDATED = "subscription($id: ID!) { ticketUpdated(ticketId: $id) { change status ticket { id } } }"


async def test_subscriptions_run_in_their_group_only(
    split: dict[str, LiveServer], identity: Identity, settings: Settings
) -> None:
    admin = await identity.account("acme", Role.TENANT_ADMIN)
    created = await _post(
        split["support"],
        CREATE_TICKET,
        {"input": {"subject": "Split desk", "description": "Is it split?"}},
        token=admin.token,
    )
    ticket_id = created["data"]["createTicket"]["ticket"]["id"]
    elsewhere = await TransportWsClient.connected(split["identity"].ws_url, admin.token)
    live = await TransportWsClient.connected(split["support"].ws_url, admin.token)
    try:
        await elsewhere.subscribe(UPDATED, {"id": ticket_id})
        refused = await elsewhere.receive()
        assert refused["type"] == "error" and "Cannot query field" in refused["payload"][0]["message"]

        await live.subscribe(UPDATED, {"id": ticket_id})
        await wait_listening(settings.broadcast_url, channel_name(TICKET_CHANGED, admin.tenant_id))
        changed = await _post(
            split["support"], SET_STATUS, {"input": {"id": ticket_id, "status": "PENDING"}}, token=admin.token
        )
        assert changed["data"]["setTicketStatus"]["userErrors"] == [], changed
        update = (await live.next_data("1", 10.0))["ticketUpdated"]
        assert update == {"change": "STATUS", "status": "PENDING", "ticket": {"id": ticket_id}}
    finally:
        await elsewhere.close()
        await live.close()


def test_export_schema_writes_a_groups_sdl(sdl_files: dict[str, Path], tmp_path: Path) -> None:
    output = tmp_path / "commerce.graphql"
    assert main(["export-schema", "--subgraph", "commerce", "--output", str(output)]) == 0
    assert output.read_text() == sdl_files["commerce"].read_text() + "\n"
