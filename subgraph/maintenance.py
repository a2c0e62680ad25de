"""Maintenance mode in GraphQL: while it is on (services/platform/maintenance.py), an operation
of anyone but a platform admin is refused with SERVICE_UNAVAILABLE before it runs, over HTTP
and over websockets, unless every root field it asks for is one of ``ALWAYS_ANSWERED`` (signing
in, so that an admin can; reading the mode itself; introspection and federation's SDL)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import FieldNode, GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from core.errors import ErrorCode
from services.platform.maintenance import MaintenanceGate
from subgraph.cost import find_operation

ALWAYS_ANSWERED = frozenset(
    {
        "login",
        "refreshToken",
        "maintenanceMode",
        "activeAnnouncements",
        "__typename",
        "__schema",
        "__type",
        "_service",
    }
)


def _only_always_answered(operation: OperationDefinitionNode) -> bool:
    selections = operation.selection_set.selections
    return all(isinstance(s, FieldNode) and s.name.value in ALWAYS_ANSWERED for s in selections)


class MaintenanceCheck(SchemaExtension):
    def __init__(self, gate: MaintenanceGate) -> None:
        self.gate = gate

    async def on_execute(self) -> AsyncIterator[None]:
        status = await self.gate.current()
        if status.enabled:
            context = self.execution_context
            principal = getattr(context.context, "principal", None)
            document = context.graphql_document
            operation = find_operation(document, context.operation_name) if document else None
            admin = principal is not None and principal.is_platform_admin
            if not admin and (operation is None or not _only_always_answered(operation)):
                raise GraphQLError(
                    status.message, extensions={"code": ErrorCode.SERVICE_UNAVAILABLE, "maintenance": True}
                )
        yield
