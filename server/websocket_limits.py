"""What a websocket connection is held to, on both protocols (graphql-transport-ws and the legacy
graphql-ws): strawberry's handlers and websocket adapter, subclassed here and set on the endpoint
(server/graphql_app.py).

- connection_init within TENANTGRAPH_WS_CONNECTION_INIT_TIMEOUT_SECONDS, else close 4408
  (strawberry times out graphql-transport-ws only; graphql-ws gets the same timer here);
- at most TENANTGRAPH_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION operations running at once: one more gets
  the protocol's ``error`` message (RATE_LIMITED) and the others go on;
- at most TENANTGRAPH_WS_MAX_CONNECTIONS_PER_USER connections per user open on this process: one
  more is closed with 4429 (graphql-ws: after a connection_error);
- no message over TENANTGRAPH_WS_MAX_MESSAGE_BYTES: checked here before decoding, whatever server
  runs the app, and closed with 1009; a message strawberry cannot read (not a JSON object, an
  operation without id or query) closes with 4400 on both protocols, not with a traceback;
- the connection closes with 4401 "token expired" when its access token expires, unless the client
  sent a fresh token of the same sign-in session (from ``refreshToken``) before: on
  graphql-transport-ws ``{"type": "ping", "payload": {"Authorization": "Bearer <token>"}}``,
  answered by a pong with ``{"expiresAt": ...}``; on graphql-ws a second ``connection_init`` with
  that payload, answered by ``connection_ack`` with it. A token refused there closes the
  connection with 4401 (invalid, expired, session ended) or 4403 (another session).

Ended sessions and suspended users end their subscriptions by event (services/identity/live.py).
Every subscription operation runs with its live operation (server/live_operations.py)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Mapping
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from json import JSONDecodeError
from typing import Any, cast

from graphql import GraphQLError, GraphQLFormattedError
from starlette.types import Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.async_base_view import AsyncBaseHTTPView, AsyncWebSocketAdapter
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived, WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    PingMessage,
    SubscribeMessage,
)
from strawberry.subscriptions.protocols.graphql_ws import types as legacy
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from core.errors import ErrorCode, ServiceError, Unauthenticated
from core.metrics import WEBSOCKETS
from core.settings import Settings
from schema.context import RequestContext
from server.live_operations import LiveOperations
from server.middleware import WEBSOCKET_SEND
from services.identity.auth import bearer_token, reauthenticate

log = logging.getLogger(__name__)

CLOSE_MESSAGE_TOO_BIG = 1009  # RFC 6455
CLOSE_BAD_MESSAGE = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_INIT_TIMEOUT = 4408
CLOSE_TOO_MANY_CONNECTIONS = 4429
TOKEN_EXPIRED = "token expired"
BAD_MESSAGE = "Failed to parse message"  # strawberry's words for graphql-transport-ws
INIT_TIMEOUT = "Connection initialisation timeout"  # strawberry's words for graphql-transport-ws
# The most a close frame carries as its reason.
MAX_REASON_BYTES = 123


class MessageTooBig(Exception):
    """A client sent a message over the size limit."""


class ConnectionRefused(Exception):
    """Ends a connection with ``close_code``; graphql-ws gets ``payload`` in a connection_error first."""

    def __init__(self, close_code: int, reason: str, error_code: ErrorCode) -> None:
        super().__init__(reason)
        self.close_code = close_code
        self.reason = reason
        self.payload: dict[str, object] = {"code": error_code.value, "message": reason}

    @classmethod
    def of(cls, error: ServiceError) -> ConnectionRefused:
        close_code = CLOSE_FORBIDDEN if error.code == ErrorCode.FORBIDDEN else CLOSE_UNAUTHORIZED
        return cls(close_code, error.message, error.code)


def connection_params(payload: object) -> dict[str, str]:
    """A connection_init (or re-authenticating) payload: its string values by lower-case key."""
    if not isinstance(payload, Mapping):
        return {}
    return {str(key).lower(): value for key, value in payload.items() if isinstance(value, str)}


def connection_bearer(params: Mapping[str, str]) -> str | None:
    """{"Authorization": "Bearer <token>"}, or {"authToken": "<token>"} as some clients send it."""
    return bearer_token(params.get("authorization")) or params.get("authtoken") or None


def malformed(message: object, start: str, stop: str) -> bool:
    """Whether ``message`` lacks what strawberry's handlers read without checking (a KeyError or
    TypeError there is a traceback): a JSON object with a string type, an id on ``start`` and
    ``stop``, a payload with a query string on ``start``."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return True
    kind = message["type"]
    if kind in (start, stop) and not isinstance(message.get("id"), str):
        return True
    payload = message.get("payload")
    return kind == start and not (isinstance(payload, dict) and isinstance(payload.get("query"), str))


