"""Pure ASGI middleware (no BaseHTTPMiddleware: it would buffer bodies and break websockets)."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import error_response
from server.logging import correlation_id
from services.outages import log_outage, outage

CORRELATION_HEADER = "x-correlation-id"
# Where the scope's state keeps the server's own send of a websocket connection.
WEBSOCKET_SEND = "websocket_send"
_VALID_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class CorrelationIdMiddleware:
    """Takes X-Correlation-Id from the request (or makes one), logs with it and echoes it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(CORRELATION_HEADER, "")
        value = given if _VALID_CORRELATION_ID.match(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["correlation_id"] = value
        if scope["type"] == "websocket":
            # For messages once the connection is accepted, which no layer below changes: the
            # fan-out's express writes go straight here (server/websocket_limits.py).
            state[WEBSOCKET_SEND] = send
        token = correlation_id.set(value)

        async def send_with_id(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                headers = MutableHeaders(scope=message)
                headers[CORRELATION_HEADER] = value
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)


class BodyTooLarge(Exception):
    pass


class _TrackedSend:
    """``send``, remembering whether the response has started (after that, no other answer)."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413 (neither uvicorn nor starlette caps them),
    whether the size is declared up front or only discovered while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        received = 0
        tracked = _TrackedSend(send)

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, tracked)
        except BodyTooLarge:
            if not tracked.started:
                await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"Request bodies are limited to {self.max_bytes} bytes."
        response = error_response(scope["path"], 413, detail, extensions={"maxBytes": self.max_bytes})
        await response(scope, receive, send)


class OutageMiddleware:
    """PostgreSQL or Redis out of reach while serving a request: 503 SERVICE_UNAVAILABLE (a
    GraphQL body on /graphql, a problem elsewhere) and one log line, never a plain-text 500 with a
    traceback. Any other error goes on to the 500 handler."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked = _TrackedSend(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception as error:
            unavailable = outage(error)
            if unavailable is None:
                raise
            log_outage(error, scope["path"])
            if not tracked.started:  # else the client has its answer's head already
                await error_response(scope["path"], 503, unavailable.message)(scope, receive, send)
