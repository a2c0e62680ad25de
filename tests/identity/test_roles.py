"""Custom roles against real PostgreSQL: tenant admins create, list (system and custom, paginated
in a constant number of statements), change, delete and assign roles by id or name; system roles
are read-only; every bad input is a userError with an IdentityErrorCode, never a 500."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from core.permissions import SYSTEM_ROLE_PERMISSIONS, Role
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import Account, global_id, quick_account

ROLE_FIELDS = "id name description permissions system"
CREATE = f"""
mutation($input: CreateRoleInput!) {{
  createRole(input: $input) {{ role {{ {ROLE_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
UPDATE = f"""
mutation($input: UpdateRoleInput!) {{
  updateRole(input: $input) {{ role {{ {ROLE_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
DELETE = """
mutation($input: RoleRefInput!) {
  deleteRole(input: $input) { deletedRoleId userErrors { field code message } }
}
"""
ASSIGN = f"""
mutation($input: UserRoleInput!) {{
  assignRole(input: $input) {{ roles {{ {ROLE_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
REMOVE = f"""
mutation($input: UserRoleInput!) {{
  removeRole(input: $input) {{ roles {{ {ROLE_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
CUSTOM_ROLES = f"""
query($first: Int, $after: String) {{
  customRoles(first: $first, after: $after) {{
    totalCount edges {{ node {{ {ROLE_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""
SYSTEM_ROLES = f"{{ systemRoles {{ {ROLE_FIELDS} }} }}"
USER_ROLES = f"query($id: ID!) {{ userRoles(userId: $id) {{ {ROLE_FIELDS} }} }}"


async def create(gql: GraphQLClient, admin: Account, name: str, *permissions: str) -> dict[str, Any]:
    variables = {"input": {"name": name, "description": f"{name} role", "permissions": list(permissions)}}
    payload: dict[str, Any] = (await gql(CREATE, variables, token=admin.token)).ok()["createRole"]
    return payload


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def test_create_list_update_delete_a_custom_role(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    created = await create(gql, admin, "Order viewer", "orders:read", "invoices:read", "orders:read")
    assert created["userErrors"] == []
    role = created["role"]
    assert role["name"] == "Order viewer" and role["system"] is False
    assert role["permissions"] == ["invoices:read", "orders:read"]  # sorted, once each

    listed = (await gql(CUSTOM_ROLES, {}, token=admin.token)).ok()["customRoles"]
    assert listed["totalCount"] == 1 and listed["edges"][0]["node"] == role

    changed = (
        await gql(
            UPDATE,
            {"input": {"roleId": role["id"], "name": "Viewer", "permissions": ["orders:read"]}},
            token=admin.token,
        )
    ).ok()["updateRole"]
    assert changed["userErrors"] == []
    assert changed["role"]["name"] == "Viewer" and changed["role"]["permissions"] == ["orders:read"]

    deleted = (await gql(DELETE, {"input": {"roleName": "Viewer"}}, token=admin.token)).ok()["deleteRole"]
    assert deleted == {"deletedRoleId": role["id"], "userErrors": []}
    assert (await gql(CUSTOM_ROLES, {}, token=admin.token)).ok()["customRoles"]["totalCount"] == 0


async def test_system_roles_are_listed_with_their_defaults_and_read_only(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    system = (await gql(SYSTEM_ROLES, token=admin.token)).ok()["systemRoles"]
    by_name = {role["name"]: role for role in system}
    assert set(by_name) == {"TENANT_ADMIN", "MANAGER", "SUPPORT_AGENT", "AUDITOR", "USER"}
    assert all(role["system"] and role["id"] is None for role in system)
    assert by_name["MANAGER"]["permissions"] == sorted(SYSTEM_ROLE_PERMISSIONS[Role.MANAGER])
    # The seeds' defaults: deleting products and reading all users are the admin's alone.
    assert "products:delete" in by_name["TENANT_ADMIN"]["permissions"]
    assert "users:read" in by_name["TENANT_ADMIN"]["permissions"]
    for name in ("MANAGER", "SUPPORT_AGENT", "AUDITOR", "USER"):
        assert "products:delete" not in by_name[name]["permissions"]
        assert "users:read" not in by_name[name]["permissions"]

    changed = (
        await gql(UPDATE, {"input": {"roleName": "MANAGER", "permissions": []}}, token=admin.token)
    ).ok()["updateRole"]
    assert codes(changed) == ["SYSTEM_ROLE_READ_ONLY"] and changed["role"] is None
    deleted = (await gql(DELETE, {"input": {"roleName": "manager"}}, token=admin.token)).ok()["deleteRole"]
    assert codes(deleted) == ["SYSTEM_ROLE_READ_ONLY"]
    # A custom role cannot take a system role's name either.
    assert codes(await create(gql, admin, "Auditor")) == ["ROLE_NAME_TAKEN"]


async def test_bad_inputs_are_user_errors(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    unknown = await create(gql, admin, "Odd", "orders:read", "orders:fly", "nothing")
    assert codes(unknown) == ["UNKNOWN_PERMISSION", "UNKNOWN_PERMISSION"]
    assert [e["field"] for e in unknown["userErrors"]] == [
        ["input", "permissions", "1"],
        ["input", "permissions", "2"],
    ]
    assert codes(await create(gql, admin, "  ")) == ["INVALID_ROLE_NAME"]
    assert codes(await create(gql, admin, "x" * 65)) == ["TOO_LONG"]
    first = await create(gql, admin, "Support lead", "orders:read")
    assert first["userErrors"] == []
    assert codes(await create(gql, admin, "Support lead")) == ["ROLE_NAME_TAKEN"]
    renamed = await create(gql, admin, "Other")
    clash = (
        await gql(
            UPDATE, {"input": {"roleId": renamed["role"]["id"], "name": "Support lead"}}, token=admin.token
        )
    ).ok()["updateRole"]
    assert codes(clash) == ["ROLE_NAME_TAKEN"]
    neither = (await gql(DELETE, {"input": {}}, token=admin.token)).ok()["deleteRole"]
    assert codes(neither) == ["ROLE_ID_OR_NAME"]

    # The same name in another tenant is fine; that tenant's role id is not found here.
    other_admin = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    theirs = await create(gql, other_admin, "Support lead", "users:read")
    assert theirs["userErrors"] == []
    foreign = {"roleId": theirs["role"]["id"]}
    update = (await gql(UPDATE, {"input": {**foreign, "name": "Mine"}}, token=admin.token)).ok()
    assert codes(update["updateRole"]) == ["ROLE_NOT_FOUND"]
    delete = (await gql(DELETE, {"input": foreign}, token=admin.token)).ok()
    assert codes(delete["deleteRole"]) == ["ROLE_NOT_FOUND"]
    user = await quick_account(runtime, "acme")
    assigned = (await gql(ASSIGN, {"input": {"userId": user.gid, **foreign}}, token=admin.token)).ok()
    assert codes(assigned["assignRole"]) == ["ROLE_NOT_FOUND"]
    # Untouched in its own tenant.
    listed = (await gql(CUSTOM_ROLES, {}, token=other_admin.token)).ok()["customRoles"]
    assert [edge["node"]["name"] for edge in listed["edges"]] == ["Support lead"]


async def test_assign_and_remove_by_id_or_name_and_a_users_roles(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme")
    role = (await create(gql, admin, "Viewer", "orders:read"))["role"]

    by_id = (await gql(ASSIGN, {"input": {"userId": user.gid, "roleId": role["id"]}}, token=admin.token)).ok()
    assert by_id["assignRole"]["userErrors"] == []
    assert [r["name"] for r in by_id["assignRole"]["roles"]] == ["USER", "Viewer"]
    # A system role by its name goes through the existing role rules.
    by_name = (
        await gql(ASSIGN, {"input": {"userId": user.gid, "roleName": "AUDITOR"}}, token=admin.token)
    ).ok()
    assert [r["name"] for r in by_name["assignRole"]["roles"]] == ["AUDITOR", "USER", "Viewer"]
    again = (await gql(ASSIGN, {"input": {"userId": user.gid, "roleName": "Viewer"}}, token=admin.token)).ok()
    assert [r["name"] for r in again["assignRole"]["roles"]] == ["AUDITOR", "USER", "Viewer"]

    # The user sees their own roles with details; the existing `roles` field is unchanged.
    mine = (await gql(USER_ROLES, {"id": user.gid}, token=user.token)).ok()["userRoles"]
    assert {r["name"]: r["permissions"] for r in mine}["Viewer"] == ["orders:read"]
    me = (await gql("{ me { roles } }", token=user.token)).ok()["me"]
    assert sorted(me["roles"]) == ["AUDITOR", "USER"]
    # Someone else's roles need roles:read.
    other = await quick_account(runtime, "acme")
    refused = await gql(USER_ROLES, {"id": user.gid}, token=other.token)
    assert refused.error_codes == ["FORBIDDEN"]
    # Another tenant's user, or none, is not found (not an empty list of roles).
    foreign_admin = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    assert (await gql(USER_ROLES, {"id": user.gid}, token=foreign_admin.token)).error_codes == ["NOT_FOUND"]
    unknown = global_id("User", uuid.uuid4())
    assert (await gql(USER_ROLES, {"id": unknown}, token=admin.token)).error_codes == ["NOT_FOUND"]

    # A role still held is not deleted: remove it from its holders first.
    held = (await gql(DELETE, {"input": {"roleId": role["id"]}}, token=admin.token)).ok()["deleteRole"]
    assert codes(held) == ["ROLE_IN_USE"]
    removed = (
        await gql(REMOVE, {"input": {"userId": user.gid, "roleName": "Viewer"}}, token=admin.token)
    ).ok()
    assert [r["name"] for r in removed["removeRole"]["roles"]] == ["AUDITOR", "USER"]
    gone = (await gql(DELETE, {"input": {"roleId": role["id"]}}, token=admin.token)).ok()["deleteRole"]
    assert gone["userErrors"] == []


async def test_only_role_administrators_change_roles(runtime: Runtime, gql: GraphQLClient) -> None:
    manager = await quick_account(runtime, "acme", Role.MANAGER)
    refused = await gql(CREATE, {"input": {"name": "Mine", "permissions": []}}, token=manager.token)
    assert refused.error_codes == ["FORBIDDEN"]
    assert (await gql(CUSTOM_ROLES, {}, token=manager.token)).error_codes == ["FORBIDDEN"]
    # AUDITOR's defaults include roles:read: it lists roles, but does not change them.
    auditor = await quick_account(runtime, "acme", Role.AUDITOR)
    assert (await gql(CUSTOM_ROLES, {}, token=auditor.token)).ok()["customRoles"]["totalCount"] == 0
    assert (await gql(CREATE, {"input": {"name": "x"}}, token=auditor.token)).error_codes == ["FORBIDDEN"]


async def test_concurrent_creates_of_one_name_make_one_role(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    for n in range(4):
        # Both find the name free; the unique name refuses the later insert: a userError, no 500.
        pair = await asyncio.gather(*(create(gql, admin, f"Twin {n}", "orders:read") for _ in range(2)))
        assert sorted(codes(payload) for payload in pair) == [[], ["ROLE_NAME_TAKEN"]]
    listed = (await gql(CUSTOM_ROLES, {}, token=admin.token)).ok()["customRoles"]
    assert listed["totalCount"] == 4


async def test_a_role_lists_at_most_the_whole_catalogue(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    # Each a well-formed key; so many of them must not reach the database as one huge statement.
    many = [f"r{n}:a" for n in range(20_000)]
    refused = await create(gql, admin, "Everything", *many)
    assert refused["userErrors"] == [
        {
            "field": ["input", "permissions"],
            "code": "TOO_LONG",
            "message": refused["userErrors"][0]["message"],
        }
    ]
    role = (await create(gql, admin, "Small", "orders:read"))["role"]
    update = {"input": {"roleId": role["id"], "permissions": many}}
    changed = (await gql(UPDATE, update, token=admin.token)).ok()["updateRole"]
    assert codes(changed) == ["TOO_LONG"]


async def test_listing_roles_takes_the_same_statements_for_few_or_many(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)

    async def statements() -> int:
        with count_statements(runtime.db.engine) as counter:
            (await gql(CUSTOM_ROLES, {"first": 50}, token=admin.token)).ok()
            (await gql(SYSTEM_ROLES, token=admin.token)).ok()
        return counter.count

    await create(gql, admin, "r0", "orders:read")
    few = await statements()
    for n in range(1, 8):
        await create(gql, admin, f"r{n}", "orders:read", "users:read")
    assert await statements() == few
    assert few <= 3


async def test_a_role_administrator_gives_no_more_than_they_hold(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    """A holder of roles:write who is no tenant admin may not create, widen or hand out a role with
    permissions they lack (themselves included): no way up through custom roles."""
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    delegate = await quick_account(runtime, "acme")
    keeper = (await create(gql, admin, "Role keeper", "roles:read", "roles:write", "products:read"))["role"]
    wide = (await create(gql, admin, "Order reader", "orders:read"))["role"]
    assigned = await gql(
        ASSIGN, {"input": {"userId": delegate.gid, "roleId": keeper["id"]}}, token=admin.token
    )
    assert assigned.ok()["assignRole"]["userErrors"] == []

    async def as_delegate(document: str, input: dict[str, Any]) -> list[str]:
        return (await gql(document, {"input": input}, token=delegate.token)).error_codes

    beyond = {"name": "Mine", "description": "x", "permissions": ["products:read", "orders:read"]}
    assert await as_delegate(CREATE, beyond) == ["FORBIDDEN"]
    within = await create(gql, delegate, "Product reader", "products:read")
    assert within["userErrors"] == [] and within["role"]["permissions"] == ["products:read"]
    widened = {"roleId": within["role"]["id"], "permissions": ["products:read", "invoices:read"]}
    assert await as_delegate(UPDATE, widened) == ["FORBIDDEN"]
    grant = "mutation($input: RolePermissionInput!) { grantRolePermission(input: $input) { role { id } } }"
    assert await as_delegate(grant, {"roleId": within["role"]["id"], "permission": "orders:read"}) == [
        "FORBIDDEN"
    ]
    assert await as_delegate(ASSIGN, {"userId": delegate.gid, "roleId": wide["id"]}) == ["FORBIDDEN"]
    # Nothing moved: the delegate holds what the admin gave, and the role what the delegate could.
    mine = (await gql(USER_ROLES, {"id": delegate.gid}, token=delegate.token)).ok()["userRoles"]
    assert [r["name"] for r in mine] == ["USER", "Role keeper"]
    roles = (await gql(CUSTOM_ROLES, {"first": 10}, token=admin.token)).ok()["customRoles"]["edges"]
    assert {e["node"]["name"]: e["node"]["permissions"] for e in roles}["Product reader"] == ["products:read"]
    # Within their rights it works, on someone else too.
    other = await quick_account(runtime, "acme")
    handed = await gql(
        ASSIGN, {"input": {"userId": other.gid, "roleId": within["role"]["id"]}}, token=delegate.token
    )
    assert [r["name"] for r in handed.ok()["assignRole"]["roles"]] == ["USER", "Product reader"]
