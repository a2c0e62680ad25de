"""The live operations of one websocket connection (schema/live.py:LiveOperation), set for each
subscription operation's task by both protocols' handlers (server/websocket_limits.py).

Through its live operation, the fan-out sends a subscription the messages other subscribers made
of an event (the express way); the connection's own messages for that operation wait for those to
be written, so they keep their order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from core.fast_json import dumps
from schema.live import LiveOperation, current_operation


class TextSocket(Protocol):
    """What a live operation writes through: the connection's websocket adapter."""

    async def send_text(self, text: str) -> None: ...

    async def send_json(self, message: Mapping[str, object]) -> None: ...


class LiveOperations:
    """The live operations of one connection by id, and its messages sent through them."""

    def __init__(self, websocket: TextSocket) -> None:
        self.websocket = websocket
        self._running: dict[str, LiveOperation] = {}

    async def run(
        self, operation_id: str, result_type: str, is_open: Callable[[], bool], work: Awaitable[None]
    ) -> None:
        """Runs the operation's task ``work`` with its live operation; its results are messages of
        ``result_type`` ("next", or "data" on graphql-ws)."""
        prefix = "{" + f'"id":{dumps(operation_id).decode()},"type":"{result_type}","payload":'
        live = LiveOperation(lambda text: prefix + text + "}", self.websocket.send_text, is_open)
        self._running[operation_id] = live
        current_operation.set(live)  # this task's own context
        try:
            await work
        finally:
            if self._running.get(operation_id) is live:
                del self._running[operation_id]

    async def send(self, message: Mapping[str, Any], result_type: str) -> bool:
        """Sends a message of a live operation after what the fan-out sent it; False when
        ``message`` is not one."""
        operation_id = message.get("id")
        live = self._running.get(operation_id) if isinstance(operation_id, str) else None
        if live is None:
            return False
        await live.sent()
        if message.get("type") == result_type and isinstance(payload := message.get("payload"), Mapping):
            await self.websocket.send_text(live.message(payload))
        else:
            await self.websocket.send_json(message)
        return True
