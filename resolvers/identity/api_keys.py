"""Root fields of API keys and service clients."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.permissions import PLATFORM_ADMINS
from models.identity import api_keys as models
from schema.directives import AUTHENTICATED, HasRole, access
from schema.errors import mutation_payload
from schema.identity.api_keys import (
    ApiKey,
    ApiKeyFilterInput,
    ApiKeyPayload,
    CreateApiKeyInput,
    CreateApiKeyPayload,
    CreateServiceClientInput,
    CreateServiceClientPayload,
    DeleteServiceClientInput,
    DeleteServiceClientPayload,
    RevokeApiKeyInput,
    RevokeServiceClientInput,
    ServiceClient,
    ServiceClientPayload,
)
from schema.nodes import optional_reference, parse_uuid
from schema.pagination import FILTER, After, Before, Connection, First, Last, connection, page_args
from services.identity import api_keys, service_clients
from services.identity.api_keys import NewApiKey

PLATFORM_ADMIN = HasRole(*PLATFORM_ADMINS)


def _api_key_payload(key: models.ApiKey) -> ApiKeyPayload:
    return ApiKeyPayload(api_key=ApiKey.from_model(key))


def _client_payload(client: models.ServiceClient) -> ServiceClientPayload:
    return ServiceClientPayload(service_client=ServiceClient.from_model(client))


@strawberry.type
class ApiKeyQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="API keys, newest first: your own; TENANT_ADMIN sees every key of the tenant.",
    )
    async def api_keys(
        self,
        info: Info,
        filter: Annotated[ApiKeyFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ApiKey]:
        f = filter or ApiKeyFilterInput()
        page = await api_keys.list_api_keys(
            info.context.services,
            optional_reference(f.user_id, "User"),
            f.include_revoked,
            page_args(first, after, last, before),
        )
        return connection(page, ApiKey.from_model)

    @strawberry.field(extensions=access(PLATFORM_ADMIN), description="Service clients, newest first.")
    async def service_clients(
        self,
        info: Info,
        include_revoked: Annotated[bool, strawberry.argument(description="Revoked clients too.")] = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ServiceClient]:
        page = await service_clients.list_service_clients(
            info.context.services, include_revoked, page_args(first, after, last, before)
        )
        return connection(page, ServiceClient.from_model)


@strawberry.type
class ApiKeyMutation:
    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Create an API key of your own account; its secret is in the answer, only this once.",
    )
    async def create_api_key(
        self,
        info: Info,
        input: Annotated[CreateApiKeyInput, strawberry.argument(description="Name, scopes and limits.")],
    ) -> CreateApiKeyPayload:
        call = api_keys.create_api_key(
            info.context.services,
            NewApiKey(
                name=input.name,
                scopes=tuple(input.scopes),
                environment=input.environment,
                allowed_ips=tuple(input.allowed_ips),
                rate_limit_per_minute=input.rate_limit_per_minute,
                expires_at=input.expires_at,
            ),
        )
        return await mutation_payload(
            CreateApiKeyPayload,
            call,
            lambda made: CreateApiKeyPayload(api_key=ApiKey.from_model(made[0]), secret=made[1]),
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="Revoke one of your API keys (TENANT_ADMIN: any of the tenant's); refused from the "
        "next request on.",
    )
    async def revoke_api_key(
        self,
        info: Info,
        input: Annotated[RevokeApiKeyInput, strawberry.argument(description="The key and why.")],
    ) -> ApiKeyPayload:
        call = api_keys.revoke_api_key(info.context.services, parse_uuid(input.id, "ApiKey"), input.reason)
        return await mutation_payload(ApiKeyPayload, call, _api_key_payload)

    @strawberry.mutation(
        extensions=access(PLATFORM_ADMIN),
        description="Create a service client (OAuth2 client credentials); its secret is in the answer, "
        "only this once.",
    )
    async def create_service_client(
        self,
        info: Info,
        input: Annotated[CreateServiceClientInput, strawberry.argument(description="Name and scopes.")],
    ) -> CreateServiceClientPayload:
        call = service_clients.create_service_client(info.context.services, input.name, tuple(input.scopes))
        return await mutation_payload(
            CreateServiceClientPayload,
            call,
            lambda made: CreateServiceClientPayload(
                service_client=ServiceClient.from_model(made[0]), client_secret=made[1]
            ),
        )

    @strawberry.mutation(
        extensions=access(PLATFORM_ADMIN),
        description="Revoke a service client: no new tokens, and its tokens are refused from the next "
        "request on.",
    )
    async def revoke_service_client(
        self,
        info: Info,
        input: Annotated[RevokeServiceClientInput, strawberry.argument(description="The client and why.")],
    ) -> ServiceClientPayload:
        call = service_clients.revoke_service_client(
            info.context.services, parse_uuid(input.id, "ServiceClient"), input.reason
        )
        return await mutation_payload(ServiceClientPayload, call, _client_payload)

    @strawberry.mutation(
        extensions=access(PLATFORM_ADMIN), description="Delete a service client for good (its tokens too)."
    )
    async def delete_service_client(
        self,
        info: Info,
        input: Annotated[DeleteServiceClientInput, strawberry.argument(description="The client.")],
    ) -> DeleteServiceClientPayload:
        call = service_clients.delete_service_client(
            info.context.services, parse_uuid(input.id, "ServiceClient")
        )
        return await mutation_payload(
            DeleteServiceClientPayload,
            call,
            lambda deleted: DeleteServiceClientPayload(
                deleted_id=relay.GlobalID("ServiceClient", str(deleted))
            ),
        )
