"""Audit entries against real PostgreSQL: a create mutation's entry names the new row, a sign-in's
entry names the user as its actor, and mutations refused before their resolver runs (document
validation, variables, access directives, the must-change-password limit) are recorded."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from sqlalchemy import select, update

from core.permissions import Role
from core.scope import TenantScope
from models.audit import AuditEntry
from models.catalog import Category
from models.identity.accounts import User
from models.identity.api_keys import ApiKey
from server.runtime import Runtime
from tests.support.api_keys import create_key
from tests.support.graphql import GraphQLClient
from tests.support.identity import PASSWORD, Identity

ALL = TenantScope.all_tenants()
CREATE_CATEGORY = """
mutation($input: CreateCategoryInput!) {
  createCategory(input: $input) { category { id } userErrors { code } }
}
"""


async def entries(runtime: Runtime, **where: Any) -> list[AuditEntry]:
    async with runtime.db.session(ALL) as session:
        statement = select(AuditEntry).filter_by(**where).order_by(AuditEntry.created_at, AuditEntry.id)
        return list(await session.scalars(statement))


async def test_a_create_mutation_names_the_new_row(
    gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    manager = await identity.account("trail-shop", Role.MANAGER)
    created = await gql(CREATE_CATEGORY, {"input": {"name": "Lamps"}}, token=manager.token)
    assert created.ok()["createCategory"]["userErrors"] == []
    secret, key = await create_key(gql, manager, name="trail key")

    async with runtime.db.session(ALL) as session:
        category_id = await session.scalar(select(Category.id).where(Category.name == "Lamps"))
        key_id = await session.scalar(select(ApiKey.id).where(ApiKey.name == "trail key"))
    (category,) = await entries(runtime, action="createCategory")
    assert (category.outcome, category.target_type, category.target_id) == (
        "SUCCESS",
        "Category",
        str(category_id),
    )
    (api_key,) = await entries(runtime, action="createApiKey")
    assert (api_key.target_type, api_key.target_id) == ("ApiKey", str(key_id))
    assert secret.startswith("tg_") and key["name"] == "trail key"


async def test_a_failed_create_names_no_target(
    gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    manager = await identity.account("trail-shop", Role.MANAGER)
    await gql(CREATE_CATEGORY, {"input": {"name": "A", "slug": "same"}}, token=manager.token)
    again = await gql(CREATE_CATEGORY, {"input": {"name": "B", "slug": "same"}}, token=manager.token)
    assert again.ok()["createCategory"]["userErrors"]
    rows = await entries(runtime, action="createCategory")
    assert [(r.outcome, r.target_type is None, r.target_id is None) for r in rows] == [
        ("SUCCESS", False, False),
        ("USER_ERROR", True, True),
    ]


async def test_a_login_names_the_user_as_actor(
    gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    account = await identity.account("trail-login", Role.USER)
    wrong = await identity.login(account.tenant_slug, account.email, "not the password")
    assert wrong.error_codes or wrong.ok()["login"]["userErrors"]
    refreshed = await gql(
        "mutation($input: RefreshInput) { refreshToken(input: $input) { accessToken } }",
        {"input": {"refreshToken": account.refresh_token}},
    )
    assert refreshed.ok()["refreshToken"]["accessToken"]

    logins = await entries(runtime, action="login")
    assert [(r.outcome, r.actor_kind, r.actor_id, r.tenant_id) for r in logins] == [
        ("SUCCESS", "USER", account.user_id, account.tenant_id),
        (logins[1].outcome, "ANONYMOUS", None, None),
    ]
    assert logins[1].outcome != "SUCCESS"
    (refresh,) = await entries(runtime, action="refreshToken")
    assert (refresh.actor_kind, refresh.actor_id, refresh.tenant_id) == (
        "USER",
        account.user_id,
        account.tenant_id,
    )


async def test_an_invalid_mutation_document_is_recorded(
    gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    manager = await identity.account("trail-refusals", Role.MANAGER)
    unknown = await gql(
        'mutation { createCategory(input: {nam: "x"}) { category { id } } }', token=manager.token
    )
    assert set(unknown.error_codes) == {"BAD_USER_INPUT"}  # an unknown field, a missing one
    coerced = await gql(CREATE_CATEGORY, {"input": {"name": 5}}, token=manager.token)
    assert coerced.error_codes == ["BAD_USER_INPUT"]
    # Two root fields, one through a fragment: each is recorded.
    both = await gql(
        "mutation { createCategory(input: {name: 1}) { category { id } } ...More } "
        "fragment More on Mutation { logout(input: {}) { nope } }",
        token=manager.token,
    )
    assert both.error_codes and set(both.error_codes) == {"BAD_USER_INPUT"}
    # A query's invalid document is no mutation: nothing is recorded for it.
    await gql("{ me { nope } }", token=manager.token)

    rows = await entries(runtime, tenant_id=manager.tenant_id, outcome="ERROR")
    assert [(r.action, r.error_code, r.actor_id) for r in rows] == [
        ("createCategory", "BAD_USER_INPUT", manager.user_id),
        ("createCategory", "BAD_USER_INPUT", manager.user_id),
        ("createCategory", "BAD_USER_INPUT", manager.user_id),
        ("logout", "BAD_USER_INPUT", manager.user_id),
    ]
    anonymous = await gql('mutation { createCategory(input: {nam: "x"}) { category { id } } }')
    assert set(anonymous.error_codes) == {"BAD_USER_INPUT"}
    (row,) = [
        r for r in await entries(runtime, action="createCategory", outcome="ERROR") if r.actor_id is None
    ]
    assert (row.actor_kind, row.tenant_id) == ("ANONYMOUS", None)


async def test_directive_and_password_change_refusals_are_recorded(
    gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    customer = await identity.account("trail-limits", Role.USER)
    refused = await gql(CREATE_CATEGORY, {"input": {"name": "No"}}, token=customer.token)
    assert refused.error_codes == ["FORBIDDEN"]
    async with runtime.db.transaction(ALL) as session:
        await session.execute(
            update(User).where(User.id == customer.user_id).values(must_change_password=True)
        )
    token = (await identity.login(customer.tenant_slug, customer.email, PASSWORD)).ok()["login"][
        "accessToken"
    ]
    limited = await gql(
        'mutation { updateMe(input: {fullName: "New Name"}) { user { fullName } } }', token=token
    )
    assert limited.error_codes == ["FORBIDDEN"]
    assert limited.errors[0]["extensions"]["reason"] == "PASSWORD_CHANGE_REQUIRED"

    (directive,) = await entries(runtime, action="createCategory")
    assert (directive.outcome, directive.error_code, directive.actor_id) == (
        "FORBIDDEN",
        "FORBIDDEN",
        customer.user_id,
    )
    (update_me,) = await entries(runtime, action="updateMe")
    assert (update_me.outcome, update_me.actor_id, update_me.tenant_id) == (
        "FORBIDDEN",
        customer.user_id,
        customer.tenant_id,
    )
    assert uuid.UUID(str(update_me.actor_id)) == customer.user_id


async def test_a_mutation_refused_for_its_cost_is_recorded(
    gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    """The cost limit refuses after validation, before any field runs: that is recorded too."""
    manager = await identity.account("trail-cost", Role.MANAGER)
    reviews = "reviews(first: 100) { edges { node { product { %s } } } }"
    nested = reviews % ("a: " + reviews % "id" + " b: " + reviews % "id")
    product = '{sku: "c-1", name: "Costly", basePrice: {amount: 100, currency: "EUR"}}'
    costly = await gql(
        f"mutation {{ createProduct(input: {product}) {{ product {{ {nested} }} }} }}", token=manager.token
    )
    assert costly.error_codes == ["BAD_USER_INPUT"]
    assert "may cost" in costly.errors[0]["message"]
    rows = await entries(runtime, tenant_id=manager.tenant_id, action="createProduct")
    assert [(r.outcome, r.error_code, r.actor_id) for r in rows] == [
        ("ERROR", "BAD_USER_INPUT", manager.user_id)
    ]


async def test_an_id_of_an_over_long_type_is_audited_all_the_same(
    gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    # A forged global id within the ID length names a type longer than the column holds: the
    # entry is written, cut to the column, not lost.
    manager = await identity.account("trail-shop", Role.MANAGER)
    forged = base64.b64encode(f"{'T' * 140}:{'9' * 5}".encode()).decode()
    assert len(forged) <= 200
    deleted = await gql(
        "mutation($input: CategoryIdInput!) { deleteCategory(input: $input) { userErrors { code } } }",
        {"input": {"id": forged}},
        token=manager.token,
    )
    assert deleted.error_codes or deleted.ok()["deleteCategory"]["userErrors"]
    (row,) = await entries(runtime, action="deleteCategory")
    assert (row.target_type, row.target_id) == ("T" * 100, "9" * 5)


async def test_an_invalid_document_records_only_the_mutations_it_names(
    gql: GraphQLClient, runtime: Runtime, identity: Identity
) -> None:
    # Names of no Mutation field are no calls: a document full of them writes no entry each.
    bogus = " ".join(f"bogus{n}" for n in range(300))
    refused = await gql(f'mutation {{ {bogus} createCategory(input: {{nam: "x"}}) {{ category {{ id }} }} }}')
    assert set(refused.error_codes) == {"BAD_USER_INPUT"}
    async with runtime.db.session(ALL) as session:
        actions = set(await session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id.is_(None))))
    assert actions == {"createCategory"}
