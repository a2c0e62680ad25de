"""The security-event feed (tenant readers) and a user's own feeds (`me { recentActivity
securityEvents }`) against real PostgreSQL: what each holds, who may read, tenant isolation,
pagination and a statement count that does not grow with the rows."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from core.permissions import Role
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import Account, Identity

CREATE_CATEGORY = """
mutation($input: CreateCategoryInput!) { createCategory(input: $input) { userErrors { code } } }
"""
SECURITY_EVENTS = """
query($filter: AuditLogFilterInput, $first: Int, $after: String) {
  securityEvents(filter: $filter, first: $first, after: $after) {
    totalCount edges { node { action outcome actorId tenantId } } pageInfo { hasNextPage endCursor }
  }
}
"""
MINE = """
query($first: Int, $after: String) {
  me {
    recentActivity(first: $first, after: $after) {
      edges { node { action outcome actorId } } pageInfo { hasNextPage endCursor }
    }
    securityEvents { edges { node { action outcome actorId targetId } } }
  }
}
"""
USERS_FEEDS = """
{ users(first: 10) { nodes { email recentActivity { edges { node { action } } } } } }
"""


def actions(connection: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["node"]["action"], e["node"]["outcome"]) for e in connection["edges"]]


async def busy_user(gql: GraphQLClient, identity: Identity, slug: str) -> tuple[Account, Account]:
    """A manager who created a category and was refused suspending the tenant admin, then signed
    in again; the admin, who suspended and reactivated the manager in between."""
    manager = await identity.account(slug, Role.MANAGER)
    admin = await identity.account(slug, Role.TENANT_ADMIN)
    assert (await gql(CREATE_CATEGORY, {"input": {"name": f"{slug} c"}}, token=manager.token)).ok()
    refused = await gql(
        "mutation($input: UserIdInput!) { suspendUser(input: $input) { userErrors { code } } }",
        {"input": {"id": admin.gid}},
        token=manager.token,
    )
    assert refused.error_codes == ["FORBIDDEN"]
    for name in ("suspendUser", "reactivateUser"):
        done = await gql(
            f"mutation($input: UserIdInput!) {{ {name}(input: $input) {{ userErrors {{ code }} }} }}",
            {"input": {"id": manager.gid}},
            token=admin.token,
        )
        assert done.ok()[name]["userErrors"] == []
    # The suspension ended the manager's sessions: they sign in again.
    again = (await identity.login(slug, manager.email, manager.password)).ok()["login"]
    return replace(manager, token=again["accessToken"]), admin


async def test_the_tenant_feed_holds_security_events_only(gql: GraphQLClient, identity: Identity) -> None:
    manager, admin = await busy_user(gql, identity, "feeds-a")
    await busy_user(gql, identity, "feeds-b")
    auditor = await identity.account("feeds-a", Role.AUDITOR)

    feed = (await gql(SECURITY_EVENTS, {"first": 100}, token=auditor.token)).ok()["securityEvents"]
    listed = actions(feed)
    assert ("createCategory", "SUCCESS") not in listed  # no security action
    assert ("suspendUser", "FORBIDDEN") in listed  # a refusal
    assert ("suspendUser", "SUCCESS") in listed and ("reactivateUser", "SUCCESS") in listed
    assert listed.count(("login", "SUCCESS")) == 4  # the manager's two, the admin's, the auditor's
    assert {e["node"]["tenantId"] for e in feed["edges"]} == {str(manager.tenant_id)}
    assert feed["totalCount"] == len(listed)

    page = (await gql(SECURITY_EVENTS, {"first": 2}, token=admin.token)).ok()["securityEvents"]
    rest = (
        await gql(SECURITY_EVENTS, {"first": 100, "after": page["pageInfo"]["endCursor"]}, token=admin.token)
    ).ok()["securityEvents"]
    assert actions(page) + actions(rest) == listed and page["pageInfo"]["hasNextPage"]
    only = await gql(SECURITY_EVENTS, {"filter": {"action": "suspendUser"}}, token=admin.token)
    assert actions(only.ok()["securityEvents"]) == [("suspendUser", "SUCCESS"), ("suspendUser", "FORBIDDEN")]

    customer = await identity.account("feeds-a", Role.USER)
    denied = await gql(SECURITY_EVENTS, token=customer.token)
    assert denied.error_codes == ["FORBIDDEN"]
    other = await gql(
        SECURITY_EVENTS, {"filter": {"tenantId": "00000000-0000-0000-0000-000000000001"}}, token=admin.token
    )
    assert other.error_codes == ["FORBIDDEN"]
    assert (await gql(SECURITY_EVENTS)).error_codes == ["UNAUTHENTICATED"]


async def test_my_feeds_hold_what_i_did_and_what_was_done_to_me(
    gql: GraphQLClient, identity: Identity
) -> None:
    manager, admin = await busy_user(gql, identity, "feeds-me")

    mine = (await gql(MINE, {"first": 100}, token=manager.token)).ok()["me"]
    assert actions(mine["recentActivity"]) == [
        ("login", "SUCCESS"),
        ("suspendUser", "FORBIDDEN"),
        ("createCategory", "SUCCESS"),
        ("login", "SUCCESS"),
    ]
    assert {e["node"]["actorId"] for e in mine["recentActivity"]["edges"]} == {str(manager.user_id)}
    security = [(e["node"]["action"], e["node"]["actorId"]) for e in mine["securityEvents"]["edges"]]
    assert security == [
        ("login", str(manager.user_id)),
        ("reactivateUser", str(admin.user_id)),  # done to me
        ("suspendUser", str(admin.user_id)),
        ("suspendUser", str(manager.user_id)),  # refused
        ("login", str(manager.user_id)),
    ]
    page = (await gql(MINE, {"first": 1}, token=manager.token)).ok()["me"]["recentActivity"]
    after = page["pageInfo"]["endCursor"]
    nxt = (await gql(MINE, {"first": 1, "after": after}, token=manager.token)).ok()["me"]["recentActivity"]
    assert actions(page) + actions(nxt) == actions(mine["recentActivity"])[:2]

    # The admin's own feed is theirs; on the users list everyone else's is empty.
    admins = (await gql(MINE, token=admin.token)).ok()["me"]["recentActivity"]
    assert ("suspendUser", "SUCCESS") in actions(admins) and ("createCategory", "SUCCESS") not in actions(
        admins
    )
    users = (await gql(USERS_FEEDS, token=admin.token)).ok()["users"]["nodes"]
    by_email = {u["email"]: [e["node"]["action"] for e in u["recentActivity"]["edges"]] for u in users}
    assert by_email[manager.email] == []
    assert "suspendUser" in by_email[admin.email]


async def test_the_feeds_read_in_a_fixed_number_of_statements(
    gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    manager, admin = await busy_user(gql, identity, "feeds-count")

    async def counted() -> tuple[int, int]:
        await gql.warm(admin.token)
        await gql.warm(manager.token)
        with count_statements(runtime.db.engine) as users:
            assert (await gql(USERS_FEEDS, token=admin.token)).ok()
        with count_statements(runtime.db.engine) as mine:
            assert (await gql(MINE, token=manager.token)).ok()
        return users.count, mine.count

    few = await counted()
    for extra in range(3):
        await gql(CREATE_CATEGORY, {"input": {"name": f"more {extra}"}}, token=manager.token)
        await identity.account("feeds-count", Role.USER)
    assert await counted() == few
