"""Sign-in sessions against real PostgreSQL and Redis: the device, address and user agent a login
records, `mySessions` (keyset pages, newest first, statements per read), the `Session` node,
revoking one session or all the others (access ends at once), refresh's last use, and the token
payload's expiresIn and tokenType."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from core.scope import TenantScope
from core.settings import Settings
from models.base import utcnow
from models.events import OutboxEvent
from models.identity.accounts import AuthSession, RefreshToken, User
from server.runtime import Runtime
from services.events import ACCESS_CHANGED
from services.identity.auth import start_session
from services.identity.sessions import MAX_DEVICE_ID_LENGTH, MAX_DEVICE_NAME_LENGTH, Device
from tests.conftest import TEST_SIGNING_KEY
from tests.support.graphql import GraphQLClient, GraphQLResult, count_statements
from tests.support.identity import CLIENT_IP, PASSWORD, Account, global_id, quick_account, service_context
from tests.support.live_server import LiveServer, TransportWsClient, server_env

ALL = TenantScope.all_tenants()
LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) {
    accessToken refreshToken expiresIn tokenType accessTokenExpiresAt
    userErrors { field code message }
  }
}
"""
REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { accessToken expiresIn tokenType userErrors { field code } }
}
"""
REFRESH = """
mutation Refresh($input: RefreshInput) {
  refreshToken(input: $input) {
    accessToken refreshToken refreshTokenExpiresAt expiresIn tokenType
    userErrors { field code message }
  }
}
"""
SESSION_FIELDS = "id createdAt lastUsedAt revokedAt ipAddress userAgent deviceId deviceName isCurrent"
MY_SESSIONS = f"""
query Mine($first: Int, $after: String, $last: Int, $before: String) {{
  mySessions(first: $first, after: $after, last: $last, before: $before) {{
    edges {{ cursor node {{ {SESSION_FIELDS} }} }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
  }}
}}
"""
MY_SESSIONS_COUNTED = "{ mySessions(first: 2) { totalCount nodes { id isCurrent } } }"
NODE = f"query Node($id: ID!) {{ node(id: $id) {{ id ... on Session {{ {SESSION_FIELDS} }} }} }}"
REVOKE = f"""
mutation Revoke($id: ID!) {{
  revokeSession(input: {{id: $id}}) {{ session {{ {SESSION_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
REVOKE_OTHERS = "mutation { revokeOtherSessions { sessionsEnded userErrors { code } } }"
ME = "{ me { email } }"
USER_UPDATED = "subscription { userUpdated { id fullName } }"
UPDATE_ME = "mutation($input: UpdateMeInput!) { updateMe(input: $input) { userErrors { code } } }"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"


async def sign_in_again(
    runtime: Runtime, account: Account, device: Device = Device(), user_agent: str | None = None
) -> Account:
    """Another session of ``account`` (as login opens one once the password is checked)."""
    async with runtime.db.transaction(ALL) as session:
        user = await session.get_one(User, account.user_id)
        ctx = replace(service_context(runtime), user_agent=user_agent)
        signed_in = await start_session(ctx, session, user, device=device)
    return replace(account, token=signed_in.access_token, refresh_token=signed_in.refresh_token)


def session_gid(session_id: uuid.UUID) -> str:
    return global_id("Session", session_id)


async def session_ids(runtime: Runtime, account: Account) -> list[uuid.UUID]:
    """The account's sessions, oldest first."""
    async with runtime.db.session(ALL) as session:
        rows = await session.scalars(
            select(AuthSession.id)
            .where(AuthSession.user_id == account.user_id)
            .order_by(AuthSession.created_at, AuthSession.id)
        )
        return list(rows)


async def my_sessions(gql: GraphQLClient, token: str, **page: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await gql(MY_SESSIONS, page, token=token)).ok()["mySessions"]
    return result


def node_ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


def assert_unauthenticated(result: GraphQLResult) -> None:
    assert (result.status, result.error_codes) == (401, ["UNAUTHENTICATED"]), result.body


# ---- what a sign-in records -----------------------------------------------------------------


async def test_login_records_device_address_and_user_agent(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    variables = {
        "input": {
            "tenantSlug": "acme",
            "email": account.email,
            "password": PASSWORD,
            "deviceId": "  device-7f3a  ",
            "deviceName": "Ada's laptop",
        }
    }
    login = (await gql(LOGIN, variables, headers={"User-Agent": BROWSER})).ok()["login"]
    assert login["userErrors"] == []
    assert (login["expiresIn"], login["tokenType"]) == (runtime.settings.access_token_ttl_seconds, "Bearer")

    mine = await my_sessions(gql, login["accessToken"])
    newest = mine["edges"][0]["node"]
    [_, new_id] = await session_ids(runtime, account)
    assert newest == {
        "id": session_gid(new_id),
        "createdAt": newest["createdAt"],
        "lastUsedAt": newest["createdAt"],  # not refreshed yet: used when issued
        "revokedAt": None,
        "ipAddress": CLIENT_IP,
        "userAgent": BROWSER,
        "deviceId": "device-7f3a",  # blanks around it dropped
        "deviceName": "Ada's laptop",
        "isCurrent": True,
    }
    # The session quick_account opened: no device, no user agent, not the current one.
    older = mine["edges"][1]["node"]
    assert (older["deviceId"], older["deviceName"], older["userAgent"], older["isCurrent"]) == (
        None,
        None,
        None,
        False,
    )
    # Without device fields (or with blank ones) a login records none.
    blank = {"input": {**variables["input"], "deviceId": " ", "deviceName": None}}
    plain = (await gql(LOGIN, blank)).ok()["login"]
    assert (await my_sessions(gql, plain["accessToken"], first=1))["edges"][0]["node"]["deviceId"] is None


async def test_register_records_the_device(runtime: Runtime, gql: GraphQLClient) -> None:
    await quick_account(runtime, "acme")
    new_account = {
        "tenantSlug": "acme",
        "email": "grace@acme.example",
        "fullName": "Grace Hopper",
        "password": PASSWORD,
        "deviceId": "phone-1",
        "deviceName": "Grace's phone",
    }
    registered = (await gql(REGISTER, {"input": new_account})).ok()["register"]
    assert registered["userErrors"] == [] and registered["tokenType"] == "Bearer"
    [node] = [edge["node"] for edge in (await my_sessions(gql, registered["accessToken"]))["edges"]]
    assert (node["deviceId"], node["deviceName"], node["isCurrent"]) == ("phone-1", "Grace's phone", True)


async def test_too_long_device_fields_are_user_errors(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    too_long = {
        "deviceId": "d" * (MAX_DEVICE_ID_LENGTH + 1),
        "deviceName": "n" * (MAX_DEVICE_NAME_LENGTH + 1),
    }
    login = {"tenantSlug": "acme", "email": account.email, "password": PASSWORD, **too_long}
    refused = (await gql(LOGIN, {"input": login})).ok()["login"]
    assert refused["accessToken"] is None
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        (["input", "deviceId"], "TOO_LONG"),
        (["input", "deviceName"], "TOO_LONG"),
    ]
    register = {"tenantSlug": "acme", "email": "new@acme.example", "fullName": "New", "password": PASSWORD}
    refused = (await gql(REGISTER, {"input": {**register, **too_long}})).ok()["register"]
    assert refused["accessToken"] is None
    assert {tuple(e["field"]) for e in refused["userErrors"]} >= {
        ("input", "deviceId"),
        ("input", "deviceName"),
    }
    # At the limit both are fine.
    at_limit = {"deviceId": "d" * MAX_DEVICE_ID_LENGTH, "deviceName": "n" * MAX_DEVICE_NAME_LENGTH}
    assert (await gql(LOGIN, {"input": {**login, **at_limit}})).ok()["login"]["userErrors"] == []
    # Nothing was opened by the refused ones: quick_account's session and the last login.
    assert len(await session_ids(runtime, account)) == 2


# ---- mySessions ------------------------------------------------------------------------------


async def test_my_sessions_lists_open_sessions_newest_first_in_pages(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    account = await quick_account(runtime, "acme")
    for number in range(1, 5):
        account = await sign_in_again(runtime, account, Device(f"device-{number}", f"Device {number}"))
    ids = await session_ids(runtime, account)  # five, oldest first
    # Not listed: a revoked session, one whose refresh token expired, another user's and another
    # tenant's.
    async with runtime.db.transaction(ALL) as session:
        await session.execute(update(AuthSession).where(AuthSession.id == ids[1]).values(revoked_at=utcnow()))
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.session_id == ids[2])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    await quick_account(runtime, "acme")
    await quick_account(runtime, "globex")
    open_newest_first = [session_gid(ids[i]) for i in (4, 3, 0)]

    everything = await my_sessions(gql, account.token)
    assert node_ids(everything) == open_newest_first
    assert [edge["node"]["isCurrent"] for edge in everything["edges"]] == [True, False, False]
    assert [edge["node"]["deviceName"] for edge in everything["edges"]] == ["Device 4", "Device 3", None]

    first = await my_sessions(gql, account.token, first=2)
    assert node_ids(first) == open_newest_first[:2]
    assert (first["pageInfo"]["hasNextPage"], first["pageInfo"]["hasPreviousPage"]) == (True, False)
    rest = await my_sessions(gql, account.token, first=2, after=first["pageInfo"]["endCursor"])
    assert node_ids(rest) == open_newest_first[2:]
    assert (rest["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasPreviousPage"]) == (False, True)
    back = await my_sessions(gql, account.token, last=1, before=rest["pageInfo"]["startCursor"])
    assert node_ids(back) == [open_newest_first[1]]
    assert back["pageInfo"]["hasPreviousPage"] is True

    counted = (await gql(MY_SESSIONS_COUNTED, token=account.token)).ok()["mySessions"]
    assert counted["totalCount"] == 3 and len(counted["nodes"]) == 2

    # Bad page arguments are BAD_USER_INPUT, never a 500.
    for bad in ({"first": 101}, {"first": 1, "last": 1}, {"after": "not-a-cursor"}):
        assert (await gql(MY_SESSIONS, bad, token=account.token)).error_codes == ["BAD_USER_INPUT"], bad


async def test_my_sessions_reads_one_statement_whatever_the_number_of_sessions(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    account = await quick_account(runtime, "acme")
    await gql.warm(account.token)
    costs = []
    for more in (0, 6):
        for _ in range(more):
            await sign_in_again(runtime, account, Device("d", "A device"), user_agent=BROWSER)
        with count_statements(runtime.db.engine) as page_only:
            listed = await my_sessions(gql, account.token)
        with count_statements(runtime.db.engine) as with_total:
            (await gql(MY_SESSIONS_COUNTED, token=account.token)).ok()
        assert len(listed["edges"]) == 1 + more
        costs.append((page_only.count, with_total.count))
        assert all("auth_sessions" in statement for statement in page_only.statements)
    # The page is one statement, its total one more; six more sessions cost nothing more.
    assert costs == [(1, 2), (1, 2)], costs


async def test_anonymous_my_sessions_is_unauthenticated(gql: GraphQLClient) -> None:
    result = await gql(MY_SESSIONS)
    assert result.error_codes == ["UNAUTHENTICATED"] and result.data is None


# ---- the Session node ------------------------------------------------------------------------


async def test_session_node_is_yours_only(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    neighbour = await quick_account(runtime, "acme")
    stranger = await quick_account(runtime, "globex")
    [mine] = await session_ids(runtime, account)

    node = (await gql(NODE, {"id": session_gid(mine)}, token=account.token)).ok()["node"]
    assert (node["id"], node["isCurrent"], node["ipAddress"]) == (session_gid(mine), True, CLIENT_IP)
    # Another user's session, of the tenant or another one, is NOT_FOUND, like one that does not exist.
    for token in (neighbour.token, stranger.token):
        result = await gql(NODE, {"id": session_gid(mine)}, token=token)
        assert result.error_codes == ["NOT_FOUND"] and result.data is None, result.body
    missing = await gql(NODE, {"id": session_gid(uuid.uuid4())}, token=account.token)
    assert missing.error_codes == ["NOT_FOUND"]


# ---- revoking --------------------------------------------------------------------------------


async def test_revoke_session_ends_its_access_at_once(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    phone = await sign_in_again(runtime, account, Device("phone", "Phone"))
    [_, phone_id] = await session_ids(runtime, account)
    # The phone's access is cached by this process now: the revocation must drop it.
    await gql.warm(phone.token)

    revoked = (await gql(REVOKE, {"id": session_gid(phone_id)}, token=account.token)).ok()["revokeSession"]
    assert revoked["userErrors"] == []
    assert (revoked["session"]["id"], revoked["session"]["deviceName"]) == (session_gid(phone_id), "Phone")
    assert revoked["session"]["revokedAt"] is not None and revoked["session"]["isCurrent"] is False
    assert_unauthenticated(await gql(ME, token=phone.token))
    refreshed = (await gql(REFRESH, {"input": {"refreshToken": phone.refresh_token}})).ok()["refreshToken"]
    assert [e["code"] for e in refreshed["userErrors"]] == ["SESSION_REVOKED"]
    # The revoking session goes on, and no longer lists the phone.
    assert node_ids(await my_sessions(gql, account.token)) == [
        session_gid((await session_ids(runtime, account))[0])
    ]
    async with runtime.db.session(ALL) as session:
        row = await session.get_one(AuthSession, phone_id)
        events = list(
            await session.scalars(select(OutboxEvent.payload).where(OutboxEvent.topic == ACCESS_CHANGED))
        )
    assert row.revoke_reason == "revoked"
    assert [event["sessions"] for event in events] == [[str(phone_id)]]

    # Revoking it again says it has ended already.
    again = (await gql(REVOKE, {"id": session_gid(phone_id)}, token=account.token)).ok()["revokeSession"]
    assert again["session"] is None
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [(["input", "id"], "SESSION_REVOKED")]


async def test_revoke_the_current_session(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    [current] = await session_ids(runtime, account)
    revoked = (await gql(REVOKE, {"id": session_gid(current)}, token=account.token)).ok()["revokeSession"]
    assert (revoked["session"]["isCurrent"], revoked["userErrors"]) == (True, [])
    assert_unauthenticated(await gql(ME, token=account.token))


async def test_revoking_what_is_not_yours_or_not_a_session(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    neighbour = await quick_account(runtime, "acme")
    stranger = await quick_account(runtime, "globex")
    [neighbours] = await session_ids(runtime, neighbour)
    [strangers] = await session_ids(runtime, stranger)
    for target in (session_gid(neighbours), session_gid(strangers), session_gid(uuid.uuid4()), account.gid):
        result = await gql(REVOKE, {"id": target}, token=account.token)
        assert result.error_codes == ["NOT_FOUND"] and result.data is None, (target, result.body)
    malformed = await gql(REVOKE, {"id": "not a global id"}, token=account.token)
    assert malformed.status == 200 and malformed.error_codes == ["BAD_USER_INPUT"], malformed.body
    # Nothing was ended.
    await gql(ME, token=neighbour.token)
    for other in (neighbour, stranger):
        (await gql(ME, token=other.token)).ok()
    anonymous = await gql(REVOKE, {"id": session_gid(neighbours)})
    assert anonymous.error_codes == ["UNAUTHENTICATED"]


async def test_revoke_other_sessions_keeps_only_this_one(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    others = [await sign_in_again(runtime, account, Device(f"d{n}")) for n in range(3)]
    neighbour = await quick_account(runtime, "acme")
    for other in others:
        await gql.warm(other.token)
    current = others[1]

    ended = (await gql(REVOKE_OTHERS, token=current.token)).ok()["revokeOtherSessions"]
    assert ended == {"sessionsEnded": 3, "userErrors": []}
    for gone in (account, others[0], others[2]):
        assert_unauthenticated(await gql(ME, token=gone.token))
    [listed] = (await my_sessions(gql, current.token))["edges"]
    assert (listed["node"]["deviceId"], listed["node"]["isCurrent"]) == ("d1", True)
    (await gql(ME, token=neighbour.token)).ok()  # another user's sessions are not touched
    # Nothing left to end.
    assert (await gql(REVOKE_OTHERS, token=current.token)).ok()["revokeOtherSessions"]["sessionsEnded"] == 0


# ---- refresh ---------------------------------------------------------------------------------


async def test_refresh_updates_the_sessions_last_use(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    [session_id] = await session_ids(runtime, account)
    an_hour_ago = utcnow() - timedelta(hours=1)
    async with runtime.db.transaction(ALL) as session:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id)
            .values(created_at=an_hour_ago, last_used_at=an_hour_ago)
        )
    before = utcnow()
    rotated = (await gql(REFRESH, {"input": {"refreshToken": account.refresh_token}})).ok()["refreshToken"]
    assert rotated["userErrors"] == []
    assert (rotated["expiresIn"], rotated["tokenType"]) == (
        runtime.settings.access_token_ttl_seconds,
        "Bearer",
    )
    async with runtime.db.session(ALL) as session:
        row = await session.get_one(AuthSession, session_id)
    assert row.created_at == an_hour_ago  # issued when it was
    assert row.last_used_at >= before  # used now
    node = (await my_sessions(gql, rotated["accessToken"]))["edges"][0]["node"]
    assert node["lastUsedAt"] > node["createdAt"]


# ---- a revoked session's subscriptions end -------------------------------------------------


@pytest.fixture(scope="module")
async def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    live = LiveServer(
        "sessions",
        tmp_path_factory.mktemp("sessions"),
        server_env(settings.database_url, settings.broadcast_url, TEST_SIGNING_KEY),
    )
    live.spawn()
    try:
        await live.wait_healthy()
        yield live
    finally:
        await live.stop_async()


async def over_http(server: LiveServer, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10.0) as client:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


async def test_a_revoked_sessions_subscription_ends(server: LiveServer, runtime: Runtime) -> None:
    laptop = await quick_account(runtime, "acme", full_name="Ada")
    phone = await sign_in_again(runtime, laptop, Device("phone", "Phone"))
    [_, phone_id] = await session_ids(runtime, laptop)

    async with await TransportWsClient.connected(server.ws_url, phone.token) as ws:
        await ws.subscribe(USER_UPDATED, id="phone")
        # The subscription is live: a change reaches it (retried until the server listens).
        for attempt in range(50):
            await over_http(server, UPDATE_ME, {"input": {"fullName": f"Ada {attempt}"}}, laptop.token)
            try:
                data = await ws.next_data("phone", within=0.2)
            except TimeoutError:
                continue
            assert data["userUpdated"]["fullName"].startswith("Ada ")
            break
        else:
            raise AssertionError("the subscription never received an event")
        # Drain what the retries may still deliver, then revoke the phone from the laptop.
        while True:
            try:
                await ws.next_data("phone", within=0.5)
            except TimeoutError:
                break
        revoked = await over_http(server, REVOKE, {"id": session_gid(phone_id)}, laptop.token)
        assert revoked["revokeSession"]["userErrors"] == []

        # Its access event ends the subscription: an UNAUTHENTICATED error, then complete; no data.
        messages = [await ws.receive(10.0)]
        while messages[-1]["type"] == "next":
            assert messages[-1]["payload"].get("data") is None, messages
            messages.append(await ws.receive())
        assert messages[-1]["type"] in ("complete", "error"), messages
        errors = [e for m in messages if m["type"] == "next" for e in m["payload"]["errors"]]
        errors += [e for m in messages if m["type"] == "error" for e in m["payload"]]
        assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"], messages
        # The laptop's session goes on.
        assert (await over_http(server, ME, {}, laptop.token))["me"]["email"] == laptop.email
