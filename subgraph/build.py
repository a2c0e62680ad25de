"""The one place that assembles the federation subgraph schema."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any, Final

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    SchemaExtension,
)
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StreamResult
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult, Info
from strawberry.types.execution import PreExecutionError

from core.errors import BadUserInput
from core.settings import Settings, SubgraphName
from resolvers.federation import FederationQuery
from schema.audit import AuditedRefusals, audit_every_field
from schema.context import RequestContext
from schema.directives import describe_access
from schema.error_codes import ERROR_CODES
from schema.errors import ErrorPolicy, log_unexpected
from schema.money import SCALARS
from schema.nodes import NODE_TYPES, Entity
from services.platform.maintenance import MaintenanceGate
from subgraph.cost import QueryCost
from subgraph.groups import ALL, roots_of
from subgraph.lengths import limit_string_inputs
from subgraph.limits import CACHE_SIZE, BoundedValidation, CachedParse, Limits, ValidationResults, refusal
from subgraph.live import EventSharingExecutor
from subgraph.maintenance import MaintenanceCheck
from subgraph.split import GroupPlan
from subgraph.split_schema import only_the_groups_fields, plan_split, split_execution_schema
from subgraph.strings import CleanStrings

# Apollo Federation 2.14 composition accepts subgraphs linking federation up to this version.
FEDERATION_VERSION: Final = "2.11"

# Each domain contributes its root fields here, through its group's list (subgraph/groups.py).
QUERIES: Final = (FederationQuery, *roots_of("Query"))
MUTATIONS: Final = roots_of("Mutation")
SUBSCRIPTIONS: Final = roots_of("Subscription")
# Federation entities and Relay nodes (reachable through _entities and node): every Node type,
# registered by its module (schema/nodes.py:node_type), imported by subgraph/groups.py's resolvers.
ENTITIES: tuple[type[Entity], ...] = tuple(NODE_TYPES.values())


def _root(name: str, types: tuple[type, ...], description: str) -> type:
    root = merge_types(name, types)
    root.__strawberry_definition__.description = description  # type: ignore[attr-defined]
    return root


Query = _root(
    "Query",
    QUERIES,
    "Reads. Each field's description ends with who may call it (but federation's _entities and _service).",
)
Mutation = _root(
    "Mutation",
    MUTATIONS,
    "Changes. Business-rule failures come back as the payload's `userErrors`, not as errors; "
    "each field's description ends with who may call it.",
)
# Every mutation is audited (services/audit.py), a new one too, with nothing to write for it.
audit_every_field(Mutation)
Subscription = _root(
    "Subscription",
    SUBSCRIPTIONS,
    "Live events over a websocket (graphql-transport-ws); each ends when access to it ends.",
)


async def _refused(error: GraphQLError) -> AsyncGenerator[PreExecutionError, None]:
    yield PreExecutionError(data=None, errors=[error])


class Subgraph(strawberry.federation.Schema):
    def __init__(
        self, *args: Any, max_entities: int, limits: Limits, group: SubgraphName = ALL, **kwargs: Any
    ) -> None:
        self.max_entities = max_entities
        self.limits = limits
        self.group = group
        # A split subgraph's own SDL and its plan: fields, entities, stubs (None: the monolith).
        self.group_sdl: str | None = None
        self.group_plan: GroupPlan | None = None
        super().__init__(*args, **kwargs)
        limit_string_inputs(self._schema)
        describe_access(self._schema)
        if group != ALL:
            self._serve_only(group)

    def _serve_only(self, group: SubgraphName) -> None:
        """One domain group of the monolith (subgraph/groups.py), the same resolvers and extensions."""
        plans = plan_split(self._schema, super().as_str(), self.config.name_converter)
        plan, self.group_sdl = plans[group]
        self.group_plan = plan
        self._schema = split_execution_schema(self._schema, plan)
        self._schema._strawberry_schema = self  # type: ignore[attr-defined]

    def as_str(self) -> str:
        """The SDL (`_service { sdl }`): the monolith's, or the split subgraph's own."""
        return self.group_sdl if self.group_sdl is not None else super().as_str()

    # A document too long or that does not parse is answered before any extension runs, over
    # HTTP and over websockets (which stream); one that parses is in the cache CachedParse reads.
    async def execute(self, query: str | None, *args: Any, **kwargs: Any) -> ExecutionResult:
        if (error := refusal(query, self.limits)) is not None:
            return ExecutionResult(data=None, errors=[error])
        return await super().execute(query, *args, **kwargs)

    async def stream(self, query: str | None, *args: Any, **kwargs: Any) -> StreamResult:
        if (error := refusal(query, self.limits)) is not None:
            return _refused(error)
        return await super().stream(query, *args, **kwargs)

    def entities_resolver(self, info: Info, representations: list[FederationAny]) -> list[FederationAny]:
        """``_entities``, at most ``max_entities`` representations per request (all aliases together)."""
        context: RequestContext = info.context
        # A websocket context lives for the connection: there each operation counts on its own.
        so_far = 0 if context.is_websocket else context.entities_requested
        context.entities_requested = so_far + len(representations)
        if context.entities_requested > self.max_entities:
            raise BadUserInput(f"At most {self.max_entities} entity representations per request.")
        if self.group_plan is not None:
            foreign = sorted({str(r.get("__typename")) for r in representations} - self.group_plan.entities)  # type: ignore[attr-defined]
            if foreign:
                raise BadUserInput(f"Not an entity of the {self.group} subgraph: {', '.join(foreign)}.")
        return super().entities_resolver(info, representations)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # strawberry logs every error with a traceback, expected ones included (a NOT_FOUND, an
        # ended session): log only what is a bug or an outage.
        log_unexpected(errors)


def build_schema(
    settings: Settings,
    observers: Sequence[Callable[[], SchemaExtension]] = (),
    maintenance: MaintenanceGate | None = None,
    group: SubgraphName = ALL,
) -> strawberry.federation.Schema:
    """``observers`` (metrics, tracing) run first, so that they end last, after ErrorPolicy;
    with a ``maintenance`` gate, operations are refused while maintenance mode is on; a ``group``
    but "all" serves that domain group of the split deployment only (subgraph/groups.py)."""
    # The validation rules are made once: limiter extensions built per request would each create
    # new rule classes, and the validation cache (keyed by text and rules) would never hit.
    rules = [*DisableIntrospection().validation_rules] if settings.production else []
    limits = Limits(
        depth=settings.max_query_depth,
        aliases=settings.max_aliases,
        fragments=settings.max_fragments,
        directives=settings.max_directives_per_field,
        document_chars=settings.max_document_chars,
        tokens=settings.max_tokens,
        string_length=settings.max_string_length,
    )
    validated = ValidationResults(CACHE_SIZE)
    # Factories, not instances: an extension instance keeps per-operation state.
    extensions: list[Callable[[], SchemaExtension]] = [
        *observers,
        # Before ErrorPolicy: it ends after it, with the errors' codes given.
        AuditedRefusals,
        lambda: ErrorPolicy(production=settings.production),
        lambda: AddValidationRules(rules),
        lambda: QueryCost(maximum=settings.max_query_cost, show=not settings.production),
        lambda: CleanStrings(settings.max_string_length),
        # Repeated operations (the usual case) skip parsing and validation; both bounded.
        lambda: CachedParse(limits),
        lambda: BoundedValidation(limits, validated, hide_suggestions=settings.production),
    ]
    if maintenance is not None:
        gate = maintenance
        extensions.append(lambda: MaintenanceCheck(gate))
    schema = Subgraph(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[*ENTITIES, *ERROR_CODES],
        extensions=extensions,
        federation_version=FEDERATION_VERSION,
        max_entities=settings.max_entities,
        limits=limits,
        group=group,
        config=StrawberryConfig(
            disable_field_suggestions=settings.production,
            scalar_map=SCALARS,
            batching_config={"max_operations": settings.max_batch_operations},
        ),
        execution_context_class=EventSharingExecutor,
    )
    if schema.group_plan is not None:
        # Known once the monolith's schema is built; the extension above reads the same list.
        rules.append(only_the_groups_fields(schema.group_plan))
    return schema
