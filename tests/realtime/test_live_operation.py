"""LiveOperation.send_text (schema/live.py): express messages are written in order, at once when
the transport takes them, and finished by a task when it makes the write wait (a client that
reads slowly); a closed operation writes nothing."""

from __future__ import annotations

import asyncio

from schema.live import LiveOperation


class Transport:
    """A websocket's write as the operation sees it: waits while ``writable`` is clear, as
    uvicorn's send does when the client does not read."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.writable.set()
        self.written: list[str] = []
        self.open = True

    async def write(self, text: str) -> None:
        await self.writable.wait()
        self.written.append(text)


def operation(transport: Transport) -> LiveOperation:
    return LiveOperation(lambda text: f"<{text}>", transport.write, lambda: transport.open)


async def test_a_write_the_transport_takes_is_done_before_send_text_returns() -> None:
    transport = Transport()
    live = operation(transport)
    live.send_text("a")
    live.send_text("b")
    assert transport.written == ["a", "b"]
    await live.sent()


async def test_a_waiting_write_is_finished_later_and_keeps_the_order() -> None:
    transport = Transport()
    live = operation(transport)
    transport.writable.clear()
    live.send_text("first")
    live.send_text("second")
    await asyncio.sleep(0.01)
    assert transport.written == []
    transport.writable.set()
    await asyncio.wait_for(live.sent(), 1)
    assert transport.written == ["first", "second"]
    # Once written, the next one goes at once again.
    live.send_text("third")
    assert transport.written == ["first", "second", "third"]


async def test_a_closed_operation_writes_nothing() -> None:
    transport = Transport()
    live = operation(transport)
    transport.writable.clear()
    live.send_text("queued")
    transport.open = False
    live.send_text("after close")
    transport.writable.set()
    await asyncio.wait_for(live.sent(), 1)
    # The write that had started when it closed went out; nothing after it.
    assert transport.written == ["queued"]


async def test_a_failing_write_does_not_stop_the_next() -> None:
    written: list[str] = []

    async def write(text: str) -> None:
        if text == "bad":
            raise ConnectionResetError("gone")
        written.append(text)

    live = LiveOperation(lambda text: text, write, lambda: True)
    live.send_text("bad")
    live.send_text("good")
    assert written == ["good"]
