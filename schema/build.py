"""The one place that assembles the federation subgraph schema."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from resolvers.identity import IdentityMutation, IdentityQuery, IdentitySubscription
from resolvers.nodes import NodeQuery
from schema.errors import ErrorPolicy
from schema.identity import Tenant, User
from server.settings import Settings

# Apollo Federation 2.14 composition accepts subgraphs linking federation up to this version.
FEDERATION_VERSION = "2.11"

# Each domain contributes its root fields here.
QUERIES: tuple[type, ...] = (NodeQuery, IdentityQuery)
MUTATIONS: tuple[type, ...] = (IdentityMutation,)
SUBSCRIPTIONS: tuple[type, ...] = (IdentitySubscription,)
# Federation entities and Relay nodes (reachable through _entities and node).
ENTITIES: list[type] = [User, Tenant]

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS)
Subscription = merge_types("Subscription", SUBSCRIPTIONS)


def build_schema(settings: Settings) -> strawberry.federation.Schema:
    # Factories, not instances: an extension instance keeps per-operation state.
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: ErrorPolicy(production=settings.production),
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
    ]
    if settings.production:
        extensions.append(DisableIntrospection)
    return strawberry.federation.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=ENTITIES,
        extensions=extensions,
        federation_version=FEDERATION_VERSION,
        config=StrawberryConfig(disable_field_suggestions=settings.production),
    )
