"""The audit log's types and inputs, and the field extension that audits every Mutation root field."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Self

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
)
from strawberry.extensions import SchemaExtension
from strawberry.extensions.field_extension import FieldExtension
from strawberry.relay import GlobalID
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry.types.base import StrawberryOptional

from core.errors import ErrorCode, ServiceError
from models.audit import ActorKind, AuditOutcome
from models.audit import AuditEntry as AuditRow
from schema.enums import documented_enum
from schema.errors import UserError, is_unexpected, user_errors_field
from schema.pagination import After, Before, Connection, First, Last, connection, page_args
from services import audit
from services.identity import security_events

documented_enum(
    AuditOutcome,
    "How an audited call ended.",
    {
        AuditOutcome.SUCCESS: "It did what was asked.",
        AuditOutcome.USER_ERROR: "It answered userErrors (their codes in `userErrorCodes`); nothing changed.",
        AuditOutcome.FORBIDDEN: "The caller was not allowed to make it.",
        AuditOutcome.UNAUTHENTICATED: "The caller was not signed in (or the credentials were bad).",
        AuditOutcome.ERROR: "It failed otherwise (the code in `errorCode`); nothing changed.",
    },
)
documented_enum(
    ActorKind,
    "Who made an audited call.",
    {
        ActorKind.ANONYMOUS: "Nobody signed in.",
        ActorKind.USER: "A user's sign-in session (`actorId` is the user).",
        ActorKind.API_KEY: "A user's API key (`actorId` is the user, `apiKeyId` the key).",
        ActorKind.SERVICE: "A service client (`actorId` is the client).",
    },
)


@strawberry.type(name="AuditEntry", description="One audited call: a mutation or a REST shim request.")
class AuditEntry:
    id: strawberry.ID = strawberry.field(description="The entry's id.")
    tenant_id: strawberry.ID | None = strawberry.field(
        description="The tenant it happened in (a UUID); null for a call that named none."
    )
    created_at: datetime = strawberry.field(description="When it happened (UTC).")
    actor_kind: ActorKind = strawberry.field(description="Who made it.")
    actor_id: strawberry.ID | None = strawberry.field(description="The user or service client (a UUID).")
    api_key_id: strawberry.ID | None = strawberry.field(description="The API key it was made with.")
    impersonator_id: strawberry.ID | None = strawberry.field(
        description="The platform admin impersonating the actor (impersonateUser), if any."
    )
    action: str = strawberry.field(
        description="The mutation's name (e.g. `createProduct`) or the REST call (`rest:POST /oauth/token`)."
    )
    target_type: str | None = strawberry.field(description="The type of what it acted on, e.g. `Product`.")
    target_id: str | None = strawberry.field(description="The id of what it acted on (as the input gave it).")
    outcome: AuditOutcome = strawberry.field(description="How it ended.")
    error_code: str | None = strawberry.field(description="The error's extensions.code, for a failure.")
    user_error_codes: list[str] = strawberry.field(description="The userErrors' codes, for USER_ERROR.")
    client_ip: str | None = strawberry.field(description="The caller's IP address.")
    user_agent: str | None = strawberry.field(description="The caller's User-Agent.")
    correlation_id: str | None = strawberry.field(description="The request's X-Correlation-Id.")
    details: JSON | None = strawberry.field(description="What a service principal's entry adds.")

    @classmethod
    def from_model(cls, row: AuditRow) -> Self:
        def text(value: uuid.UUID | None) -> strawberry.ID | None:
            return None if value is None else strawberry.ID(str(value))

        return cls(
            id=strawberry.ID(str(row.id)),
            tenant_id=text(row.tenant_id),
            created_at=row.created_at,
            actor_kind=row.actor_kind,
            actor_id=text(row.actor_id),
            api_key_id=text(row.api_key_id),
            impersonator_id=text(row.impersonator_id),
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            outcome=row.outcome,
            error_code=row.error_code,
            user_error_codes=list(row.user_error_codes or ()),
            client_ip=row.client_ip,
            user_agent=row.user_agent,
            correlation_id=row.correlation_id,
            details=row.details,  # type: ignore[arg-type]
        )


@strawberry.input(name="AuditLogFilterInput", description="Which audit entries to list; all given must hold.")
class AuditLogFilterInput:
    actor: strawberry.ID | None = strawberry.field(default=None, description="The actor's id (a UUID).")
    action: str | None = strawberry.field(default=None, description="The action, exactly.")
    target_type: str | None = strawberry.field(default=None, description="The target's type, exactly.")
    target_id: str | None = strawberry.field(default=None, description="The target's id, exactly.")
    outcome: AuditOutcome | None = strawberry.field(default=None, description="How it ended.")
    from_: datetime | None = strawberry.field(default=None, name="from", description="At or after this time.")
    to: datetime | None = strawberry.field(default=None, description="Before this time.")
    tenant_id: strawberry.ID | None = strawberry.field(
        default=None, description="One tenant (a UUID): platform admins only; others see their own."
    )


@strawberry.input(name="RecordAuditEntryInput", description="An entry a service principal appends.")
class RecordAuditEntryInput:
    tenant_id: strawberry.ID = strawberry.field(description="The tenant it happened in (a UUID).")
    action: str = strawberry.field(
        description="What happened, e.g. `provisioning:started` (1-200 characters)."
    )
    target_type: str | None = strawberry.field(default=None, description="What it acted on: the type.")
    target_id: str | None = strawberry.field(default=None, description="What it acted on: the id.")
    actor_id: strawberry.ID | None = strawberry.field(
        default=None, description="The user who made it (a UUID); the service itself when omitted."
    )
    outcome: AuditOutcome = strawberry.field(default=AuditOutcome.SUCCESS, description="How it ended.")
    details: JSON | None = strawberry.field(default=None, description="A JSON object of further facts.")


@strawberry.type(name="RecordAuditEntryPayload", description="The result of recordAuditEntry.")
class RecordAuditEntryPayload:
    entry: AuditEntry | None = strawberry.field(default=None, description="The entry appended.")
    user_errors: list[UserError] = user_errors_field()


# Where a mutation names what it acts on: these argument or input field names, in this order.
_TARGET_NAMES = ("id",)


def _named_ids(kwargs: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for name, value in kwargs.items():
        yield name, value
    for value in kwargs.values():
        fields = getattr(value, "__dataclass_fields__", None)
        if fields is not None:
            for name in fields:
                yield name, getattr(value, name)


def target_of(kwargs: dict[str, Any]) -> tuple[str | None, str | None]:
    """(type, id) of the first id the arguments give: `id`, else a `...Id` one; a global id says its
    type, a bare UUID is typed by its name (`userId`: User)."""
    named = [(n, v) for n, v in _named_ids(kwargs) if isinstance(v, str | GlobalID) and v]
    ordered = [p for p in named if p[0] in _TARGET_NAMES] + [p for p in named if p[0].endswith("_id")]
    for name, value in ordered:
        if isinstance(value, GlobalID):
            return value.type_name, value.node_id
        if (decoded := _global_id(value)) is not None:
            return decoded.type_name, decoded.node_id
        if _is_uuid(value):
            typed = name.removesuffix("_id")
            return (typed.title().replace("_", "") if typed != "id" else None), value
    return None, None


def _global_id(value: str) -> GlobalID | None:
    try:
        return GlobalID.from_id(value)
    except (ValueError, TypeError):
        return None


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _unwrapped(kind: Any) -> Any:
    while isinstance(kind, StrawberryOptional):
        kind = kind.of_type
    return kind


def created_type(payload: Any) -> str | None:
    """The GraphQL name of the one entity (a type with an `id`) a mutation's payload returns:
    a create call's new row is of the model class of that name."""
    definition = getattr(_unwrapped(payload), "__strawberry_definition__", None)
    for payload_field in definition.fields if definition is not None else ():
        inner = getattr(_unwrapped(payload_field.type), "__strawberry_definition__", None)
        if (
            inner is not None
            and not inner.is_input
            and any((f.graphql_name or f.python_name) == "id" for f in inner.fields)
        ):
            return str(inner.name)
    return None


