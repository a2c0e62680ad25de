"""GraphiQL in a real browser (Debian's chromium) against a real server process: it loads from our
own assets with no request to another origin, the sign-in panel fills the Authorization header, a
query shows its result and a subscription its event over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit

import httpx

from demo import DEMO_PASSWORD, seed_demo
from server.runtime import Runtime
from tests.browser.graphiql_page import GraphiQLPage
from tests.support.identity import Account, Identity
from tests.support.live_server import LiveServer

ME = "{ me { email fullName tenant { slug } } }"
UPDATE_ME = "mutation($name: String) { updateMe(input: {fullName: $name}) { user { fullName } } }"
SUBSCRIPTION = "subscription { userUpdated { email fullName } }"
EVENT_TIMEOUT = 10.0
DEMO_QUERY = """{
  me { email roles }
  orders(first: 2) {
    nodes {
      number status
      total { amount currency }
    }
  }
}"""


async def call(server: LiveServer, query: str, token: str, variables: dict[str, str] | None = None) -> dict:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
    body: dict = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body


async def signed_in(graphiql: GraphiQLPage, account: Account) -> str:
    """Signs ``account`` in with the panel; the token the headers editor now carries."""
    status = await graphiql.sign_in(account.tenant_slug, account.email, account.password)
    assert status.startswith(f"Signed in as {account.email} ({account.tenant_slug}; USER)"), status
    authorization = (await graphiql.headers())["Authorization"]
    assert authorization.startswith("Bearer "), authorization
    return str(authorization.removeprefix("Bearer "))


async def test_graphiql_loads_with_no_request_to_another_origin(graphiql: GraphiQLPage) -> None:
    assert graphiql.requests, "the page made no request at all"
    assert graphiql.foreign_requests() == []
    # GraphiQL's bundle, its style and Monaco's GraphQL worker all came from us (the worker starts
    # a moment after the editor shows, later on a busy machine).
    wanted = {"/graphiql/graphiql", "/graphiql/graphql.worker"}
    deadline = time.monotonic() + 20
    while not wanted <= (paths := {urlsplit(url).path.rsplit("-", 1)[0] for url in graphiql.requests}):
        assert time.monotonic() < deadline, paths
        await asyncio.sleep(0.2)
    assert graphiql.foreign_requests() == []
    assert await graphiql.csp_violations() == []
    assert graphiql.problems == []
    # The schema arrived: the explorer lists the root fields.
    await graphiql.page.get_by_role("button", name="Show GraphiQL Explorer").click()
    explorer = graphiql.page.locator(".graphiql-explorer-root")
    await explorer.get_by_text("products", exact=True).first.wait_for()


async def test_sign_in_puts_a_working_token_into_the_headers(
    graphiql: GraphiQLPage, identity: Identity, server: LiveServer
) -> None:
    account = await identity.account("sign-in")
    refused = await graphiql.sign_in(account.tenant_slug, account.email, "not-the-password")
    assert "INVALID_CREDENTIALS" in refused, refused
    assert "Authorization" not in json.loads(await graphiql.editor_text("request-headers.json") or "{}")

    token = await signed_in(graphiql, account)
    assert token != account.token  # a session of its own
    me = await call(server, "{ me { email } }", token)
    assert me["data"] == {"me": {"email": account.email}}


async def test_a_query_shows_its_result(graphiql: GraphiQLPage, identity: Identity) -> None:
    account = await identity.account("query", full_name="Grace Hopper")
    await signed_in(graphiql, account)
    await graphiql.run(ME)
    response = await graphiql.response_containing("Grace Hopper")
    assert response["data"] == {
        "me": {"email": account.email, "fullName": "Grace Hopper", "tenant": {"slug": "query"}}
    }
    assert graphiql.foreign_requests() == []


async def test_a_subscription_shows_its_event(
    graphiql: GraphiQLPage, identity: Identity, server: LiveServer
) -> None:
    account = await identity.account("live", full_name="Before")
    token = await signed_in(graphiql, account)
    await graphiql.run(SUBSCRIPTION)
    deadline = time.monotonic() + EVENT_TIMEOUT
    while len(graphiql.sent) < 2:
        assert time.monotonic() < deadline, graphiql.sent
        await asyncio.sleep(0.05)
    assert [socket.url for socket in graphiql.websockets] == [server.ws_url]
    init, subscribe = graphiql.sent[:2]
    # graphql-transport-ws (the legacy protocol would send "start"), signed in by the headers.
    assert init == {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    assert subscribe["type"] == "subscribe" and subscribe["payload"]["query"] == SUBSCRIPTION

    # The server may take a moment to listen after the subscribe message: change the name until
    # an event shows (each change is an event of its own).
    changes = 0
    while not await graphiql.page.locator(".graphiql-response").filter(has_text="Ada ").count():
        assert time.monotonic() < deadline, f"no event shown after {changes} changes"
        changes += 1
        await call(server, UPDATE_ME, account.token, {"name": f"Ada {changes}"})
        await asyncio.sleep(0.3)
    response = await graphiql.response_containing("Ada ")
    event = response["data"]["userUpdated"]
    assert event["email"] == account.email
    assert event["fullName"] in {f"Ada {n}" for n in range(1, changes + 1)}
    assert graphiql.foreign_requests() == []


async def test_the_panel_signs_in_the_demo_account_as_it_is(graphiql: GraphiQLPage, runtime: Runtime) -> None:
    """The panel's defaults are a seeded demo account; this is the README's screenshot."""
    await seed_demo(runtime.db)
    form = graphiql.page.get_by_role("form", name="Sign in")
    assert await form.get_by_label("Password").input_value() == DEMO_PASSWORD
    status = await graphiql.sign_in(None, None, None)
    assert status.startswith("Signed in as user@acme.example (acme; USER)"), status
    await graphiql.run(DEMO_QUERY)
    response = await graphiql.response_containing("PAID")
    assert response["data"]["me"] == {"email": "user@acme.example", "roles": ["USER"]}
    assert len(response["data"]["orders"]["nodes"]) == 2
    await graphiql.screenshot("graphiql")
