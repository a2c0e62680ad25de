"""What a request says about its caller: `Authorization` takes the Bearer scheme only (any other
is UNAUTHENTICATED, never anonymous), `X-Tenant-Id` a tenant's Relay id or UUID (anything else is
BAD_USER_INPUT) — over HTTP, in a websocket's connection_init and on the PDF download."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from core.permissions import Role
from core.settings import Settings
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from tests.conftest import TEST_SIGNING_KEY
from tests.support.graphql import GraphQLClient
from tests.support.identity import Identity, global_id
from tests.support.live_server import LegacyWsClient, LiveServer, TransportWsClient, server_env

UNKNOWN_SCHEME = "This Authorization scheme is not accepted: send Authorization: Bearer <access token>."
BAD_TENANT = "X-Tenant-Id must be a tenant's id: its Relay id (as `tenant { id }` answers) or its UUID."
USERS = "{ users(first: 10) { nodes { email } } }"


def _emails(result_data: dict[str, object]) -> list[str]:
    users = result_data["users"]
    assert isinstance(users, dict)
    return sorted(node["email"] for node in users["nodes"])


def _relay(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


@pytest.mark.parametrize(
    "authorization",
    ["Token abc", "Basic dXNlcjpwYXNzd29yZA==", "Digest username=x", "bearertoken", "JWT eyJ.x.y"],
)
async def test_an_unknown_authorization_scheme_is_unauthenticated(
    gql: GraphQLClient, authorization: str
) -> None:
    result = await gql("{ me { id } }", headers={"Authorization": authorization})
    assert result.status == 401
    assert result.headers["www-authenticate"] == "Bearer"
    assert result.data is None
    assert [(e["message"], e["extensions"]["code"]) for e in result.errors] == [
        (UNKNOWN_SCHEME, "UNAUTHENTICATED")
    ]


async def test_bearer_without_a_token_is_unauthenticated(gql: GraphQLClient) -> None:
    for authorization in ("Bearer", "Bearer   "):
        result = await gql("{ me { id } }", headers={"Authorization": authorization})
        assert result.status == 401, authorization
        assert [e["message"] for e in result.errors] == [
            "Authorization: Bearer needs the access token after it."
        ]


async def test_the_scheme_is_case_insensitive_and_no_header_is_anonymous(
    gql: GraphQLClient, identity: Identity
) -> None:
    account = await identity.account("acme")
    signed_in = await gql("{ me { email } }", headers={"Authorization": f"bearer {account.token}"})
    assert signed_in.ok() == {"me": {"email": account.email}}
    for headers in ({}, {"Authorization": ""}):
        anonymous = await gql('{ tenantBySlug(slug: "acme") { slug } }', headers=headers)
        assert anonymous.ok() == {"tenantBySlug": {"slug": "acme"}}


async def test_x_tenant_id_takes_the_relay_id_or_the_uuid(gql: GraphQLClient, identity: Identity) -> None:
    platform = await identity.account(PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    member = await identity.account("globex", email="member@globex.example")
    await identity.account("acme", email="other@acme.example")
    # The id as the API shows it: `tenant { id }`.
    shown = (await gql("{ me { tenant { id } } }", token=member.token)).ok()["me"]["tenant"]["id"]
    assert shown == member.tenant_gid

    for header in (shown, str(member.tenant_id), f"  {shown} ", str(member.tenant_id).upper()):
        result = await gql(USERS, token=platform.token, headers={"X-Tenant-Id": header})
        assert _emails(result.ok()) == ["member@globex.example"], header


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("globex", id="a-slug"),
        pytest.param("not base64 !", id="garbage"),
        pytest.param("Tenant:{uuid}", id="relay-id-not-encoded"),
        pytest.param("relay:User:{uuid}", id="another-types-relay-id"),
        pytest.param("relay:Tenant:not-a-uuid", id="relay-id-without-a-uuid"),
        pytest.param("{uuid}-0", id="uuid-with-a-tail"),
    ],
)
async def test_any_other_x_tenant_id_is_bad_user_input(
    gql: GraphQLClient, identity: Identity, header: str
) -> None:
    platform = await identity.account(PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    member = await identity.account("globex", Role.TENANT_ADMIN)
    value = header.format(uuid=member.tenant_id)
    if value.startswith("relay:"):
        value = _relay(value.removeprefix("relay:"))
    # For every caller alike, signed in or not, admin or not: the value itself is wrong.
    for token in (platform.token, member.token, None):
        result = await gql(USERS, token=token, headers={"X-Tenant-Id": value})
        assert result.status == 400, (value, result.body)
        assert result.data is None
        assert [(e["message"], e["extensions"]["code"]) for e in result.errors] == [
            (BAD_TENANT, "BAD_USER_INPUT")
        ]


async def test_a_well_formed_x_tenant_id_keeps_its_refusals(gql: GraphQLClient, identity: Identity) -> None:
    platform = await identity.account(PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    admin = await identity.account("acme", Role.TENANT_ADMIN)
    other = await identity.tenant("globex")
    relay_id = global_id("Tenant", other.id)
    cases = [
        (None, relay_id, "X-Tenant-Id is for signed-in platform administrators."),
        (admin.token, relay_id, "Only platform administrators may act in another tenant (X-Tenant-Id)."),
        (platform.token, global_id("Tenant", uuid.uuid4()), "X-Tenant-Id names no tenant."),
    ]
    for token, header, message in cases:
        result = await gql(USERS, token=token, headers={"X-Tenant-Id": header})
        assert result.status == 403, message
        assert [(e["message"], e["extensions"]["code"]) for e in result.errors] == [(message, "FORBIDDEN")]


async def test_the_pdf_download_reads_credentials_alike(http: httpx.AsyncClient, identity: Identity) -> None:
    platform = await identity.account(PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    path = f"/invoices/{uuid.uuid4()}/pdf"
    basic = await http.get(path, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401
    assert basic.headers["www-authenticate"] == "Bearer"
    assert basic.json()["detail"] == UNKNOWN_SCHEME
    bad_tenant = await http.get(
        path, headers={"Authorization": f"Bearer {platform.token}", "X-Tenant-Id": "globex"}
    )
    assert (bad_tenant.status_code, bad_tenant.json()["detail"]) == (400, BAD_TENANT)
    tenant = await identity.tenant("globex")
    missing = await http.get(
        path,
        headers={"Authorization": f"Bearer {platform.token}", "X-Tenant-Id": global_id("Tenant", tenant.id)},
    )
    assert missing.status_code == 404  # read in globex: no such invoice


# ---- websockets: connection_init carries the same credentials ---------------------------------


@pytest.fixture(scope="module")
async def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    live = LiveServer(
        "credentials",
        tmp_path_factory.mktemp("credentials"),
        server_env(settings.database_url, settings.broadcast_url, TEST_SIGNING_KEY),
    )
    live.spawn()
    try:
        await live.wait_healthy()
        yield live
    finally:
        await live.stop_async()


async def test_websocket_connection_init_takes_the_same_credentials(
    server: LiveServer, identity: Identity, tmp_path: Path
) -> None:
    platform = await identity.account(PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    member = await identity.account("globex", email="ws-member@globex.example")
    refusals = [
        ({"Authorization": "Token abc"}, "UNAUTHENTICATED", UNKNOWN_SCHEME),
        (
            {"Authorization": f"Bearer {platform.token}", "X-Tenant-Id": "globex"},
            "BAD_USER_INPUT",
            BAD_TENANT,
        ),
    ]
    for payload, code, message in refusals:
        async with await LegacyWsClient.open(server.ws_url) as legacy:
            answer = await legacy.init(payload)
        assert answer == {"type": "connection_error", "payload": {"code": code, "message": message}}

    # The Relay id of a tenant, as HTTP takes it: the connection acts in that tenant.
    async with await TransportWsClient.open(server.ws_url) as ws:
        acting = {"Authorization": f"Bearer {platform.token}", "X-Tenant-Id": member.tenant_gid}
        assert (await ws.init(acting))["type"] == "connection_ack"
        await ws.send({"id": "1", "type": "subscribe", "payload": {"query": USERS}})
        answer = await ws.receive()
    assert answer["type"] == "next", answer
    assert _emails(answer["payload"]["data"]) == ["ws-member@globex.example"]