def operations_over_limit(running: int, limit: int | None) -> GraphQLFormattedError | None:
    """The error for one more operation on a connection already running ``running``, if too many."""
    if limit is None or running < limit:
        return None
    return GraphQLError(
        f"Subscription limit reached: at most {limit} operations run at once on one connection.",
        extensions={"code": ErrorCode.RATE_LIMITED.value, "maximum": limit},
    ).formatted


class WebsocketLimits:
    """The websocket limits of this process, and its count of open connections per user. Each
    process counts its own: behind N processes a user may hold N times the limit."""

    def __init__(self, settings: Settings) -> None:
        self.init_timeout = timedelta(seconds=settings.ws_connection_init_timeout_seconds)
        self.max_operations = settings.ws_max_subscriptions_per_connection
        self.max_connections_per_user = settings.ws_max_connections_per_user
        self.max_message_bytes = settings.ws_max_message_bytes
        self._open: dict[uuid.UUID, int] = {}
        # The user each admitted connection counts for, by the id of the connection's context.
        self._admitted: dict[int, uuid.UUID] = {}

    def admit(self, connection: RequestContext) -> None:
        """Counts the authenticated ``connection`` for its user until ``release`` (ConnectionRefused
        when the user has too many)."""
        principal = connection.services.require_principal()
        held = self._open.get(principal.user_id, 0)
        if held >= self.max_connections_per_user:
            raise ConnectionRefused(
                CLOSE_TOO_MANY_CONNECTIONS,
                f"Too many connections: at most {self.max_connections_per_user} per user.",
                ErrorCode.RATE_LIMITED,
            )
        self._open[principal.user_id] = held + 1
        self._admitted[id(connection)] = principal.user_id

    def release(self, connection: RequestContext) -> None:
        user_id = self._admitted.pop(id(connection), None)
        if user_id is None:
            return
        held = self._open[user_id] - 1
        if held:
            self._open[user_id] = held
        else:
            del self._open[user_id]


def limits_of(view: object) -> WebsocketLimits:
    limits = getattr(view, "websocket_limits", None)
    if not isinstance(limits, WebsocketLimits):
        raise TypeError(f"{type(view).__name__} serves websockets without websocket_limits")
    return limits


class SizeLimitedWebSocket(ASGIWebSocketAdapter):
    """strawberry's adapter, refusing a message over the size limit before it is decoded; a send
    after the connection was closed is a departed client (not a RuntimeError)."""

    def __init__(
        self,
        view: AsyncBaseHTTPView[Any, Any, Any, Any, Any, Any, Any],
        request: WebSocket,
        response: WebSocket,
    ) -> None:
        super().__init__(view, request, response)
        self.max_bytes = limits_of(view).max_message_bytes
        self._server_send: Send | None = response.scope.get("state", {}).get(WEBSOCKET_SEND)

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                # A character is at least one byte: only a long or non-ASCII text needs counting.
                if len(text) > self.max_bytes or not text.isascii():
                    size = len(text.encode())
                    if size > self.max_bytes:
                        raise MessageTooBig(f"Message of {size} bytes; the limit is {self.max_bytes}.")
                try:
                    message = self.view.decode_json(text)
                except JSONDecodeError as error:
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from error
                    continue
                yield message
        except KeyError as error:  # a binary message has no "text"
            raise NonTextMessageReceived from error
        except WebSocketDisconnect:
            pass

    async def send_json(self, message: Mapping[str, object]) -> None:
        if self.ws.application_state == WebSocketState.DISCONNECTED:
            raise WebSocketDisconnected
        await super().send_json(message)

    async def send_text(self, text: str) -> None:
        """A message already encoded (the express way's), past starlette's and our send layers
        when the server's own send is known: after the accept they only pass it on, and a
        fan-out writes thousands a second."""
        if self.ws.application_state != WebSocketState.CONNECTED:
            raise WebSocketDisconnected
        if self._server_send is None:
            await self.ws.send_text(text)
        else:
            await self._server_send({"type": "websocket.send", "text": text})


