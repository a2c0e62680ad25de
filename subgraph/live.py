"""Subscription events executed once per kind of viewer, not once per subscriber.

graphql-core executes a subscription's selection set for every subscriber and event: with 1,000
dashboards on one event that was most of the fan-out's CPU. When the payload is shared
(schema/live.py), the first subscriber of a document executes it with a principal that notes
what is read of it; if nothing but its roles and tenants was read, the result is exactly what any
subscriber with the same roles and tenants gets for the same document and variables, and they
reuse it. If the execution read who the viewer is (the user or session id: "is this mine?"), each
subscriber executes its own. Sound by construction: every decision a resolver takes about the
viewer goes through the principal's attributes, and they are observed, not guessed."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Hashable
from typing import Any, cast

from graphql import ExecutionResult
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from core.principal import Principal
from schema.context import RequestContext
from schema.live import Shared, SharedPayload

# What tells one viewer from another with the same roles and tenants.
_IDENTITY = frozenset({"user_id", "session_id"})


class ObservedPrincipal(Principal):
    """A principal that notes whether its identity was read."""

    identity_read: bool

    @classmethod
    def of(cls, principal: Principal) -> ObservedPrincipal:
        observed = cls(**{f.name: getattr(principal, f.name) for f in dataclasses.fields(principal)})
        object.__setattr__(observed, "identity_read", False)
        return observed

    def __getattribute__(self, name: str) -> Any:
        if name in _IDENTITY:
            object.__setattr__(self, "identity_read", True)
        return super().__getattribute__(name)


def _viewer_kind(principal: Principal) -> Hashable:
    return (principal.roles, principal.home_tenant_id, principal.acting_tenant_id)


def _variables_key(coerced: dict[str, Any]) -> str:
    # repr keeps the type of what JSON cannot show (a GlobalID, an enum member).
    return json.dumps(coerced, sort_keys=True, default=repr)


class EventSharingExecutor(StrawberryGraphQLCoreExecutionContext):
    def execute_operation(self, serially: bool | None = None) -> Any:
        payload = self.root_value
        context = self.context_value
        if not isinstance(payload, SharedPayload) or not isinstance(context, RequestContext):
            return super().execute_operation(serially)
        principal = context.principal
        if principal is None:
            return super().execute_operation(serially)
        operation = self.operation
        if operation.loc is None:  # parsed without its source: nothing tells documents apart
            return super().execute_operation(serially)
        document = (operation.loc.source.body, operation.name.value if operation.name else None)
        key = (document, _variables_key(self.variable_values.coerced), _viewer_kind(principal))
        return self._shared(payload.executions, key, context, principal, serially)

    async def _shared(
        self,
        executions: dict[Hashable, Shared],
        key: Hashable,
        context: RequestContext,
        principal: Principal,
        serially: bool | None,
    ) -> ExecutionResult:
        found = executions.get(key)
        if found is not None:
            shared = await asyncio.shield(found)
            return shared if shared is not None else await self._own(serially)
        future: Shared = asyncio.get_running_loop().create_future()
        executions[key] = future
        observed = ObservedPrincipal.of(principal)
        # A context of this execution's own: the connection's may serve other subscriptions.
        self.context_value = dataclasses.replace(
            context, services=dataclasses.replace(context.services, principal=observed)
        )
        try:
            result = await self._own(serially)
        except BaseException:
            future.set_result(None)  # whoever waits executes its own
            raise
        future.set_result(None if observed.identity_read else result)
        return result

    async def _own(self, serially: bool | None) -> ExecutionResult:
        result = super().execute_operation(serially)
        if self.is_awaitable(result):
            result = await result
        return cast(ExecutionResult, result)
