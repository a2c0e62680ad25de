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
from collections.abc import Hashable
from typing import Any, cast

from graphql import ExecutionResult
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from core.principal import Principal
from schema.context import RequestContext
from schema.live import Shared, SharedPayload, current_operation, variables_key, viewer_kind

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


class EventSharingExecutor(StrawberryGraphQLCoreExecutionContext):
    def execute_operation(self, serially: bool | None = None) -> Any:
        payload = self.root_value
        context = self.context_value
        if not isinstance(payload, SharedPayload) or not isinstance(context, RequestContext):
            return super().execute_operation(serially)
        principal = context.principal
        if principal is None:
            return super().execute_operation(serially)
        live = current_operation.get()
        document = live.document if live is not None else None
        if document is None:
            operation = self.operation
            if operation.loc is None:  # parsed without its source: nothing tells documents apart
                return super().execute_operation(serially)
            name = operation.name.value if operation.name else None
            document = (operation.loc.source.body, name, variables_key(self.variable_values.coerced))
            if live is not None:
                live.document = document
        key = (document, viewer_kind(principal))
        if live is not None:
            live.shareable = None
        return self._shared(payload, key, context, principal, serially)

    async def _shared(
        self,
        payload: SharedPayload,
        key: Hashable,
        context: RequestContext,
        principal: Principal,
        serially: bool | None,
    ) -> ExecutionResult:
        executions = payload.executions
        found = executions.get(key)
        if found is not None:
            shared = found.result() if found.done() else await asyncio.shield(found)
            if shared is None:
                return await self._own(serially)
            _mark_shareable(payload, key)
            return shared
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
        if not observed.identity_read:
            _mark_shareable(payload, key)
        return result

    async def _own(self, serially: bool | None) -> ExecutionResult:
        result = super().execute_operation(serially)
        if self.is_awaitable(result):
            result = await result
        return cast(ExecutionResult, result)


def _mark_shareable(payload: SharedPayload, key: Hashable) -> None:
    """The result about to be sent is everyone's with ``key``: its message text may be kept."""
    live = current_operation.get()
    if live is not None:
        live.shareable = (payload, key)