_OUTCOME_OF_CODE: dict[str, AuditOutcome] = {
    ErrorCode.FORBIDDEN: AuditOutcome.FORBIDDEN,
    ErrorCode.UNAUTHENTICATED: AuditOutcome.UNAUTHENTICATED,
}


def _code_of(error: Exception) -> str:
    if isinstance(error, ServiceError):
        return str(error.code)
    if isinstance(error, GraphQLError):
        if isinstance(error.original_error, ServiceError):
            return str(error.original_error.code)
        # A validation or variable error (schema/errors.py ErrorPolicy): the request is at fault.
        fallback = ErrorCode.INTERNAL_SERVER_ERROR if is_unexpected(error) else ErrorCode.BAD_USER_INPUT
        return str((error.extensions or {}).get("code", fallback))
    return str(ErrorCode.INTERNAL_SERVER_ERROR)


# The Mutation root fields that ran in this operation (AuditedRefusals watches them).
_fields_ran: ContextVar[list[str] | None] = ContextVar("audited_fields_ran", default=None)


def _root_fields(document: DocumentNode | None, operation_name: str | None) -> list[str]:
    """The Mutation root fields an operation of ``document`` selects (fragments followed)."""
    if document is None:
        return []
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        and (operation_name is None or (d.name is not None and d.name.value == operation_name))
    ]
    if len(operations) != 1 or operations[0].operation is not OperationType.MUTATION:
        return []
    names: list[str] = []
    pending = list(operations[0].selection_set.selections)
    seen: set[str] = set()
    while pending:
        node = pending.pop(0)
        if isinstance(node, FieldNode):
            if node.name.value not in names:
                names.append(node.name.value)
        elif isinstance(node, InlineFragmentNode):
            pending.extend(node.selection_set.selections)
        elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments.keys() - seen:
            seen.add(node.name.value)
            pending.extend(fragments[node.name.value].selection_set.selections)
    return [name for name in names if not name.startswith("__")]


