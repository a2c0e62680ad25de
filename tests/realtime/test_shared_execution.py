"""Subscription events with a shared payload are executed once per document, variables and kind
of viewer (roles and tenants), unless the execution read who the viewer is.

A small schema of its own counts its resolvers' calls; the executor is the server's."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.types import Info

from core.permissions import Role
from core.principal import Principal
from core.settings import Settings
from schema.context import RequestContext
from schema.live import SharedPayload
from services.context import ServiceContext
from subgraph.live import EventSharingExecutor

TENANT = uuid.uuid4()
OWNER = uuid.uuid4()
calls: Counter[str] = Counter()


@strawberry.type
class Event(SharedPayload):
    number: int

    @strawberry.field
    def staff_view(self, info: Info) -> bool:
        calls["staffView"] += 1
        return bool(info.context.principal.has_any_role(Role.MANAGER))

    @strawberry.field
    def mine(self, info: Info) -> bool:
        calls["mine"] += 1
        return bool(info.context.principal.user_id == OWNER)

    @strawberry.field
    def plus(self, by: int) -> int:
        calls["plus"] += 1
        return self.number + by


EVENTS: list[Event] = []


@strawberry.type
class Query:
    ping: str = "pong"


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def events(self) -> AsyncGenerator[Event, None]:
        for event in EVENTS:
            yield event


schema = strawberry.Schema(
    query=Query, subscription=Subscription, execution_context_class=EventSharingExecutor
)


def principal(user_id: uuid.UUID, *roles: Role) -> Principal:
    return Principal(user_id=user_id, home_tenant_id=TENANT, roles=frozenset(roles), session_id=uuid.uuid4())


def context_of(viewer: Principal) -> RequestContext:
    services = ServiceContext(db=None, settings=Settings(), rate_limiter=None, principal=viewer)  # type: ignore[arg-type]
    return RequestContext(
        services=services,
        broadcast=None,  # type: ignore[arg-type]
        payment_provider=None,  # type: ignore[arg-type]
        fanout=None,  # type: ignore[arg-type]
        access=None,  # type: ignore[arg-type]
        correlation_id="test",
        is_websocket=True,
    )


async def subscribe(query: str, viewer: Principal, variables: dict[str, Any] | None = None) -> list[Any]:
    stream = await schema.subscribe(query, variable_values=variables, context_value=context_of(viewer))
    return [result.data["events"] async for result in stream]  # type: ignore[union-attr]


async def test_viewers_of_one_kind_share_one_execution_per_event() -> None:
    calls.clear()
    EVENTS[:] = [Event(number=1), Event(number=2)]
    managers = [principal(uuid.uuid4(), Role.MANAGER) for _ in range(5)]
    results = await asyncio.gather(
        *(subscribe("subscription { events { number staffView } }", m) for m in managers)
    )
    assert results == [[{"number": 1, "staffView": True}, {"number": 2, "staffView": True}]] * 5
    assert calls["staffView"] == 2  # once per event, not once per subscriber


async def test_another_kind_of_viewer_or_other_variables_execute_on_their_own() -> None:
    calls.clear()
    EVENTS[:] = [Event(number=10)]
    query = "subscription($by: Int!) { events { staffView plus(by: $by) } }"
    results = await asyncio.gather(
        subscribe(query, principal(uuid.uuid4(), Role.MANAGER), {"by": 1}),
        subscribe(query, principal(uuid.uuid4(), Role.MANAGER), {"by": 1}),
        subscribe(query, principal(uuid.uuid4(), Role.MANAGER), {"by": 5}),
        subscribe(query, principal(uuid.uuid4(), Role.USER), {"by": 1}),
    )
    assert results == [
        [{"staffView": True, "plus": 11}],
        [{"staffView": True, "plus": 11}],
        [{"staffView": True, "plus": 15}],
        [{"staffView": False, "plus": 11}],
    ]
    assert calls["plus"] == 3  # the two managers with by=1 shared


async def test_an_execution_that_reads_the_viewer_is_not_shared() -> None:
    calls.clear()
    EVENTS[:] = [Event(number=1), Event(number=2)]
    owner = principal(OWNER, Role.MANAGER)
    others = [principal(uuid.uuid4(), Role.MANAGER) for _ in range(3)]
    query = "subscription { events { mine } }"
    results = await asyncio.gather(*(subscribe(query, viewer) for viewer in (others[0], owner, *others[1:])))
    assert results == [
        [{"mine": False}, {"mine": False}],
        [{"mine": True}, {"mine": True}],
        [{"mine": False}, {"mine": False}],
        [{"mine": False}, {"mine": False}],
    ]
    assert calls["mine"] == 8  # every subscriber, every event


@strawberry.type
class Plain:
    @strawberry.field
    def staff_view(self, info: Info) -> bool:
        calls["plain"] += 1
        return bool(info.context.principal.has_any_role(Role.MANAGER))


ONE_PLAIN = Plain()  # the same object for every subscriber, but not a SharedPayload


@strawberry.type
class PlainSubscription:
    @strawberry.subscription
    async def events(self) -> AsyncGenerator[Plain, None]:
        yield ONE_PLAIN


async def test_payloads_not_shared_are_executed_per_subscriber() -> None:
    calls.clear()
    plain = strawberry.Schema(
        query=Query, subscription=PlainSubscription, execution_context_class=EventSharingExecutor
    )
    for _ in range(3):
        context = context_of(principal(uuid.uuid4(), Role.MANAGER))
        stream = await plain.subscribe("subscription { events { staffView } }", context_value=context)
        assert [r.data async for r in stream] == [{"events": {"staffView": True}}]  # type: ignore[union-attr]
    assert calls["plain"] == 3
