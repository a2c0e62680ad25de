"""User administration against real PostgreSQL: the users connection (filters, order, keyset
cursors), reading and changing users, status and roles, who may do it, and tenant isolation."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from core.permissions import Role
from models.identity.accounts import UserStatus
from server.runtime import Runtime
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from tests.support.graphql import GraphQLClient, GraphQLResult
from tests.support.identity import Identity, global_id, quick_account

USERS = """
query Users($filter: UserFilterInput, $orderBy: UserOrderInput, $first: Int, $after: String,
            $last: Int, $before: String) {
  users(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { id email fullName status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

USER = (
    "query User($id: ID!) { user(id: $id) { id email fullName status emailVerified roles tenant { slug } } }"
)
NODE = "query Node($id: ID!) { node(id: $id) { id ... on User { email } } }"
ME = "{ me { email } }"

USER_PAYLOAD = "user { id email fullName status emailVerified roles } userErrors { field code message }"
UPDATE_USER = f"mutation($input: UpdateUserInput!) {{ updateUser(input: $input) {{ {USER_PAYLOAD} }} }}"
SUSPEND_USER = f"mutation($input: UserIdInput!) {{ suspendUser(input: $input) {{ {USER_PAYLOAD} }} }}"
REACTIVATE_USER = f"mutation($input: UserIdInput!) {{ reactivateUser(input: $input) {{ {USER_PAYLOAD} }} }}"
ASSIGN_ROLES = f"mutation($input: UserRolesInput!) {{ assignRoles(input: $input) {{ {USER_PAYLOAD} }} }}"
REMOVE_ROLES = f"mutation($input: UserRolesInput!) {{ removeRoles(input: $input) {{ {USER_PAYLOAD} }} }}"
CREATE_TENANT = """
mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { slug } userErrors { code } } }
"""


async def list_users(
    gql: GraphQLClient, token: str, headers: dict[str, str] | None = None, **args: Any
) -> Any:
    return (await gql(USERS, args, token=token, headers=headers)).ok()["users"]


def emails(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["email"] for edge in connection["edges"]]


def assert_error(result: GraphQLResult, code: str) -> None:
    assert result.data is None, result.body
    assert result.error_codes == [code], result.body


# ---- the users connection -------------------------------------------------------------------


async def test_users_filters(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(
        runtime, "acme", Role.TENANT_ADMIN, email="admin@acme.example", full_name="Ada Admin"
    )
    await quick_account(runtime, "acme", Role.MANAGER, email="mia@acme.example", full_name="Mia Manager")
    await quick_account(
        runtime, "acme", Role.MANAGER, Role.AUDITOR, email="oli@acme.example", full_name="Oli"
    )
    await quick_account(
        runtime, "acme", email="sus@acme.example", full_name="Sam", status=UserStatus.SUSPENDED
    )
    await quick_account(runtime, "acme", email="zoe@acme.example", full_name="Zoe 100%_Done")
    # Another tenant's users match every filter below too, and must never show.
    await quick_account(runtime, "globex", Role.MANAGER, email="mia@globex.example", full_name="Mia Manager")
    await quick_account(runtime, "globex", email="sus@globex.example", status=UserStatus.SUSPENDED)

    everyone = await list_users(gql, admin.token)
    assert sorted(emails(everyone)) == [
        "admin@acme.example",
        "mia@acme.example",
        "oli@acme.example",
        "sus@acme.example",
        "zoe@acme.example",
    ]
    assert everyone["totalCount"] == 5

    suspended = await list_users(gql, admin.token, filter={"status": "SUSPENDED"})
    assert emails(suspended) == ["sus@acme.example"] and suspended["totalCount"] == 1
    assert suspended["edges"][0]["node"]["status"] == "SUSPENDED"

    active = await list_users(gql, admin.token, filter={"status": "ACTIVE"})
    assert active["totalCount"] == 4 and "sus@acme.example" not in emails(active)

    managers = await list_users(gql, admin.token, filter={"role": "MANAGER"})
    assert (
        sorted(emails(managers)) == ["mia@acme.example", "oli@acme.example"] and managers["totalCount"] == 2
    )

    # Search matches the email or the name, case-insensitively.
    by_name = await list_users(gql, admin.token, filter={"search": "MANAGER"})
    assert emails(by_name) == ["mia@acme.example"] and by_name["totalCount"] == 1
    by_email = await list_users(gql, admin.token, filter={"search": "Oli@"})
    assert emails(by_email) == ["oli@acme.example"]
    # LIKE wildcards in the search text are taken literally.
    literal = await list_users(gql, admin.token, filter={"search": "100%_"})
    assert emails(literal) == ["zoe@acme.example"]
    assert (await list_users(gql, admin.token, filter={"search": "%"}))["totalCount"] == 1

    combined = await list_users(
        gql, admin.token, filter={"status": "ACTIVE", "role": "AUDITOR", "search": "oli"}
    )
    assert emails(combined) == ["oli@acme.example"] and combined["totalCount"] == 1
    nothing = await list_users(gql, admin.token, filter={"status": "SUSPENDED", "role": "MANAGER"})
    assert nothing == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
    }


async def test_users_order(runtime: Runtime, gql: GraphQLClient) -> None:
    # Created in an order that is neither the email nor the name order.
    people = [("carol", "Bruno"), ("alice", "Dora"), ("erin", "Anna"), ("bob", "Emil"), ("dave", "Clara")]
    admin = await quick_account(
        runtime, "acme", Role.TENANT_ADMIN, email="admin@acme.example", full_name="Zack"
    )
    for local, name in people:
        await quick_account(runtime, "acme", email=f"{local}@acme.example", full_name=name)
    created = ["admin", *(local for local, _ in people)]
    by_name = ["erin", "carol", "dave", "alice", "bob", "admin"]  # Anna, Bruno, Clara, Dora, Emil, Zack

    expected = {
        "CREATED_AT": created,
        "EMAIL": sorted(created),
        "NAME": by_name,
    }
    for field, ascending in expected.items():
        for direction in ("ASC", "DESC"):
            page = await list_users(gql, admin.token, orderBy={"field": field, "direction": direction})
            locals_ = [email.split("@")[0] for email in emails(page)]
            want = ascending if direction == "ASC" else list(reversed(ascending))
            assert locals_ == want, (field, direction)
    # The default order is the creation order.
    assert [e.split("@")[0] for e in emails(await list_users(gql, admin.token))] == created


async def _walk_forward(gql: GraphQLClient, token: str, order: dict[str, str]) -> list[list[str]]:
    pages: list[list[str]] = []
    after = None
    while True:
        page = await list_users(gql, token, orderBy=order, first=3, after=after)
        assert page["totalCount"] == 7
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        pages.append(emails(page))
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        after = page["pageInfo"]["endCursor"]
        assert len(pages) < 10, "pagination does not end"


async def _walk_backward(gql: GraphQLClient, token: str, order: dict[str, str]) -> list[list[str]]:
    pages: list[list[str]] = []
    before = None
    while True:
        page = await list_users(gql, token, orderBy=order, last=3, before=before)
        assert page["totalCount"] == 7
        assert page["pageInfo"]["hasNextPage"] is (before is not None)
        pages.insert(0, emails(page))
        if not page["pageInfo"]["hasPreviousPage"]:
            return pages
        before = page["pageInfo"]["startCursor"]
        assert len(pages) < 10, "pagination does not end"


async def test_users_keyset_pagination(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN, full_name="Same Name")
    # Ties on the sort value (three share a name) must still page without duplicates or gaps.
    for number in range(6):
        await quick_account(runtime, "acme", full_name="Same Name" if number < 2 else f"Person {number}")
    await quick_account(runtime, "globex")  # never counted

    for order in ({"field": "CREATED_AT", "direction": "ASC"}, {"field": "NAME", "direction": "DESC"}):
        everything = emails(await list_users(gql, admin.token, orderBy=order, first=100))
        assert len(everything) == len(set(everything)) == 7

        forward = await _walk_forward(gql, admin.token, order)
        assert [len(page) for page in forward] == [3, 3, 1]
        assert [email for page in forward for email in page] == everything, order

        backward = await _walk_backward(gql, admin.token, order)
        assert [len(page) for page in backward] == [1, 3, 3]
        assert [email for page in backward for email in page] == everything, order

    # A window between two cursors.
    full = await list_users(gql, admin.token, first=7)
    cursors = [edge["cursor"] for edge in full["edges"]]
    window = await list_users(gql, admin.token, after=cursors[1], before=cursors[5])
    assert emails(window) == emails(full)[2:5]


async def test_users_page_size_and_cursor_checks(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN, email="admin@acme.example")
    await quick_account(runtime, "acme", email="zed@acme.example")

    assert emails(await list_users(gql, admin.token, first=100)) == ["admin@acme.example", "zed@acme.example"]
    assert (await list_users(gql, admin.token, first=0))["edges"] == []

    too_many = await gql(USERS, {"first": 101}, token=admin.token)
    assert_error(too_many, "BAD_USER_INPUT")
    assert "between 0 and 100" in too_many.errors[0]["message"]
    assert_error(await gql(USERS, {"last": 101}, token=admin.token), "BAD_USER_INPUT")
    assert_error(await gql(USERS, {"first": -1}, token=admin.token), "BAD_USER_INPUT")
    assert_error(await gql(USERS, {"first": 1, "last": 1}, token=admin.token), "BAD_USER_INPUT")

    def encoded(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()

    email_cursor = (await list_users(gql, admin.token, orderBy={"field": "EMAIL"}, first=1))["edges"][0][
        "cursor"
    ]
    for bad in ("not-a-cursor!!", "", encoded({"not": "a cursor"}), encoded(["a"]), encoded(["a", "b"])):
        result = await gql(USERS, {"after": bad, "first": 1}, token=admin.token)
        if bad == "":
            # An empty cursor is no cursor: the first page.
            assert emails(result.ok()["users"]) == ["admin@acme.example"]
            continue
        assert_error(result, "BAD_USER_INPUT")
        assert result.errors[0]["message"] == "The cursor is not valid."
    # A cursor of one order used with another is not valid either (and not a database error).
    mismatched = await gql(
        USERS, {"after": email_cursor, "orderBy": {"field": "CREATED_AT"}}, token=admin.token
    )
    assert_error(mismatched, "BAD_USER_INPUT")
    assert_error(
        await gql(USERS, {"before": email_cursor, "orderBy": {"field": "CREATED_AT"}}, token=admin.token),
        "BAD_USER_INPUT",
    )


# ---- reading and changing one user ----------------------------------------------------------


async def test_user_by_global_id(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    auditor = await quick_account(runtime, "acme", Role.AUDITOR)
    user = await quick_account(
        runtime, "acme", Role.SUPPORT_AGENT, Role.MANAGER, email="kim@acme.example", full_name="Kim"
    )
    expected = {
        "id": user.gid,
        "email": "kim@acme.example",
        "fullName": "Kim",
        "status": "ACTIVE",
        "emailVerified": False,
        "roles": ["MANAGER", "SUPPORT_AGENT"],
        "tenant": {"slug": "acme"},
    }
    assert (await gql(USER, {"id": user.gid}, token=admin.token)).ok()["user"] == expected
    # Reading other users is the admin's (seed 004): an auditor sees only themself.
    assert_error(await gql(USER, {"id": user.gid}, token=auditor.token), "FORBIDDEN")
    node = (await gql(NODE, {"id": user.gid}, token=admin.token)).ok()["node"]
    assert node == {"id": user.gid, "email": "kim@acme.example"}


async def test_update_user(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN, email="admin@acme.example")
    user = await quick_account(runtime, "acme", email="kim@acme.example", full_name="Kim")

    changes = {
        "id": user.gid,
        "fullName": " Kim Lee ",
        "email": "KIM.LEE@acme.example",
        "emailVerified": True,
    }
    updated = (await gql(UPDATE_USER, {"input": changes}, token=admin.token)).ok()["updateUser"]
    assert updated == {
        "user": {
            "id": user.gid,
            "email": "kim.lee@acme.example",
            "fullName": "Kim Lee",
            "status": "ACTIVE",
            "emailVerified": True,
            "roles": ["USER"],
        },
        "userErrors": [],
    }
    assert (await gql(USER, {"id": user.gid}, token=admin.token)).ok()["user"][
        "email"
    ] == "kim.lee@acme.example"

    clash = {"id": user.gid, "email": "Admin@acme.example", "fullName": "Not Applied"}
    conflict = (await gql(UPDATE_USER, {"input": clash}, token=admin.token)).ok()["updateUser"]
    assert conflict["user"] is None
    assert [(e["field"], e["code"]) for e in conflict["userErrors"]] == [(["input", "email"], "CONFLICT")]

    invalid = {"id": user.gid, "email": "nope", "fullName": ""}
    rejected = (await gql(UPDATE_USER, {"input": invalid}, token=admin.token)).ok()["updateUser"]
    assert sorted((tuple(e["field"]), e["code"]) for e in rejected["userErrors"]) == [
        (("input", "email"), "INVALID_EMAIL"),
        (("input", "fullName"), "REQUIRED"),
    ]
    # Nothing of the refused changes was written.
    current = (await gql(USER, {"id": user.gid}, token=admin.token)).ok()["user"]
    assert (current["email"], current["fullName"]) == ("kim.lee@acme.example", "Kim Lee")


async def test_suspend_and_reactivate_user(identity: Identity, runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme")
    assert (await gql(ME, token=user.token)).ok()["me"] == {"email": user.email}

    suspended = (await gql(SUSPEND_USER, {"input": {"id": user.gid}}, token=admin.token)).ok()["suspendUser"]
    assert suspended["userErrors"] == [] and suspended["user"]["status"] == "SUSPENDED"
    result = await gql(ME, token=user.token)
    assert result.status == 401 and result.error_codes == ["UNAUTHENTICATED"]
    listed = await list_users(gql, admin.token, filter={"status": "SUSPENDED"})
    assert emails(listed) == [user.email]

    reactivated = (await gql(REACTIVATE_USER, {"input": {"id": user.gid}}, token=admin.token)).ok()
    assert reactivated["reactivateUser"]["user"]["status"] == "ACTIVE"
    # The old session stays ended; signing in again works.
    assert (await gql(ME, token=user.token)).status == 401
    login = (await identity.login("acme", user.email, user.password)).ok()["login"]
    assert login["userErrors"] == []
    assert (await gql(ME, token=login["accessToken"])).ok()["me"] == {"email": user.email}

    self_suspend = (await gql(SUSPEND_USER, {"input": {"id": admin.gid}}, token=admin.token)).ok()[
        "suspendUser"
    ]
    assert [(e["field"], e["code"]) for e in self_suspend["userErrors"]] == [
        (["input", "id"], "CANNOT_SUSPEND_SELF")
    ]
    assert (await gql(ME, token=admin.token)).ok()["me"] == {"email": admin.email}


async def test_assign_and_remove_roles(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme")
    assert_error(await gql(USERS, token=user.token), "FORBIDDEN")

    assigned = await gql(
        ASSIGN_ROLES,
        {"input": {"id": user.gid, "roles": ["TENANT_ADMIN", "AUDITOR", "USER"]}},
        token=admin.token,
    )
    assert assigned.ok()["assignRoles"]["user"]["roles"] == ["AUDITOR", "TENANT_ADMIN", "USER"]
    assert (await gql(USER, {"id": user.gid}, token=admin.token)).ok()["user"]["roles"] == [
        "AUDITOR",
        "TENANT_ADMIN",
        "USER",
    ]
    # Roles take effect at once, not when the (older) access token expires.
    assert (await list_users(gql, user.token))["totalCount"] == 2

    removed = await gql(
        REMOVE_ROLES, {"input": {"id": user.gid, "roles": ["TENANT_ADMIN", "AUDITOR"]}}, token=admin.token
    )
    assert removed.ok()["removeRoles"]["user"]["roles"] == ["USER"]
    assert_error(await gql(USERS, token=user.token), "FORBIDDEN")

    platform = await gql(
        ASSIGN_ROLES, {"input": {"id": user.gid, "roles": ["PLATFORM_ADMIN"]}}, token=admin.token
    )
    assert_error(platform, "FORBIDDEN")
    assert (await gql(USER, {"id": user.gid}, token=admin.token)).ok()["user"]["roles"] == ["USER"]

    demote = await gql(
        REMOVE_ROLES, {"input": {"id": admin.gid, "roles": ["TENANT_ADMIN"]}}, token=admin.token
    )
    payload = demote.ok()["removeRoles"]
    assert payload["user"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "roles"], "CANNOT_DEMOTE_SELF")
    ]
    assert (await gql(USER, {"id": admin.gid}, token=admin.token)).ok()["user"]["roles"] == ["TENANT_ADMIN"]


async def test_plain_users_and_anonymous_callers_are_refused(runtime: Runtime, gql: GraphQLClient) -> None:
    user = await quick_account(runtime, "acme")
    other = await quick_account(runtime, "acme", full_name="Untouched")

    assert_error(await gql(USERS, token=user.token), "FORBIDDEN")
    assert_error(await gql(USER, {"id": other.gid}, token=user.token), "FORBIDDEN")
    update = await gql(UPDATE_USER, {"input": {"id": other.gid, "fullName": "Hacked"}}, token=user.token)
    assert_error(update, "FORBIDDEN")
    assert_error(await gql(SUSPEND_USER, {"input": {"id": other.gid}}, token=user.token), "FORBIDDEN")
    assert_error(
        await gql(ASSIGN_ROLES, {"input": {"id": user.gid, "roles": ["TENANT_ADMIN"]}}, token=user.token),
        "FORBIDDEN",
    )
    tenant = {"slug": "evil", "name": "Evil", "adminEmail": "e@evil.example", "adminFullName": "E"}
    assert_error(await gql(CREATE_TENANT, {"input": tenant}, token=user.token), "FORBIDDEN")
    # Through node() a user reaches itself only; others look like nothing.
    assert (await gql(NODE, {"id": user.gid}, token=user.token)).ok()["node"]["email"] == user.email
    assert_error(await gql(NODE, {"id": other.gid}, token=user.token), "NOT_FOUND")

    assert_error(await gql(ME), "UNAUTHENTICATED")
    assert_error(await gql(USERS), "UNAUTHENTICATED")
    assert_error(
        await gql(UPDATE_USER, {"input": {"id": other.gid, "fullName": "Hacked"}}), "UNAUTHENTICATED"
    )

    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    assert (await gql(USER, {"id": other.gid}, token=admin.token)).ok()["user"]["fullName"] == "Untouched"


# ---- tenant isolation -----------------------------------------------------------------------


async def test_other_tenants_users_look_like_missing_users(runtime: Runtime, gql: GraphQLClient) -> None:
    admin_a = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user_b = await quick_account(runtime, "globex", full_name="Globex Person")
    missing = global_id("User", uuid.uuid4())

    for query in (USER, NODE):
        foreign = await gql(query, {"id": user_b.gid}, token=admin_a.token)
        absent = await gql(query, {"id": missing}, token=admin_a.token)
        assert_error(foreign, "NOT_FOUND")
        assert foreign.status == absent.status
        assert foreign.body == absent.body  # same message, code, path: nothing tells them apart
    assert foreign.errors[0]["message"] == "User not found."

    nodes = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    assert_error(await gql(nodes, {"ids": [admin_a.gid, user_b.gid]}, token=admin_a.token), "NOT_FOUND")

    # Writes do not reach across either, and leave the other tenant's user untouched.
    for mutation, variables in (
        (UPDATE_USER, {"input": {"id": user_b.gid, "fullName": "Hacked"}}),
        (SUSPEND_USER, {"input": {"id": user_b.gid}}),
        (ASSIGN_ROLES, {"input": {"id": user_b.gid, "roles": ["TENANT_ADMIN"]}}),
    ):
        foreign = await gql(mutation, variables, token=admin_a.token)
        absent = await gql(mutation, {"input": {**variables["input"], "id": missing}}, token=admin_a.token)
        assert_error(foreign, "NOT_FOUND")
        assert foreign.body == absent.body
    me_b = (await gql("{ me { fullName status roles } }", token=user_b.token)).ok()["me"]
    assert me_b == {"fullName": "Globex Person", "status": "ACTIVE", "roles": ["USER"]}


async def test_users_never_lists_other_tenants(runtime: Runtime, gql: GraphQLClient) -> None:
    admin_a = await quick_account(runtime, "acme", Role.TENANT_ADMIN, email="admin@acme.example")
    await quick_account(runtime, "acme", email="shared-name@acme.example")
    for number in range(3):
        await quick_account(runtime, "globex", Role.MANAGER, email=f"shared-name{number}@globex.example")

    listed = await list_users(gql, admin_a.token, first=100)
    assert sorted(emails(listed)) == ["admin@acme.example", "shared-name@acme.example"]
    assert listed["totalCount"] == 2
    searched = await list_users(gql, admin_a.token, filter={"search": "globex"})
    assert searched["totalCount"] == 0 and searched["edges"] == []
    managers = await list_users(gql, admin_a.token, filter={"role": "MANAGER"})
    assert managers["totalCount"] == 0


async def test_tenant_header_is_for_platform_admins_only(runtime: Runtime, gql: GraphQLClient) -> None:
    admin_a = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user_b = await quick_account(runtime, "globex")
    header = {"X-Tenant-Id": str(user_b.tenant_id)}

    for token in (admin_a.token, None):
        refused = await gql(USERS, token=token, headers=header)
        assert refused.status == 403, refused.body
        assert refused.data is None and refused.error_codes == ["FORBIDDEN"]
    assert (await gql(ME, token=admin_a.token, headers=header)).status == 403


async def test_platform_admin_acts_in_another_tenant(runtime: Runtime, gql: GraphQLClient) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    await quick_account(runtime, "acme", email="a@acme.example")
    b1 = await quick_account(runtime, "globex", Role.TENANT_ADMIN, email="b1@globex.example")
    b2 = await quick_account(runtime, "globex", email="b2@globex.example", full_name="Bea Two")
    header = {"X-Tenant-Id": str(b1.tenant_id)}

    listed = await list_users(gql, platform.token, headers=header, first=100)
    assert sorted(emails(listed)) == ["b1@globex.example", "b2@globex.example"]
    assert listed["totalCount"] == 2
    # Without the header a platform admin sees every tenant.
    assert (await list_users(gql, platform.token))["totalCount"] == 4

    suspended = await gql(SUSPEND_USER, {"input": {"id": b2.gid}}, token=platform.token, headers=header)
    assert suspended.ok()["suspendUser"]["user"] == {
        "id": b2.gid,
        "email": "b2@globex.example",
        "fullName": "Bea Two",
        "status": "SUSPENDED",
        "emailVerified": False,
        "roles": ["USER"],
    }
    assert (await gql(ME, token=b2.token)).error_codes == ["UNAUTHENTICATED"]
    seen_by_b_admin = (await gql(USER, {"id": b2.gid}, token=b1.token)).ok()["user"]
    assert seen_by_b_admin["status"] == "SUSPENDED"

    # The header names a tenant that exists.
    unknown = await gql(USERS, token=platform.token, headers={"X-Tenant-Id": str(uuid.uuid4())})
    assert unknown.status == 403 and unknown.error_codes == ["FORBIDDEN"]


async def test_me_of_a_platform_admin_acting_in_another_tenant(runtime: Runtime, gql: GraphQLClient) -> None:
    platform = await quick_account(
        runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN, email="p@platform.example"
    )
    globex_admin = await quick_account(runtime, "globex", Role.TENANT_ADMIN, email="g@globex.example")
    header = {"X-Tenant-Id": str(globex_admin.tenant_id)}
    both = await gql(
        "{ me { email roles tenant { slug } } users { nodes { email tenant { slug } } } }",
        token=platform.token,
        headers=header,
    )
    data = both.ok()
    # `me` stays the admin's own account in the platform tenant ...
    assert data["me"] == {
        "email": "p@platform.example",
        "roles": ["PLATFORM_ADMIN"],
        "tenant": {"slug": "platform"},
    }
    # ... while everything else in the same request acts inside the named tenant.
    assert data["users"]["nodes"] == [{"email": "g@globex.example", "tenant": {"slug": "globex"}}]
