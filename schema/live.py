"""Subscription payloads shared by every subscriber of a process.

A domain event is prepared once per process (realtime/fanout.py); its GraphQL payload can be
made once too (``SharedPayload``), and then the executor (subgraph/live.py) runs each distinct
subscription document on it once per kind of viewer instead of once per subscriber."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, MutableMapping
from functools import cached_property
from typing import Any, TypeVar

from graphql import ExecutionResult

Payload = TypeVar("Payload", bound="SharedPayload")

# A finished execution everybody with the same key may reuse, or None: "execute your own".
Shared = asyncio.Future[ExecutionResult | None]


class SharedPayload:
    """Base of a subscription payload built once per event for all of this process's subscribers;
    ``executions`` holds the executions of that one event."""

    @cached_property
    def executions(self) -> dict[Hashable, Shared]:
        return {}


def shared_payload(memo: MutableMapping[str, Any], build: Callable[[], Payload]) -> Payload:
    """The event's one payload: built by its first subscriber, kept in the event's ``memo``."""
    key = "graphql payload"
    found: Payload | None = memo.get(key)
    if found is None:
        found = memo[key] = build()
    return found
