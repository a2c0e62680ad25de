"""Permissions against real PostgreSQL and Redis: a user holding only a custom role reaches what
its permissions grant (every order of the tenant, every user, product writes) and nothing more;
a permission taken from the role is refused on the holder's next request (the access-change
event drops the cached access); the system roles' defaults follow seed 004 (deleting products and
reading all users are admin-only); API keys carry their owner's permissions."""

from __future__ import annotations

from typing import Any

from core.permissions import Role
from server.runtime import Runtime
from tests.identity.test_roles import ASSIGN, UPDATE, create
from tests.orders.conftest import line, new_shop
from tests.support.api_keys import create_key, with_key
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, Identity, quick_account

ORDERS = "{ orders(first: 50) { totalCount } }"
USERS = "{ users(first: 50) { totalCount } }"
CREATE_PRODUCT = """
mutation($input: CreateProductInput!) {
  createProduct(input: $input) { product { id } userErrors { field code message } }
}"""
DELETE_PRODUCT = """
mutation($id: ID!) { deleteProduct(input: {id: $id}) { deletedProductId userErrors { code } } }"""


async def holder_of(
    gql: GraphQLClient, runtime: Runtime, admin: Account, *permissions: str
) -> tuple[Account, str]:
    """A plain user of ``admin``'s tenant given a new custom role with ``permissions``."""
    role = (await create(gql, admin, f"custom-{'-'.join(permissions)}", *permissions))["role"]
    user = await quick_account(runtime, admin.tenant_slug)
    assigned = (
        await gql(ASSIGN, {"input": {"userId": user.gid, "roleId": role["id"]}}, token=admin.token)
    ).ok()
    assert assigned["assignRole"]["userErrors"] == []
    return user, role["id"]


async def set_permissions(gql: GraphQLClient, admin: Account, role_id: str, *permissions: str) -> None:
    variables = {"input": {"roleId": role_id, "permissions": list(permissions)}}
    payload: dict[str, Any] = (await gql(UPDATE, variables, token=admin.token)).ok()["updateRole"]
    assert payload["userErrors"] == []


async def test_orders_read_lists_the_tenants_orders_until_it_is_taken_away(
    runtime: Runtime, gql: GraphQLClient, identity: Identity
) -> None:
    shop = await new_shop(runtime, gql, identity)
    other_shop = await new_shop(runtime, gql, identity)
    product = await shop.product()
    for _ in range(3):
        await shop.quick(await shop.account(), line(product, 1))
    await other_shop.quick(await other_shop.account(), line(await other_shop.product(), 1))
    plain = await shop.account()
    assert (await gql(ORDERS, token=plain.token)).ok()["orders"]["totalCount"] == 0

    viewer, role_id = await holder_of(gql, runtime, shop.admin, "orders:read")
    # Like staff: every order of its tenant, none of the other tenant's.
    assert (await gql(ORDERS, token=viewer.token)).ok()["orders"]["totalCount"] == 3
    assert (await gql(ORDERS, token=viewer.token)).ok()["orders"]["totalCount"] == 3  # from the cache

    queries = runtime.access.queries
    await set_permissions(gql, shop.admin, role_id, "invoices:read")
    # The change's event dropped the holder's cached access: the next request sees only its own.
    assert (await gql(ORDERS, token=viewer.token)).ok()["orders"]["totalCount"] == 0
    assert runtime.access.queries > queries


async def test_users_read_reaches_the_users_list_and_is_refused_once_removed(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    reader, role_id = await holder_of(gql, runtime, admin, "users:read")
    assert (await gql(USERS, token=reader.token)).ok()["users"]["totalCount"] == 2
    await set_permissions(gql, admin, role_id)
    assert (await gql(USERS, token=reader.token)).error_codes == ["FORBIDDEN"]


async def test_reading_all_users_is_admin_only(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    assert (await gql(USERS, token=admin.token)).ok()["users"]["totalCount"] == 1
    for role in (Role.MANAGER, Role.SUPPORT_AGENT, Role.AUDITOR, Role.USER):
        staff = await quick_account(runtime, "acme", role)
        assert (await gql(USERS, token=staff.token)).error_codes == ["FORBIDDEN"], role


async def test_products_write_creates_products_but_deleting_is_admin_only(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    writer, _ = await holder_of(gql, runtime, admin, "products:write")
    product = {"sku": "p-1", "name": "Tool", "basePrice": {"amount": 1000, "currency": "EUR"}}
    created = (await gql(CREATE_PRODUCT, {"input": product}, token=writer.token)).ok()["createProduct"]
    assert created["userErrors"] == []
    product_id = created["product"]["id"]
    # Writing products is not writing categories.
    category = await gql(
        'mutation { createCategory(input: {name: "Tools"}) { category { id } } }', token=writer.token
    )
    assert category.error_codes == ["FORBIDDEN"]
    assert (await gql(DELETE_PRODUCT, {"id": product_id}, token=writer.token)).error_codes == ["FORBIDDEN"]
    manager = await quick_account(runtime, "acme", Role.MANAGER)
    assert (await gql(DELETE_PRODUCT, {"id": product_id}, token=manager.token)).error_codes == ["FORBIDDEN"]
    deleted = (await gql(DELETE_PRODUCT, {"id": product_id}, token=admin.token)).ok()["deleteProduct"]
    assert deleted == {"deletedProductId": product_id, "userErrors": []}


async def test_a_custom_role_grants_nothing_beyond_its_permissions(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    viewer, _ = await holder_of(gql, runtime, admin, "orders:read")
    assert (await gql(USERS, token=viewer.token)).error_codes == ["FORBIDDEN"]
    product = {"sku": "p-2", "name": "Tool", "basePrice": {"amount": 1000, "currency": "EUR"}}
    assert (await gql(CREATE_PRODUCT, {"input": product}, token=viewer.token)).error_codes == ["FORBIDDEN"]


async def test_an_api_key_carries_its_owners_custom_permissions(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    reader, role_id = await holder_of(gql, runtime, admin, "users:read")
    secret, _ = await create_key(gql, reader, scopes=["USERS_READ"])
    assert (await with_key(gql, secret, USERS)).ok()["users"]["totalCount"] == 2
    # Every request with a key reads its owner's roles: the next one has the permission no more.
    await set_permissions(gql, admin, role_id, "orders:read")
    assert (await with_key(gql, secret, USERS)).error_codes == ["FORBIDDEN"]
