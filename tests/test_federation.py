"""Federation: the subgraph SDL, and entity references resolved through batched, tenant-scoped loaders."""

from __future__ import annotations

import uuid
from typing import Any

from core.permissions import Role
from core.scope import TenantScope
from core.settings import Settings
from models.identity.accounts import User, UserRole
from server.runtime import Runtime
from subgraph.build import build_schema
from tests.support.graphql import GraphQLClient, StatementCounter, count_statements
from tests.support.identity import Account, Identity, global_id, quick_password_hash

ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on User { id email fullName roles tenant { slug } }
    ... on Tenant { id slug }
  }
}
"""


async def _add_users(runtime: Runtime, tenant_id: uuid.UUID, count: int, prefix: str) -> list[uuid.UUID]:
    """Users inserted directly (hashing a password per user would take seconds)."""
    ids = [uuid.uuid4() for _ in range(count)]
    async with runtime.db.transaction(TenantScope.of(tenant_id)) as session:
        session.add_all(
            User(
                id=user_id,
                tenant_id=tenant_id,
                email=f"{prefix}{n}@fed.example",
                full_name=f"{prefix.title()} {n}",
                password_hash=quick_password_hash(),
            )
            for n, user_id in enumerate(ids)
        )
        await session.flush()
        session.add_all(UserRole(tenant_id=tenant_id, user_id=user_id, role=Role.USER) for user_id in ids)
    return ids


def _sql(counter: StatementCounter) -> list[str]:
    """The statements of the request (the outbox dispatcher polls the same engine meanwhile)."""
    return [s for s in counter.statements if "outbox_events" not in s]


def _user_rep(user_id: uuid.UUID, **extra: Any) -> dict[str, Any]:
    return {"__typename": "User", "id": global_id("User", user_id), **extra}


async def _admin(identity: Identity) -> Account:
    return await identity.account("acme", Role.TENANT_ADMIN)


async def test_service_sdl(gql: GraphQLClient, settings: Settings) -> None:
    sdl = (await gql("{ _service { sdl } }")).ok()["_service"]["sdl"]
    assert '@link(url: "https://specs.apollo.dev/federation/v2.11"' in sdl
    assert 'type User implements Node @key(fields: "id")' in sdl
    assert 'type Tenant implements Node @key(fields: "id")' in sdl
    assert sdl == build_schema(settings).as_str()  # the gateway composes what schema.graphql holds


async def test_references_resolve(gql: GraphQLClient, identity: Identity, runtime: Runtime) -> None:
    admin = await _admin(identity)
    (other,) = await _add_users(runtime, admin.tenant_id, 1, "colleague")

    # Extra representation fields (a gateway sends what it has) are tolerated and ignored.
    result = await gql(
        ENTITIES,
        {"representations": [_user_rep(other, email="extra", unknownField={"a": 1})]},
        token=admin.token,
    )
    assert result.ok()["_entities"] == [
        {
            "__typename": "User",
            "id": global_id("User", other),
            "email": "colleague0@fed.example",
            "fullName": "Colleague 0",
            "roles": ["USER"],
            "tenant": {"slug": "acme"},
        }
    ]

    # The bare UUID works as well as the Relay global id.
    result = await gql(
        ENTITIES, {"representations": [{"__typename": "User", "id": str(admin.user_id)}]}, token=admin.token
    )
    (entity,) = result.ok()["_entities"]
    assert (entity["id"], entity["email"], entity["roles"]) == (admin.gid, admin.email, ["TENANT_ADMIN"])

    result = await gql(
        ENTITIES, {"representations": [{"__typename": "Tenant", "id": admin.tenant_gid}]}, token=admin.token
    )
    assert result.ok()["_entities"] == [{"__typename": "Tenant", "id": admin.tenant_gid, "slug": "acme"}]


async def test_references_are_batched(gql: GraphQLClient, identity: Identity, runtime: Runtime) -> None:
    admin = await _admin(identity)
    ids = await _add_users(runtime, admin.tenant_id, 3, "batch")
    await gql.warm(admin.token)

    with count_statements(runtime.db.engine) as one:
        single = await gql(ENTITIES, {"representations": [_user_rep(ids[0])]}, token=admin.token)
    with count_statements(runtime.db.engine) as three:
        several = await gql(ENTITIES, {"representations": [_user_rep(i) for i in ids]}, token=admin.token)

    assert [e["email"] for e in single.ok()["_entities"]] == ["batch0@fed.example"]
    assert [e["email"] for e in several.ok()["_entities"]] == [f"batch{n}@fed.example" for n in range(3)]
    # users batch + roles batch + tenants batch, whatever the number of references (the session's
    # access state is held in memory)
    assert len(_sql(one)) == len(_sql(three)) == 3, (_sql(one), _sql(three))


async def test_reference_to_another_tenant_is_not_found(
    gql: GraphQLClient, identity: Identity, runtime: Runtime
) -> None:
    admin = await _admin(identity)
    outsider = await identity.tenant("globex")
    (theirs,) = await _add_users(runtime, outsider.id, 1, "outsider")
    (ours,) = await _add_users(runtime, admin.tenant_id, 1, "insider")

    result = await gql(
        ENTITIES,
        {
            "representations": [
                _user_rep(theirs),
                _user_rep(ours),
                _user_rep(uuid.uuid4()),
                {"__typename": "Tenant", "id": global_id("Tenant", outsider.id)},
            ]
        },
        token=admin.token,
    )
    entities = result.data["_entities"]
    assert entities[0] is None and entities[2] is None and entities[3] is None
    assert entities[1]["email"] == "insider0@fed.example"
    by_path = {tuple(e["path"]): (e["extensions"]["code"], e["message"]) for e in result.errors}
    # Another tenant's user reads exactly like a user that does not exist.
    assert by_path == {
        ("_entities", 0): ("NOT_FOUND", "User not found."),
        ("_entities", 2): ("NOT_FOUND", "User not found."),
        ("_entities", 3): ("NOT_FOUND", "Tenant not found."),
    }


async def test_anonymous_reference_is_not_found(
    gql: GraphQLClient, identity: Identity, runtime: Runtime
) -> None:
    tenant = await identity.tenant("acme")
    (someone,) = await _add_users(runtime, tenant.id, 1, "someone")
    result = await gql(ENTITIES, {"representations": [_user_rep(someone)]})
    assert result.data == {"_entities": [None]}
    assert result.error_codes == ["NOT_FOUND"]


async def test_entities_are_capped_per_request(
    gql: GraphQLClient, identity: Identity, settings: Settings
) -> None:
    admin = await identity.account("acme", Role.TENANT_ADMIN)
    tenant = {"__typename": "Tenant", "id": admin.tenant_gid}
    at_cap = await gql(ENTITIES, {"representations": [tenant] * settings.max_entities}, token=admin.token)
    assert len(at_cap.ok()["_entities"]) == settings.max_entities

    over = await gql(ENTITIES, {"representations": [tenant] * (settings.max_entities + 1)}, token=admin.token)
    assert over.error_codes == ["BAD_USER_INPUT"], over.body
    assert "At most 100 entity representations" in over.errors[0]["message"]

    half = settings.max_entities // 2 + 1  # two aliases, each under the cap, over it together
    split = await gql(
        "query($r: [_Any!]!) { a: _entities(representations: $r) { __typename } "
        "b: _entities(representations: $r) { __typename } }",
        {"r": [tenant] * half},
        token=admin.token,
    )
    assert split.error_codes == ["BAD_USER_INPUT"], split.body
