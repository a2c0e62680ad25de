"""The one place that assembles the federation subgraph schema."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, Final

import strawberry
from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, Info

from core.errors import BadUserInput, ErrorCode
from core.settings import Settings
from resolvers.billing.roots import BillingMutation, BillingQuery
from resolvers.catalog import CatalogMutation, CatalogQuery
from resolvers.federation import FederationQuery
from resolvers.identity import IdentityMutation, IdentityQuery, IdentitySubscription
from resolvers.nodes import NodeQuery
from resolvers.orders import OrderMutation, OrderQuery, OrderSubscription
from schema.billing.invoices import Invoice, Payment, Refund
from schema.billing.payments import PaymentMethod
from schema.billing.plans import BillingSubscription, Plan
from schema.catalog import Brand, Category, Product, Review
from schema.context import RequestContext
from schema.errors import ErrorPolicy, log_unexpected
from schema.identity import Tenant, User
from schema.money import SCALARS
from schema.orders import Order
from services.billing.errors import BillingErrorCode
from services.catalog.errors import CatalogErrorCode
from services.identity.errors import IdentityErrorCode
from services.money import MoneyErrorCode
from services.orders.errors import OrderErrorCode
from subgraph.limits import limits_rule
from subgraph.live import EventSharingExecutor
from subgraph.strings import CleanStrings

# Apollo Federation 2.14 composition accepts subgraphs linking federation up to this version.
FEDERATION_VERSION: Final = "2.11"
OPERATION_CACHE_SIZE = 512

# Each domain contributes its root fields here.
QUERIES: tuple[type, ...] = (
    FederationQuery,
    NodeQuery,
    IdentityQuery,
    CatalogQuery,
    OrderQuery,
    BillingQuery,
)
MUTATIONS: tuple[type, ...] = (IdentityMutation, CatalogMutation, OrderMutation, BillingMutation)
SUBSCRIPTIONS: tuple[type, ...] = (IdentitySubscription, OrderSubscription)
# Federation entities and Relay nodes (reachable through _entities and node).
ENTITIES: list[type] = [User, Tenant, Product, Category, Brand, Review, Order]
ENTITIES += [Invoice, Payment, Refund, PaymentMethod, Plan, BillingSubscription]
# Error codes: the top-level ones and each domain's userError codes (printed in the SDL although
# UserError.code stays a String, so that adding a code never breaks a client).
ERROR_CODES: list[type] = [
    ErrorCode,
    MoneyErrorCode,
    IdentityErrorCode,
    CatalogErrorCode,
    OrderErrorCode,
    BillingErrorCode,
]

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS)
Subscription = merge_types("Subscription", SUBSCRIPTIONS)


# Longer documents are parsed each time: the cache must not hold a megabyte per entry.
MAX_CACHED_DOCUMENT_CHARS = 20_000


@lru_cache(maxsize=OPERATION_CACHE_SIZE)
def parse_cached(query: str, options: tuple[tuple[str, Any], ...]) -> DocumentNode:
    return parse(query, **dict(options))


class CachedParse(SchemaExtension):
    """Parses each distinct document once. A document that does not parse is left to strawberry,
    which parses it again and reports the syntax error like any other (with extensions.code;
    strawberry's own ParserCache raises it past the extensions, which loses the code)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if query and len(query) <= MAX_CACHED_DOCUMENT_CHARS:
            with contextlib.suppress(GraphQLError):
                context.graphql_document = parse_cached(query, tuple(sorted(context.parse_options.items())))
        yield


class Subgraph(strawberry.federation.Schema):
    def __init__(self, *args: Any, max_entities: int, **kwargs: Any) -> None:
        self.max_entities = max_entities
        super().__init__(*args, **kwargs)

    def entities_resolver(self, info: Info, representations: list[FederationAny]) -> list[FederationAny]:
        """``_entities``, at most ``max_entities`` representations per request (all aliases together)."""
        context: RequestContext = info.context
        # A websocket context lives for the connection: there each operation counts on its own.
        so_far = 0 if context.is_websocket else context.entities_requested
        context.entities_requested = so_far + len(representations)
        if context.entities_requested > self.max_entities:
            raise BadUserInput(f"At most {self.max_entities} entity representations per request.")
        return super().entities_resolver(info, representations)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # strawberry logs every error with a traceback, expected ones included (a NOT_FOUND, an
        # ended session): log only what is a bug or an outage.
        log_unexpected(errors)


def build_schema(settings: Settings) -> strawberry.federation.Schema:
    # The validation rules are made once: limiter extensions built per request would each create
    # new rule classes, and the validation cache (keyed by document and rules) would never hit.
    rules = [
        limits_rule(max_depth=settings.max_query_depth, max_aliases=settings.max_aliases),
        *(DisableIntrospection().validation_rules if settings.production else []),
    ]
    # Factories, not instances: an extension instance keeps per-operation state.
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: ErrorPolicy(production=settings.production),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: AddValidationRules(rules),
        CleanStrings,
        # Repeated operations (the usual case) skip parsing and validation; both bounded.
        CachedParse,
        lambda: ValidationCache(maxsize=OPERATION_CACHE_SIZE),
    ]
    return Subgraph(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[*ENTITIES, *ERROR_CODES],
        extensions=extensions,
        federation_version=FEDERATION_VERSION,
        max_entities=settings.max_entities,
        config=StrawberryConfig(disable_field_suggestions=settings.production, scalar_map=SCALARS),
        execution_context_class=EventSharingExecutor,
    )