class AuditedRefusals(SchemaExtension):
    """A mutation refused before any of its fields ran (the document failed validation or a
    limit, the cost limit included; its variables did not coerce): one ERROR entry per root field
    it names."""

    async def on_operation(self) -> AsyncIterator[None]:
        ran: list[str] = []
        # Set, never reset: each operation runs in a task (a context) of its own, and a
        # subscription's stream is closed from another context, where a reset would fail.
        _fields_ran.set(ran)
        try:
            yield
        except GraphQLError as refusal:  # a limit at the start of execution (the cost limit)
            await self._record(ran, [refusal])
            raise
        await self._record(ran, self.execution_context.pre_execution_errors or [])

    async def _record(self, ran: list[str], errors: list[GraphQLError]) -> None:
        context = self.execution_context
        if ran or not errors:
            return
        services = getattr(context.context, "services", None)
        if services is None:
            return
        code = _code_of(errors[0])
        # Only the schema's mutations: a document of made-up names would write an entry per name.
        mutation = context.schema._schema.mutation_type
        known = mutation.fields if mutation is not None else {}
        for name in _root_fields(context.graphql_document, context.operation_name):
            if name in known:
                draft = audit.AuditDraft(name, principal=services.principal)
                outcome = _OUTCOME_OF_CODE.get(code, AuditOutcome.ERROR)
                await audit.finish(services, draft, outcome, error_code=code)


class AuditedMutation(FieldExtension):
    """Every Mutation root field (subgraph/build.py adds it to each): its entry goes into the
    first transaction that commits (services/context.py), or, when none did or the call failed,
    into one of its own. Outermost, so that refusals by the access directives are recorded too."""

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        services = info.context.services
        target_type, target_id = target_of(kwargs)
        draft = audit.AuditDraft(info.field_name, target_type, target_id, principal=services.principal)
        if target_id is None:
            draft.creates = created_type(info.return_type)
        ran = _fields_ran.get()
        if ran is not None:
            ran.append(info.field_name)
        with audit.auditing(draft):
            try:
                result = await next_(source, info, **kwargs)
            except Exception as error:
                code = _code_of(error)
                outcome = _OUTCOME_OF_CODE.get(code, AuditOutcome.ERROR)
                await audit.finish(services, draft, outcome, error_code=code)
                raise
            codes = [str(e.code) for e in getattr(result, "user_errors", None) or ()]
            outcome = AuditOutcome.USER_ERROR if codes else AuditOutcome.SUCCESS
            await audit.finish(services, draft, outcome, user_error_codes=codes)
        return result


def audit_every_field(root: type) -> None:
    """Adds AuditedMutation (last: outermost) to each field of the Mutation root, once."""
    for field in root.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        if not any(isinstance(e, AuditedMutation) for e in field.extensions):
            field.extensions.append(AuditedMutation())


def _own_feed(security: bool) -> Callable[..., Awaitable[Connection[AuditEntry]]]:
    async def feed(
        root: Any,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[AuditEntry]:
        services = info.context.services
        page = await security_events.my_activity(
            services.read,
            services.principal,
            uuid.UUID(str(root.user_id)),
            page_args(first, after, last, before),
            security=security,
        )
        return connection(page, AuditEntry.from_model)

    return feed


# User fields (schema/identity/accounts.py): a user's own audit entries, for that user only.
recent_activity = _own_feed(security=False)
my_security_events = _own_feed(security=True)