class ConnectionGuard:
    """One connection's limits beside strawberry's handler: its count among its user's
    connections, the connection_init timer (graphql-ws) and the expiry of its token."""

    def __init__(
        self,
        context: RequestContext,
        websocket: AsyncWebSocketAdapter,
        limits: WebsocketLimits,
        end_operations: Callable[[], Awaitable[None]],
    ) -> None:
        self.context = context
        self.websocket = websocket
        self.limits = limits
        self._end_operations = end_operations
        self._timers: set[asyncio.Task[None]] = set()
        self._init_timer: asyncio.Task[None] | None = None
        self._expires_at: datetime | None = None
        self._ended = False

    async def serve(self, handle: Callable[[], Awaitable[None]]) -> None:
        """Runs strawberry's message loop ``handle``; an over-size message ends it with 1009. The
        connection stops counting for its user when the loop ends, however it ends."""
        WEBSOCKETS.inc()
        try:
            await handle()
        except MessageTooBig as too_big:
            await self.end(CLOSE_MESSAGE_TOO_BIG, str(too_big))
        finally:
            WEBSOCKETS.dec()
            for timer in list(self._timers):
                timer.cancel()
            self.limits.release(self.context)

    def expect_init_within(self, timeout: timedelta) -> None:
        self._init_timer = self._start(self._end_after(timeout.total_seconds()))

    def init_received(self) -> None:
        if self._init_timer is not None:
            self._init_timer.cancel()
            self._init_timer = None

    def admitted(self) -> None:
        """connection_init was acknowledged: the connection ends when its token expires."""
        principal = self.context.principal
        if self._expires_at is None and principal is not None and principal.expires_at is not None:
            self._expires_at = principal.expires_at
            self._start(self._expire())

    async def reauthenticate(self, params: Mapping[str, str]) -> dict[str, object]:
        """Moves the connection's deadline to the expiry of the fresh token in ``params``;
        ConnectionRefused when that token is not good for this connection."""
        services = self.context.services
        try:
            bearer = connection_bearer(params)
            if bearer is None:
                raise Unauthenticated("Re-authenticating needs Authorization: Bearer <token>.")
            fresh = await reauthenticate(
                self.context.access, services.settings, services.require_principal(), bearer
            )
        except ServiceError as error:
            raise ConnectionRefused.of(error) from error
        services.principal = fresh
        self._expires_at = fresh.expires_at
        return {"expiresAt": fresh.expires_at.isoformat() if fresh.expires_at else None}

    async def end(self, close_code: int, reason: str) -> None:
        """Ends the connection's operations, then closes it with ``close_code`` (once)."""
        if self._ended:
            return
        self._ended = True
        await self._end_operations()
        with suppress(WebSocketDisconnect):  # the client left meanwhile
            await self.websocket.close(close_code, reason.encode()[:MAX_REASON_BYTES].decode(errors="ignore"))

    def _start(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        task.add_done_callback(self._finished)
        self._timers.add(task)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        # Forgotten once done: a cancelled one would keep its traceback and frames.
        self._timers.discard(task)
        _log_failure(task)

    async def _end_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.end(CLOSE_INIT_TIMEOUT, INIT_TIMEOUT)

    async def _expire(self) -> None:
        # Re-authenticating moves the deadline while this sleeps.
        while self._expires_at is not None:
            left = (self._expires_at - datetime.now(UTC)).total_seconds()
            if left <= 0:
                await self.end(CLOSE_UNAUTHORIZED, TOKEN_EXPIRED)
                return
            await asyncio.sleep(left)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("websocket timer failed", exc_info=error)


class TransportWsHandler(BaseGraphQLTransportWSHandler[RequestContext, None]):
    """graphql-transport-ws with the limits above (its connection_init timeout is strawberry's)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard = ConnectionGuard(self.context, self.websocket, limits_of(self.view), self.shutdown)
        self.live = LiveOperations(cast(SizeLimitedWebSocket, self.websocket))

    async def handle(self) -> None:
        await self.guard.serve(super().handle)

    async def run_operation(self, operation: Operation[RequestContext, None]) -> None:
        def is_open() -> bool:
            return not operation.completed and self.operations.get(operation.id) is operation

        await self.live.run(operation.id, "next", is_open, super().run_operation(operation))

    async def send_message(self, message: Message) -> None:
        if not await self.live.send(cast(Mapping[str, Any], message), "next"):
            await super().send_message(message)

    async def handle_message(self, message: Message) -> None:
        if malformed(message, "subscribe", "complete"):
            await self.guard.end(CLOSE_BAD_MESSAGE, BAD_MESSAGE)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except ConnectionRefused as refused:
            await self.guard.end(refused.close_code, refused.reason)
            return
        finally:
            # strawberry cancelled its timer and keeps it: a cancelled task holds its exception,
            # traceback and frames (a few KiB for every connection, for hours).
            self.connection_init_timeout_task = None
        if self.connection_acknowledged:
            self.guard.admitted()

    async def handle_ping(self, message: PingMessage) -> None:
        params = connection_params(message.get("payload"))
        if not self.connection_acknowledged or not ("authorization" in params or "authtoken" in params):
            await super().handle_ping(message)
            return
        try:
            answer = await self.guard.reauthenticate(params)
        except ConnectionRefused as refused:
            await self.guard.end(refused.close_code, refused.reason)
            return
        await self.send_message({"type": "pong", "payload": answer})

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        running = len(self.operations)
        if (
            self.connection_acknowledged
            and message["id"] not in self.operations
            and (error := operations_over_limit(running, self.max_subscriptions_per_connection))
        ):
            await self.send_message({"id": message["id"], "type": "error", "payload": [error]})
            return
        await super().handle_subscribe(message)


class LegacyWsHandler(BaseGraphQLWSHandler[RequestContext, None]):
    """graphql-ws with the limits above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard = ConnectionGuard(self.context, self.websocket, limits_of(self.view), self.cleanup)
        self.live = LiveOperations(cast(SizeLimitedWebSocket, self.websocket))

    async def handle(self) -> None:
        self.guard.expect_init_within(self.view.connection_init_wait_timeout)
        await self.guard.serve(super().handle)

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        task = asyncio.current_task()

        def is_open() -> bool:
            return self.tasks.get(operation_id) is task

        work = super().handle_async_results(operation_id, query, operation_name, variables)
        await self.live.run(operation_id, "data", is_open, work)

    async def send_message(self, message: legacy.OperationMessage) -> None:
        if not await self.live.send(cast(Mapping[str, Any], message), "data"):
            await super().send_message(message)

    async def handle_message(self, message: legacy.OperationMessage) -> None:
        if malformed(message, "start", "stop"):
            await self.guard.end(CLOSE_BAD_MESSAGE, BAD_MESSAGE)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: legacy.ConnectionInitMessage) -> None:
        self.guard.init_received()
        try:
            if self.connection_acknowledged:
                # graphql-ws has no ping: a second connection_init re-authenticates.
                answer = await self.guard.reauthenticate(connection_params(message.get("payload")))
                await self.send_message({"type": "connection_ack", "payload": answer})
                return
            await super().handle_connection_init(message)
        except ConnectionRefused as refused:
            await self.send_message({"type": "connection_error", "payload": refused.payload})
            await self.guard.end(refused.close_code, refused.reason)
            return
        if self.connection_acknowledged:
            self.guard.admitted()

    async def handle_start(self, message: legacy.StartMessage) -> None:
        running = len(self.tasks)
        if (
            self.connection_acknowledged
            and message["id"] not in self.tasks
            and (error := operations_over_limit(running, self.max_subscriptions_per_connection))
        ):
            await self.send_message({"type": "error", "id": message["id"], "payload": error})
            return
        await super().handle_start(message)
