"""The audit log's types and inputs, and the field extension that audits every Mutation root field."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import Any, Self

import strawberry
from graphql import GraphQLError
from strawberry.extensions.field_extension import FieldExtension
from strawberry.relay import GlobalID
from strawberry.scalars import JSON
from strawberry.types import Info

from core.errors import ErrorCode, ServiceError
from models.audit import ActorKind, AuditOutcome
from models.audit import AuditEntry as AuditRow
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from services import audit

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
        try:
            decoded = GlobalID.from_id(value)
            return decoded.type_name, decoded.node_id
        except (ValueError, TypeError):
            pass
        try:
            uuid.UUID(value)
        except ValueError:
            continue
        typed = name.removesuffix("_id")
        return (typed.title().replace("_", "") if typed != "id" else None), value
    return None, None


_OUTCOME_OF_CODE: dict[str, AuditOutcome] = {
    ErrorCode.FORBIDDEN: AuditOutcome.FORBIDDEN,
    ErrorCode.UNAUTHENTICATED: AuditOutcome.UNAUTHENTICATED,
}


def _code_of(error: Exception) -> str:
    if isinstance(error, ServiceError):
        return str(error.code)
    if isinstance(error, GraphQLError):
        return str((error.extensions or {}).get("code", ErrorCode.INTERNAL_SERVER_ERROR))
    return str(ErrorCode.INTERNAL_SERVER_ERROR)


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
