"""One role and one permission at a time against real PostgreSQL and Redis (seeds 000 and 004
/roles/:id, /admin/roles/:id/permissions[/:permId]): a custom role looked up by id (another
tenant's is not found); a single permission granted or revoked by id or key, leaving the others,
effective on the holders' next request, concurrent grants all kept; bad inputs are userErrors;
the demo data has a custom role holding a custom permission."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import delete, select

from core.permissions import Role
from core.scope import TenantScope
from demo import DEMO_PASSWORD, seed_demo
from demo.roles import DEMO_ROLE_HOLDER, DEMO_ROLE_NAME, DEMO_ROLE_PERMISSIONS
from models.identity.roles import CustomPermission, CustomRole
from server.runtime import Runtime
from services.identity.permission_catalogue import builtin_id
from tests.identity.test_permissions import USERS, holder_of
from tests.identity.test_roles import ASSIGN, ROLE_FIELDS, codes, create
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, Identity, global_id, quick_account

ROLE = f"query($id: ID!) {{ role(id: $id) {{ {ROLE_FIELDS} createdAt updatedAt }} }}"
GRANT = f"""
mutation($input: RolePermissionInput!) {{
  grantRolePermission(input: $input) {{ role {{ {ROLE_FIELDS} }} userErrors {{ field code message }} }}
}}"""
REVOKE = f"""
mutation($input: RolePermissionInput!) {{
  revokeRolePermission(input: $input) {{ role {{ {ROLE_FIELDS} }} userErrors {{ field code message }} }}
}}"""


async def change(gql: GraphQLClient, admin: Account, document: str, **fields: Any) -> dict[str, Any]:
    data = (await gql(document, {"input": fields}, token=admin.token)).ok()
    payload: dict[str, Any] = data["grantRolePermission" if document is GRANT else "revokeRolePermission"]
    return payload


def permission_gid(key: str) -> str:
    return global_id("Permission", builtin_id(key))


async def test_a_custom_role_is_looked_up_by_id_in_its_tenant_only(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    role = (await create(gql, admin, "Viewer", "orders:read"))["role"]
    found = (await gql(ROLE, {"id": role["id"]}, token=admin.token)).ok()["role"]
    assert {key: found[key] for key in role} == role
    assert found["createdAt"] is not None and found["updatedAt"] is not None

    other_admin = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    assert (await gql(ROLE, {"id": role["id"]}, token=other_admin.token)).error_codes == ["NOT_FOUND"]
    missing = global_id("CustomRole", builtin_id("nothing"))
    assert (await gql(ROLE, {"id": missing}, token=admin.token)).error_codes == ["NOT_FOUND"]
    assert (await gql(ROLE, {"id": admin.gid}, token=admin.token)).error_codes == ["NOT_FOUND"]
    user = await quick_account(runtime, "acme")
    assert (await gql(ROLE, {"id": role["id"]}, token=user.token)).error_codes == ["FORBIDDEN"]
    auditor = await quick_account(runtime, "acme", Role.AUDITOR)  # holds roles:read
    assert (await gql(ROLE, {"id": role["id"]}, token=auditor.token)).ok()["role"]["name"] == "Viewer"


async def test_assigning_a_role_being_deleted_is_role_not_found(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme")
    role = (await create(gql, admin, "Doomed", "orders:read"))["role"]
    variables = {"input": {"userId": user.gid, "roleId": role["id"]}}
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        # A deletion not yet committed (deleteRole's, after its holder count) while the role is assigned.
        await session.execute(delete(CustomRole).where(CustomRole.name == "Doomed"))
        assigning = asyncio.create_task(gql(ASSIGN, variables, token=admin.token))
        await asyncio.sleep(1)
        assert not assigning.done()  # waiting for the deletion
    assigned = (await assigning).ok()["assignRole"]
    assert codes(assigned) == ["ROLE_NOT_FOUND"]


async def test_one_permission_is_granted_and_revoked_by_id_or_key(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    role = (await create(gql, admin, "Viewer", "orders:read"))["role"]
    by_key = await change(gql, admin, GRANT, roleId=role["id"], permission="users:read")
    assert by_key["userErrors"] == [] and by_key["role"]["permissions"] == ["orders:read", "users:read"]
    by_id = await change(gql, admin, GRANT, roleName="Viewer", permissionId=permission_gid("invoices:read"))
    assert by_id["role"]["permissions"] == ["invoices:read", "orders:read", "users:read"]
    twice = await change(gql, admin, GRANT, roleId=role["id"], permission="users:read")
    assert twice["userErrors"] == [] and twice["role"]["permissions"] == by_id["role"]["permissions"]

    revoked = await change(gql, admin, REVOKE, roleId=role["id"], permissionId=permission_gid("users:read"))
    assert revoked["role"]["permissions"] == ["invoices:read", "orders:read"]
    not_held = await change(gql, admin, REVOKE, roleId=role["id"], permission="users:read")
    assert not_held["userErrors"] == [] and not_held["role"]["permissions"] == [
        "invoices:read",
        "orders:read",
    ]
    stored = (await gql(ROLE, {"id": role["id"]}, token=admin.token)).ok()["role"]
    assert stored["permissions"] == ["invoices:read", "orders:read"]


async def test_a_grant_reaches_the_holders_next_request_and_a_revoke_takes_it_away(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    holder, role_id = await holder_of(gql, runtime, admin, "orders:read")
    assert (await gql(USERS, token=holder.token)).error_codes == ["FORBIDDEN"]
    assert (await change(gql, admin, GRANT, roleId=role_id, permission="users:read"))["userErrors"] == []
    assert (await gql(USERS, token=holder.token)).ok()["users"]["totalCount"] == 2
    assert (await change(gql, admin, REVOKE, roleId=role_id, permission="users:read"))["userErrors"] == []
    assert (await gql(USERS, token=holder.token)).error_codes == ["FORBIDDEN"]


async def test_concurrent_grants_and_revokes_all_apply(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    role = (await create(gql, admin, "Busy", "orders:read", "orders:write"))["role"]
    granted = ["users:read", "invoices:read", "payments:read", "refunds:read", "reviews:read", "plans:read"]
    results = await asyncio.gather(
        *(change(gql, admin, GRANT, roleId=role["id"], permission=key) for key in granted),
        change(gql, admin, REVOKE, roleId=role["id"], permission="orders:write"),
    )
    assert all(result["userErrors"] == [] for result in results)
    stored = (await gql(ROLE, {"id": role["id"]}, token=admin.token)).ok()["role"]
    assert stored["permissions"] == sorted([*granted, "orders:read"])


async def test_bad_grants_are_user_errors(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    role = (await create(gql, admin, "Viewer", "orders:read"))["role"]
    both = await change(
        gql,
        admin,
        GRANT,
        roleId=role["id"],
        permission="users:read",
        permissionId=permission_gid("users:read"),
    )
    assert codes(both) == ["PERMISSION_ID_OR_KEY"]
    assert codes(await change(gql, admin, GRANT, roleId=role["id"])) == ["PERMISSION_ID_OR_KEY"]
    assert codes(await change(gql, admin, GRANT, roleId=role["id"], permission="orders:fly")) == [
        "UNKNOWN_PERMISSION"
    ]
    unknown_id = await change(gql, admin, GRANT, roleId=role["id"], permissionId=permission_gid("no:such"))
    assert codes(unknown_id) == ["UNKNOWN_PERMISSION"]
    assert codes(await change(gql, admin, GRANT, roleName="MANAGER", permission="users:read")) == [
        "SYSTEM_ROLE_READ_ONLY"
    ]
    assert codes(await change(gql, admin, REVOKE, permission="orders:read")) == ["ROLE_ID_OR_NAME"]
    assert codes(await change(gql, admin, GRANT, roleName="Nobody", permission="users:read")) == [
        "ROLE_NOT_FOUND"
    ]
    assert codes(await change(gql, admin, GRANT, roleId=role["id"], permission="x" * 66)) == ["TOO_LONG"]

    other_admin = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    foreign = await change(gql, other_admin, GRANT, roleId=role["id"], permission="users:read")
    assert codes(foreign) == ["ROLE_NOT_FOUND"]
    manager = await quick_account(runtime, "acme", Role.MANAGER)
    refused = await gql(
        GRANT, {"input": {"roleId": role["id"], "permission": "users:read"}}, token=manager.token
    )
    assert refused.error_codes == ["FORBIDDEN"]
    # Nothing of it changed the role.
    assert (await gql(ROLE, {"id": role["id"]}, token=admin.token)).ok()["role"]["permissions"] == [
        "orders:read"
    ]


async def test_the_demo_has_a_custom_role_with_a_custom_permission_seeded_once(
    runtime: Runtime, gql: GraphQLClient, identity: Identity
) -> None:
    await seed_demo(runtime.db)
    await seed_demo(runtime.db)
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        roles = list(await session.scalars(select(CustomRole).where(CustomRole.name == DEMO_ROLE_NAME)))
        permissions = list(await session.scalars(select(CustomPermission)))
    assert [role.permissions for role in roles] == [list(DEMO_ROLE_PERMISSIONS)]
    assert [permission.key for permission in permissions] == ["inventory:manage"]
    signed_in = (await identity.login("acme", DEMO_ROLE_HOLDER, DEMO_PASSWORD)).ok()["login"]
    held = (await gql("{ myPermissions }", token=signed_in["accessToken"])).ok()["myPermissions"]
    assert "inventory:manage" in held and "products:write" in held
