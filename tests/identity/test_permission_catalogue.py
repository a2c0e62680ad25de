"""The permission catalogue against real PostgreSQL and Redis (seed 004 /admin/permissions): the
built-in permissions are objects with stable ids, paginated by key and read-only; platform admins
add, change and delete custom ones, which custom roles grant and their holders hold; a custom
permission a role grants keeps its key and is not deleted; bad inputs are userErrors."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from core.permissions import PERMISSIONS, Role
from core.scope import TenantScope
from models.base import utcnow
from models.identity.roles import CustomPermission
from server.runtime import Runtime
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from services.identity.permission_catalogue import MAX_CUSTOM_PERMISSIONS, builtin_id
from tests.identity.test_roles import ASSIGN, USER_ROLES, codes, create
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import Account, global_id, quick_account

FIELDS = "id key resource action name description builtin createdAt"
CATALOGUE = f"""
query($first: Int, $after: String, $last: Int, $before: String, $filter: PermissionFilterInput) {{
  permissionCatalogue(first: $first, after: $after, last: $last, before: $before, filter: $filter) {{
    totalCount edges {{ cursor node {{ {FIELDS} }} }}
    pageInfo {{ hasNextPage hasPreviousPage endCursor startCursor }}
  }}
}}"""
ONE = f"query($id: ID!) {{ permission(id: $id) {{ {FIELDS} }} }}"
KEYS = "{ permissions }"
MINE = "{ myPermissions }"
CREATE_PERMISSION = f"""
mutation($input: CreatePermissionInput!) {{
  createPermission(input: $input) {{ permission {{ {FIELDS} }} userErrors {{ field code message }} }}
}}"""
UPDATE_PERMISSION = f"""
mutation($input: UpdatePermissionInput!) {{
  updatePermission(input: $input) {{ permission {{ {FIELDS} }} userErrors {{ field code message }} }}
}}"""
DELETE_PERMISSION = """
mutation($input: DeletePermissionInput!) {
  deletePermission(input: $input) { deletedPermissionId userErrors { field code message } }
}"""
INVENTORY = {"resource": "inventory", "action": "manage", "description": "Full access to inventory."}


async def platform_admin(runtime: Runtime) -> Account:
    return await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)


async def add_permission(gql: GraphQLClient, admin: Account, **fields: Any) -> dict[str, Any]:
    result = await gql(CREATE_PERMISSION, {"input": fields}, token=admin.token)
    payload: dict[str, Any] = result.ok()["createPermission"]
    return payload


async def mutate(
    gql: GraphQLClient, admin: Account, document: str, root: str, /, **fields: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql(document, {"input": fields}, token=admin.token)).ok()[root]
    return payload


async def test_built_in_permissions_are_objects_with_stable_ids_paged_by_key(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    user = await quick_account(runtime, "acme")
    whole = (await gql(CATALOGUE, {"first": 100}, token=user.token)).ok()["permissionCatalogue"]
    nodes = [edge["node"] for edge in whole["edges"]]
    assert whole["totalCount"] == len(PERMISSIONS) == 42
    assert [node["key"] for node in nodes] == sorted(PERMISSIONS)
    orders_read = next(node for node in nodes if node["key"] == "orders:read")
    assert orders_read == {
        "id": global_id("Permission", builtin_id("orders:read")),
        "key": "orders:read",
        "resource": "orders",
        "action": "read",
        "name": "read_orders",
        "description": "Read orders.",
        "builtin": True,
        "createdAt": None,
    }
    assert (await gql(ONE, {"id": orders_read["id"]}, token=user.token)).ok()["permission"] == orders_read

    # Forward pages of 10 and a backward page meet the whole list exactly.
    keys: list[str] = []
    after = None
    while True:
        page = (await gql(CATALOGUE, {"first": 10, "after": after}, token=user.token)).ok()
        connection = page["permissionCatalogue"]
        keys += [edge["node"]["key"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert keys == sorted(PERMISSIONS)
    tail = (await gql(CATALOGUE, {"last": 3}, token=user.token)).ok()["permissionCatalogue"]
    assert [edge["node"]["key"] for edge in tail["edges"]] == sorted(PERMISSIONS)[-3:]
    assert tail["pageInfo"]["hasPreviousPage"] is True and tail["pageInfo"]["hasNextPage"] is False
    before = (
        await gql(CATALOGUE, {"last": 2, "before": tail["pageInfo"]["startCursor"]}, token=user.token)
    ).ok()["permissionCatalogue"]
    assert [edge["node"]["key"] for edge in before["edges"]] == sorted(PERMISSIONS)[-5:-3]
    filtered = (await gql(CATALOGUE, {"filter": {"resource": "audit"}}, token=user.token)).ok()
    assert [e["node"]["key"] for e in filtered["permissionCatalogue"]["edges"]] == [
        "audit:delete",
        "audit:read",
        "audit:write",
    ]
    assert (await gql(CATALOGUE, {"after": "not-a-cursor"}, token=user.token)).error_codes == [
        "BAD_USER_INPUT"
    ]
    assert (await gql(CATALOGUE, {})).error_codes == ["UNAUTHENTICATED"]


async def test_a_platform_admin_adds_changes_and_deletes_a_custom_permission(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await platform_admin(runtime)
    user = await quick_account(runtime, "acme")
    created = await add_permission(gql, admin, **INVENTORY)
    assert created["userErrors"] == []
    permission = created["permission"]
    assert permission["key"] == "inventory:manage" and permission["name"] == "manage_inventory"
    assert permission["builtin"] is False and permission["createdAt"] is not None

    # Every tenant's users see it, beside the built-ins.
    assert "inventory:manage" in (await gql(KEYS, token=user.token)).ok()["permissions"]
    custom = (await gql(CATALOGUE, {"filter": {"builtin": False}}, token=user.token)).ok()
    assert [edge["node"] for edge in custom["permissionCatalogue"]["edges"]] == [permission]
    assert (await gql(ONE, {"id": permission["id"]}, token=user.token)).ok()["permission"] == permission

    changed = await mutate(
        gql,
        admin,
        UPDATE_PERMISSION,
        "updatePermission",
        id=permission["id"],
        action="admin",
        name="Inventory admin",
        description="Changed.",
    )
    assert changed["userErrors"] == []
    assert changed["permission"]["key"] == "inventory:admin"
    assert (changed["permission"]["name"], changed["permission"]["description"]) == (
        "Inventory admin",
        "Changed.",
    )
    keys = (await gql(KEYS, token=user.token)).ok()["permissions"]
    assert "inventory:admin" in keys and "inventory:manage" not in keys

    deleted = await mutate(gql, admin, DELETE_PERMISSION, "deletePermission", id=permission["id"])
    assert deleted == {"deletedPermissionId": permission["id"], "userErrors": []}
    assert (await gql(ONE, {"id": permission["id"]}, token=user.token)).error_codes == ["NOT_FOUND"]
    again = await mutate(gql, admin, DELETE_PERMISSION, "deletePermission", id=permission["id"])
    assert codes(again) == ["PERMISSION_NOT_FOUND"]
    assert (await gql(CATALOGUE, {}, token=user.token)).ok()["permissionCatalogue"]["totalCount"] == 42


async def test_built_in_permissions_cannot_be_changed_deleted_or_shadowed(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await platform_admin(runtime)
    orders_read = global_id("Permission", builtin_id("orders:read"))
    update = await mutate(gql, admin, UPDATE_PERMISSION, "updatePermission", id=orders_read, description="x")
    assert codes(update) == ["PERMISSION_READ_ONLY"]
    delete = await mutate(gql, admin, DELETE_PERMISSION, "deletePermission", id=orders_read)
    assert codes(delete) == ["PERMISSION_READ_ONLY"]
    assert codes(await add_permission(gql, admin, resource="orders", action="read")) == ["PERMISSION_TAKEN"]
    assert (await add_permission(gql, admin, **INVENTORY))["userErrors"] == []
    assert codes(await add_permission(gql, admin, **INVENTORY)) == ["PERMISSION_TAKEN"]
    other = (await add_permission(gql, admin, resource="inventory", action="count"))["permission"]
    clash = await mutate(gql, admin, UPDATE_PERMISSION, "updatePermission", id=other["id"], action="manage")
    assert codes(clash) == ["PERMISSION_TAKEN"]
    # Nothing changed: the built-in is as before, the custom one kept its key.
    assert (await gql(ONE, {"id": orders_read}, token=admin.token)).ok()["permission"]["description"] == (
        "Read orders."
    )
    assert (await gql(ONE, {"id": other["id"]}, token=admin.token)).ok()["permission"][
        "key"
    ] == "inventory:count"


async def test_bad_catalogue_inputs_are_user_errors(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await platform_admin(runtime)
    for resource, action in (
        ("Inventory", "manage"),
        ("1nventory", "manage"),
        ("inventory", "ma:nage"),
        ("", "x"),
    ):
        payload = await add_permission(gql, admin, resource=resource, action=action)
        assert codes(payload) == ["INVALID_PERMISSION"], (resource, action)
        assert payload["permission"] is None
    assert codes(await add_permission(gql, admin, resource="a" * 33, action="read")) == ["TOO_LONG"]
    assert codes(await add_permission(gql, admin, **INVENTORY, name="two\nlines")) == ["INVALID_PERMISSION"]
    assert codes(await add_permission(gql, admin, resource="x", action="y", description="d" * 501)) == [
        "TOO_LONG"
    ]
    missing = global_id("Permission", builtin_id("no:such"))
    update = await mutate(gql, admin, UPDATE_PERMISSION, "updatePermission", id=missing, name="x")
    assert codes(update) == ["PERMISSION_NOT_FOUND"]
    wrong_type = global_id("CustomRole", builtin_id("orders:read"))
    assert (await gql(ONE, {"id": wrong_type}, token=admin.token)).error_codes == ["NOT_FOUND"]
    assert (await gql(ONE, {"id": missing}, token=admin.token)).error_codes == ["NOT_FOUND"]
    assert (await gql(CATALOGUE, {"filter": {"builtin": False}}, token=admin.token)).ok()[
        "permissionCatalogue"
    ]["totalCount"] == 0


async def test_only_platform_admins_change_the_catalogue(runtime: Runtime, gql: GraphQLClient) -> None:
    tenant_admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    refused = await gql(CREATE_PERMISSION, {"input": INVENTORY}, token=tenant_admin.token)
    assert refused.error_codes == ["FORBIDDEN"]
    created = (await add_permission(gql, await platform_admin(runtime), **INVENTORY))["permission"]
    for document, fields in (
        (UPDATE_PERMISSION, {"id": created["id"], "name": "mine"}),
        (DELETE_PERMISSION, {"id": created["id"]}),
    ):
        assert (await gql(document, {"input": fields}, token=tenant_admin.token)).error_codes == ["FORBIDDEN"]
    assert (await gql(ONE, {"id": created["id"]}, token=tenant_admin.token)).ok()["permission"] == created


async def test_a_granted_custom_permission_is_held_and_kept_until_revoked(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    platform = await platform_admin(runtime)
    permission = (await add_permission(gql, platform, **INVENTORY))["permission"]
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    role = (await create(gql, admin, "Clerk", "inventory:manage", "products:read"))["role"]
    assert role["permissions"] == ["inventory:manage", "products:read"]
    clerk = await quick_account(runtime, "acme")
    assigned = (
        await gql(ASSIGN, {"input": {"userId": clerk.gid, "roleId": role["id"]}}, token=admin.token)
    ).ok()
    assert assigned["assignRole"]["userErrors"] == []
    assert (await gql(MINE, token=clerk.token)).ok()["myPermissions"] == ["inventory:manage", "products:read"]
    held = (await gql(USER_ROLES, {"id": clerk.gid}, token=clerk.token)).ok()["userRoles"]
    assert [r["permissions"] for r in held if r["name"] == "Clerk"] == [["inventory:manage", "products:read"]]

    # Granted by a role: no deletion, no new key; the description may change.
    delete = await mutate(gql, platform, DELETE_PERMISSION, "deletePermission", id=permission["id"])
    assert codes(delete) == ["PERMISSION_IN_USE"]
    rekey = await mutate(
        gql, platform, UPDATE_PERMISSION, "updatePermission", id=permission["id"], action="x"
    )
    assert codes(rekey) == ["PERMISSION_IN_USE"]
    described = await mutate(
        gql, platform, UPDATE_PERMISSION, "updatePermission", id=permission["id"], description="Stock."
    )
    assert described["userErrors"] == [] and described["permission"]["key"] == "inventory:manage"

    revoke = """mutation($input: RolePermissionInput!) {
      revokeRolePermission(input: $input) { role { permissions } userErrors { code } } }"""
    revoked = (
        await gql(
            revoke, {"input": {"roleId": role["id"], "permissionId": permission["id"]}}, token=admin.token
        )
    ).ok()["revokeRolePermission"]
    assert revoked == {"role": {"permissions": ["products:read"]}, "userErrors": []}
    assert (await gql(MINE, token=clerk.token)).ok()["myPermissions"] == ["products:read"]
    deleted = await mutate(gql, platform, DELETE_PERMISSION, "deletePermission", id=permission["id"])
    assert deleted["userErrors"] == []
    # Gone from the catalogue: no role can grant it any more.
    assert codes(await create(gql, admin, "Late", "inventory:manage")) == ["UNKNOWN_PERMISSION"]


async def test_the_custom_permission_limit(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await platform_admin(runtime)
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        session.add_all(
            CustomPermission(resource="bulk", action=f"a{n}", name=f"a{n}", description="")
            for n in range(MAX_CUSTOM_PERMISSIONS)
        )
    assert codes(await add_permission(gql, admin, **INVENTORY)) == ["TOO_MANY_PERMISSIONS"]
    listed = (await gql(CATALOGUE, {"first": 1}, token=admin.token)).ok()["permissionCatalogue"]
    assert listed["totalCount"] == 42 + MAX_CUSTOM_PERMISSIONS


async def test_reading_the_catalogue_takes_the_same_statements_for_few_or_many(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await platform_admin(runtime)

    async def statements() -> int:
        with count_statements(runtime.db.engine) as counter:
            (await gql(CATALOGUE, {"first": 100}, token=admin.token)).ok()
            (await gql(KEYS, token=admin.token)).ok()
        return counter.count

    await statements()  # the first request also loads the caller's access
    few = await statements()
    for n in range(6):
        assert (await add_permission(gql, admin, resource="stock", action=f"step{n}"))["userErrors"] == []
    assert await statements() == few
    assert few <= 2


async def test_tenant_sessions_read_and_lock_the_catalogue_but_never_write_it(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    """Row-level security behind the service checks: a tenant-scoped transaction sees and locks the
    custom entries (grants need that) and cannot insert, change or delete one."""
    admin = await platform_admin(runtime)
    assert (await add_permission(gql, admin, **INVENTORY))["userErrors"] == []
    tenant = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    scope = TenantScope.of(tenant.tenant_id)
    async with runtime.db.transaction(scope) as session:
        locked = select(CustomPermission.resource).with_for_update(read=True)
        assert list(await session.scalars(locked)) == ["inventory"]
    writes = (
        insert(CustomPermission).values(
            id=uuid.uuid4(),
            resource="x",
            action="y",
            name="x",
            description="",
            created_at=utcnow(),
            updated_at=utcnow(),
        ),
        update(CustomPermission).values(description="hijacked"),
    )
    for statement in writes:
        with pytest.raises(DBAPIError, match="row-level security"):
            async with runtime.db.transaction(scope) as session:
                await session.execute(statement)
    async with runtime.db.transaction(scope) as session:
        deleted = await session.execute(delete(CustomPermission))
        assert deleted.rowcount == 0  # type: ignore[attr-defined]
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        rows = list(await session.scalars(select(CustomPermission)))
    assert [(row.key, row.description) for row in rows] == [("inventory:manage", INVENTORY["description"])]
