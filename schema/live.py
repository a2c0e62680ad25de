"""Subscription payloads shared by every subscriber of a process, and the express way to them.

A domain event is prepared once per process (realtime/fanout.py); its GraphQL payload can be
made once too (``SharedPayload``), and then the executor (subgraph/live.py) runs each distinct
subscription document on it once per kind of viewer instead of once per subscriber.

Even a shared execution costs a subscriber its task waking, graphql-core's per-event executor,
strawberry's result handling and the encoding of the message: most of a fan-out's CPU. So a
subscription on a websocket has a ``LiveOperation`` (set by the websocket handler for the
operation's task) and takes events the express way: the first subscriber of a group (same
document, variables and kind of viewer) runs the plain way, and its message text, kept on the
event's payload, is sent to the rest of the group by the feed itself (``Messenger``)."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections.abc import Callable, Coroutine, Generator, Hashable, Mapping, MutableMapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any, Generic, TypeVar

from graphql import ExecutionResult

from core.fast_json import dumps
from core.principal import Principal

log = logging.getLogger(__name__)

Payload = TypeVar("Payload", bound="SharedPayload")
Item = TypeVar("Item")

# A finished execution everybody with the same key may reuse, or None: "execute your own".
Shared = asyncio.Future[ExecutionResult | None]

_PAYLOAD_KEY = "graphql payload"


class SharedPayload:
    """Base of a subscription payload built once per event for all of this process's subscribers;
    ``executions`` holds the executions of that one event, ``texts`` the JSON of their results
    (by the same keys) once a subscriber sent one that everyone with its key may get."""

    @cached_property
    def executions(self) -> dict[Hashable, Shared]:
        return {}

    @cached_property
    def texts(self) -> dict[Hashable, str]:
        return {}


def shared_payload(memo: MutableMapping[str, Any], build: Callable[[], Payload]) -> Payload:
    """The event's one payload: built by its first subscriber, kept in the event's ``memo``."""
    found: Payload | None = memo.get(_PAYLOAD_KEY)
    if found is None:
        found = memo[_PAYLOAD_KEY] = build()
    return found


def viewer_kind(principal: Principal) -> Hashable:
    """What a shared execution may depend on of its viewer (subgraph/live.py sees to it)."""
    return (principal.roles, principal.home_tenant_id, principal.acting_tenant_id)


def variables_key(coerced: Mapping[str, Any]) -> str:
    # repr keeps the type of what JSON cannot show (a GlobalID, an enum member).
    return json.dumps(coerced, sort_keys=True, default=repr)


@dataclass(eq=False)
class LiveOperation:
    """One subscription operation on one websocket.

    ``frame`` turns a result's JSON into the protocol's message for this operation; ``write``
    sends a message text; ``is_open`` says whether the operation still runs."""

    frame: Callable[[str], str]
    write: Callable[[str], Coroutine[Any, Any, None]]
    is_open: Callable[[], bool]
    # The executed document and variables, known after the first event.
    document: Hashable | None = None
    # Set by the executor for the result about to be sent: shareable under this key of this
    # event's payload.
    shareable: tuple[SharedPayload, Hashable] | None = None
    _sending: asyncio.Future[None] | None = field(default=None, repr=False)

    def key(self, principal: Principal) -> Hashable | None:
        if self.document is None:
            return None
        return (self.document, viewer_kind(principal))

    def message(self, payload: Mapping[str, Any]) -> str:
        """The message text for ``payload`` (a ``next`` or ``data`` message's), from the event's
        texts when another subscriber made it; a shareable one is kept for the others."""
        shareable, self.shareable = self.shareable, None
        if shareable is None:
            return self.frame(dumps(payload).decode())
        shared, key = shareable
        text = shared.texts.get(key)
        if text is None:
            text = dumps(payload).decode()
            # Errors are the subscriber's own; the extensions (the cost) depend on the document
            # and variables only, which the key holds.
            if "errors" not in payload:
                shared.texts[key] = text
        return self.frame(text)

    def send_text(self, text: str) -> None:
        """Sends ``text`` after what this operation sent before, without waiting for it."""
        before = self._sending
        if before is not None and not before.done():
            self._sending = asyncio.ensure_future(self._write_after(before, text))
            self._sending.add_done_callback(_log_failure)
            return
        # Most writes complete at once (the transport waits only when the client reads slowly):
        # run the write here, and give it a task only if it has to wait.
        if not self.is_open():
            return
        writing = self.write(text)
        try:
            waiting = writing.send(None)
        except StopIteration:
            return
        except Exception as error:
            _log_unsent(error)
            return
        self._sending = asyncio.ensure_future(_Resumed(writing, waiting))
        self._sending.add_done_callback(_log_failure)

    async def sent(self) -> None:
        """Returns once what ``send_text`` started is written."""
        if self._sending is not None and not self._sending.done():
            await asyncio.shield(self._sending)

    async def _write_after(self, before: asyncio.Future[None], text: str) -> None:
        await asyncio.wait([before])
        if self.is_open():
            await self.write(text)


class _Resumed:
    """The rest of the coroutine ``writing``, which stopped yielding ``waiting`` (the future it
    waits for), as a task's awaitable: the task waits for each future it yields and resumes it,
    as it would have from the start."""

    def __init__(self, writing: Coroutine[Any, Any, None], waiting: Any) -> None:
        self.writing = writing
        self.waiting = waiting

    def __await__(self) -> Generator[Any, None, None]:
        waiting = self.waiting
        while True:
            step: Callable[[], Any]
            try:
                yield waiting
            except BaseException as error:  # cancelled: so is the write
                step = partial(self.writing.throw, error)
            else:
                step = partial(self.writing.send, None)
            try:
                waiting = step()
            except StopIteration:
                return


def _log_unsent(error: BaseException) -> None:
    log.debug("an express message was not sent: %s: %s", type(error).__name__, error)


def _log_failure(sending: asyncio.Future[None]) -> None:
    if not sending.cancelled() and (error := sending.exception()) is not None:
        _log_unsent(error)


# The live operation of the running subscription task (set by the websocket handlers).
current_operation: contextvars.ContextVar[LiveOperation | None] = contextvars.ContextVar(
    "current_operation", default=None
)


class EventMessenger(Generic[Item]):
    """The ``Messenger`` (services/identity/live.py) of one subscription: the event's message for
    its key, from the event's shared payload found by ``memo_of``."""

    __slots__ = ("memo_of", "operation")

    def __init__(self, operation: LiveOperation, memo_of: Callable[[Item], Mapping[str, Any]]) -> None:
        self.operation = operation
        self.memo_of = memo_of

    @classmethod
    def of_current(cls, memo_of: Callable[[Item], Mapping[str, Any]]) -> EventMessenger[Item] | None:
        operation = current_operation.get()
        return cls(operation, memo_of) if operation is not None else None

    def key_for(self, principal: Principal) -> Hashable | None:
        return self.operation.key(principal)

    def made(self, item: Item, key: Hashable) -> object | None:
        payload = self.memo_of(item).get(_PAYLOAD_KEY)
        return payload.texts.get(key) if isinstance(payload, SharedPayload) else None

    def send(self, made: object) -> None:
        if isinstance(made, str):
            self.operation.send_text(self.operation.frame(made))
