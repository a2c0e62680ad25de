"""API keys and service clients: their types (Relay nodes), inputs and payloads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.scopes import known_scopes
from models.base import utcnow
from models.identity import api_keys as models
from models.identity.api_keys import ApiKeyEnvironment
from schema.directives import ApiScope  # registered there as an enum
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from schema.identity.accounts import User
from schema.money import BigInt
from schema.nodes import Entity, node_or_none, node_type, parse_uuid
from services.identity import api_keys, service_clients

documented_enum(
    ApiKeyEnvironment,
    "Which secret prefix an API key has, so that test and live traffic are told apart at a glance.",
    {
        ApiKeyEnvironment.LIVE: "A production key: its secret starts with tg_live_.",
        ApiKeyEnvironment.TEST: "A key for testing and development: its secret starts with tg_test_.",
    },
)


def _scopes(names: list[str]) -> list[ApiScope]:
    return sorted(known_scopes(names), key=lambda scope: scope.value)


@node_type
@strawberry.federation.type(
    keys=["id"],
    name="ApiKey",
    description="A user's API key: it acts as the user (their roles, in their tenant), limited to its "
    "scopes. Send it as `Authorization: Bearer tg_...` or `X-API-Key: tg_...`.",
)
class ApiKey(Entity):
    api_key_id: relay.NodeID[str]
    name: str = strawberry.field(description="What the key is for, as its owner named it.")
    environment: ApiKeyEnvironment = strawberry.field(description="LIVE or TEST (the secret's prefix).")
    key_prefix: str = strawberry.field(description="The secret's first characters, e.g. tg_live_Ab3dE6.")
    last_four: str = strawberry.field(description="The secret's last four characters.")
    scopes: list[ApiScope] = strawberry.field(description="What the key may reach (@hasScope).")
    allowed_ips: list[str] = strawberry.field(
        description="The networks (CIDR) requests with the key must come from; empty: any address."
    )
    rate_limit_per_minute: int = strawberry.field(description="Requests the key may make per minute.")
    expires_at: datetime | None = strawberry.field(description="When the key stops working; null: never.")
    last_used_at: datetime | None = strawberry.field(
        description="When the key was last used (UTC), written every few seconds, not per request."
    )
    usage_count: BigInt = strawberry.field(description="Requests made with the key (as last written).")
    created_at: datetime = strawberry.field(description="When the key was created (UTC).")
    revoked_at: datetime | None = strawberry.field(description="When the key was revoked; null while active.")
    revoke_reason: str | None = strawberry.field(description="Why it was revoked, as given.")
    owner_uuid: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, key: models.ApiKey) -> Self:
        return cls(
            api_key_id=str(key.id),
            name=key.name,
            environment=key.environment,
            key_prefix=key.key_prefix,
            last_four=key.last_four,
            scopes=_scopes(key.scopes),
            allowed_ips=list(key.allowed_ips),
            rate_limit_per_minute=key.rate_limit_per_minute,
            expires_at=key.expires_at,
            last_used_at=key.last_used_at,
            usage_count=BigInt(key.usage_count),
            created_at=key.created_at,
            revoked_at=key.revoked_at,
            revoke_reason=key.revoke_reason,
            owner_uuid=key.user_id,
        )

    @strawberry.field(description="Whether the key works now: not revoked and not expired.")
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > utcnow())

    @strawberry.field(description="The user the key acts as (null when out of your reach).")
    async def owner(self, info: Info) -> User | None:
        return await node_or_none(User, info, self.owner_uuid)

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        ids = [parse_uuid(node_id, "ApiKey") for node_id in node_ids]
        found = await api_keys.visible_api_keys(info.context.services, ids)
        return [cls.from_model(found[i]) if i in found else None for i in ids]


@node_type
@strawberry.federation.type(
    keys=["id"],
    name="ServiceClient",
    description="An OAuth2 client of the platform's services and partners: it trades its client_id "
    "and secret at POST /oauth/token (client credentials) for a service token holding its scopes.",
)
class ServiceClient(Entity):
    service_client_id: relay.NodeID[str]
    client_id: str = strawberry.field(description="The public OAuth2 client_id (tgc_...).")
    name: str = strawberry.field(description="Who or what the client is.")
    scopes: list[ApiScope] = strawberry.field(description="What its tokens may reach.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    last_token_at: datetime | None = strawberry.field(description="When it last obtained a token.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked; null while active.")
    revoke_reason: str | None = strawberry.field(description="Why it was revoked, as given.")

    @classmethod
    def from_model(cls, client: models.ServiceClient) -> Self:
        return cls(
            service_client_id=str(client.id),
            client_id=client.client_id,
            name=client.name,
            scopes=_scopes(client.scopes),
            created_at=client.created_at,
            last_token_at=client.last_token_at,
            revoked_at=client.revoked_at,
            revoke_reason=client.revoke_reason,
        )

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        ids = [parse_uuid(node_id, "ServiceClient") for node_id in node_ids]
        found = await service_clients.visible_service_clients(info.context.services, ids)
        return [cls.from_model(found[i]) if i in found else None for i in ids]


@strawberry.input(description="A new API key of your own account.")
class CreateApiKeyInput:
    name: str = strawberry.field(description="What the key is for.")
    scopes: list[ApiScope] = strawberry.field(description="What it may reach; at least one.")
    environment: ApiKeyEnvironment = strawberry.field(
        default=ApiKeyEnvironment.LIVE, description="LIVE (tg_live_) or TEST (tg_test_)."
    )
    allowed_ips: list[str] = strawberry.field(
        default_factory=list,
        description="IPv4/IPv6 addresses or CIDR networks the key may be used from; empty: any.",
    )
    rate_limit_per_minute: int | None = strawberry.field(
        default=None, description="Requests per minute (1 to 100000); the server's default when null."
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the key stops working (in the future); null: never."
    )


@strawberry.type(description="A new API key and its secret, shown this once; or userErrors.")
class CreateApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(default=None, description="The new key.")
    secret: str | None = strawberry.field(
        default=None, description="The whole secret: shown only now, stored only as a hash. Keep it safe."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="An API key to revoke.")
class RevokeApiKeyInput:
    id: relay.GlobalID = strawberry.field(description="The key's global id.")
    reason: str | None = strawberry.field(default=None, description="Why, for the record.")


@strawberry.type(description="The API key after the change, or userErrors.")
class ApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(default=None, description="The key as it is now.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="Which API keys to list.")
class ApiKeyFilterInput:
    user_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this user's keys (tenant admins; others see only their own)."
    )
    include_revoked: bool = strawberry.field(default=False, description="Revoked keys too.")


@strawberry.input(description="A new service client.")
class CreateServiceClientInput:
    name: str = strawberry.field(description="Who or what the client is.")
    scopes: list[ApiScope] = strawberry.field(description="What its tokens may reach; at least one.")


@strawberry.type(description="A new service client and its secret, shown this once; or userErrors.")
class CreateServiceClientPayload:
    service_client: ServiceClient | None = strawberry.field(default=None, description="The new client.")
    client_secret: str | None = strawberry.field(
        default=None, description="The client_secret: shown only now, stored only as a hash."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="A service client to revoke.")
class RevokeServiceClientInput:
    id: relay.GlobalID = strawberry.field(description="The client's global id.")
    reason: str | None = strawberry.field(default=None, description="Why, for the record.")


@strawberry.input(description="A service client to delete.")
class DeleteServiceClientInput:
    id: relay.GlobalID = strawberry.field(description="The client's global id.")


@strawberry.type(description="The service client after the change, or userErrors.")
class ServiceClientPayload:
    service_client: ServiceClient | None = strawberry.field(default=None, description="The client now.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="Which service client was deleted, or userErrors.")
class DeleteServiceClientPayload:
    deleted_id: relay.GlobalID | None = strawberry.field(default=None, description="The deleted client's id.")
    user_errors: list[UserError] = user_errors_field()
