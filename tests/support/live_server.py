"""Real server processes for end-to-end tests, and websocket clients for both GraphQL protocols.

``LiveServer`` runs ``python -m server serve`` as a child process on a free port, with its log in a
file; ``LiveServers`` starts several and stops them all. ``TransportWsClient`` speaks
graphql-transport-ws, ``LegacyWsClient`` the legacy graphql-ws (subscriptions-transport-ws)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.harness.servers import _pdeathsig_prefix, free_port

ROOT = Path(__file__).resolve().parent.parent.parent
HOST = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
RECEIVE_TIMEOUT = 5.0


def _python() -> str:
    venv_python = ROOT / ".venv" / "bin" / "python"
    return str(venv_python) if venv_python.exists() else sys.executable


class LiveServer:
    """One ``tenantgraph serve`` process on 127.0.0.1."""

    def __init__(
        self, name: str, log_dir: Path, env: Mapping[str, str], extra_args: tuple[str, ...] = ()
    ) -> None:
        self.extra_args = extra_args
        self.name = name
        self.port = free_port()
        self.log_path = log_dir / f"{name}.log"
        self._env = dict(env)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/graphql"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"<cannot read {self.log_path}: {exc}>"
        return "\n".join(text.splitlines()[-lines:])

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int, lines: int = 60) -> str:
        """The last ``lines`` lines written to the log after ``offset`` (a ``log_size()``)."""
        try:
            with open(self.log_path, "rb") as log_file:
                log_file.seek(offset)
                text = log_file.read().decode(errors="replace")
        except OSError as exc:
            return f"<cannot read {self.log_path}: {exc}>"
        return "\n".join(text.splitlines()[-lines:])

    def describe(self) -> str:
        return (
            f"server {self.name} (pid {self.pid}, port {self.port}), its last log lines:\n{self.log_tail()}"
        )

    def command(self) -> list[str]:
        """What the process runs (in ``ROOT``); the log gets its output."""
        return [
            _python(),
            "-m",
            "server",
            "serve",
            "--host",
            HOST,
            "--port",
            str(self.port),
            *self.extra_args,
        ]

    def spawn(self) -> None:
        """Start the process (call from the main thread: the parent-death signal is tied to it)."""
        if self._proc is not None:
            raise RuntimeError(f"server {self.name} was already started")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTGRAPH_")}
        env.update(self._env)
        # Kept open for the process's lifetime by the child; our copy is closed right away.
        with open(self.log_path, "ab") as log_file:
            self._proc = subprocess.Popen(
                [*_pdeathsig_prefix("SIGTERM"), *self.command()],
                cwd=str(ROOT),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def answers(self, client: httpx.AsyncClient) -> bool:
        """Whether the started process serves (``wait_healthy`` asks until it does)."""
        response = await client.get("/health")
        return response.status_code == 200 and response.json() == {"status": "ok"}

    async def wait_healthy(self, within: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.base_url, timeout=1.0) as client:
            while True:
                assert self._proc is not None
                code = self._proc.poll()
                if code is not None:
                    raise RuntimeError(f"exited with code {code} while starting: {self.describe()}")
                with contextlib.suppress(httpx.TransportError):
                    if await self.answers(client):
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no healthy /health within {within:.0f}s: {self.describe()}")
                await asyncio.sleep(0.05)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM and wait; SIGKILL when it does not exit in time. Returns the exit code."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait(timeout=timeout)
        return proc.returncode

    async def stop_async(self, within: float = STOP_TIMEOUT) -> int | None:
        return await asyncio.to_thread(self.stop, within)


def server_env(database_url: str, broadcast_url: str, signing_key: str, **extra: str) -> dict[str, str]:
    """Environment of a test server: high sign-in limits and a fast outbox poll."""
    env = {
        "TENANTGRAPH_DATABASE_URL": database_url,
        "TENANTGRAPH_BROADCAST_URL": broadcast_url,
        "TENANTGRAPH_JWT_SIGNING_KEY": signing_key,
        "TENANTGRAPH_OUTBOX_POLL_SECONDS": "0.2",
        "TENANTGRAPH_AUTH_RATE_LIMIT_PER_ACCOUNT": "1000",
        "TENANTGRAPH_AUTH_RATE_LIMIT_PER_IP": "1000",
    }
    env.update(extra)
    return env


class LiveServers:
    """A pool of servers started on demand; ``stop_all`` stops every one of them."""

    def __init__(self, log_dir: Path, env: Mapping[str, str]) -> None:
        self.log_dir = log_dir
        self.env = dict(env)
        self.servers: list[LiveServer] = []

    async def start(self, count: int = 1) -> list[LiveServer]:
        """``count`` new servers, started in parallel, each healthy on return."""
        started = [
            LiveServer(f"server-{len(self.servers) + i}", self.log_dir, self.env) for i in range(count)
        ]
        for server in started:
            self.servers.append(server)
            server.spawn()
        await asyncio.gather(*(server.wait_healthy() for server in started))
        return started

    async def running(self, count: int) -> list[LiveServer]:
        """``count`` running servers of the pool, starting as many more as needed."""
        alive = [server for server in self.servers if server.running]
        if len(alive) < count:
            alive += await self.start(count - len(alive))
        return alive[:count]

    async def stop_all(self) -> None:
        servers, self.servers = self.servers, []
        await asyncio.gather(*(server.stop_async() for server in servers))

    def log_offsets(self) -> dict[str, int]:
        return {server.name: server.log_size() for server in self.servers}

    def logs_since(self, offsets: Mapping[str, int]) -> str:
        """What each server logged after ``offsets`` (from ``log_offsets()``)."""
        return "\n\n".join(
            f"--- server {server.name} (pid {server.pid}, port {server.port}) ---\n"
            + server.log_since(offsets.get(server.name, 0))
            for server in self.servers
        )


# --------------------------------------------------------------------------
# websocket clients
# --------------------------------------------------------------------------


class WsClosed(Exception):
    """The server closed the websocket."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"websocket closed: {code} {reason!r}")
        self.code = code
        self.reason = reason


class _WsClient:
    subprotocol: str
    # Server messages that only keep the connection alive.
    keep_alive_types: frozenset[str] = frozenset()

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, url: str) -> Self:
        ws = await connect(url, subprotocols=[Subprotocol(cls.subprotocol)], open_timeout=RECEIVE_TIMEOUT)
        assert ws.subprotocol == cls.subprotocol, ws.subprotocol
        return cls(ws)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.ws.close()

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, within: float = RECEIVE_TIMEOUT) -> dict[str, Any]:
        """The next protocol message (keep-alives answered and skipped); ``WsClosed`` if closed."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                raw = await asyncio.wait_for(self.ws.recv(), max(remaining, 0.001))
            except ConnectionClosed as closed:
                frame = closed.rcvd
                raise WsClosed(frame.code if frame else None, frame.reason if frame else "") from None
            message: dict[str, Any] = json.loads(raw)
            if message.get("type") == "ping":
                await self.send({"type": "pong"})
                continue
            if message.get("type") in self.keep_alive_types:
                continue
            return message

    async def expect_nothing(self, seconds: float) -> None:
        """Asserts that no message (other than keep-alives) arrives within ``seconds``."""
        try:
            message = await self.receive(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"expected no message within {seconds}s, got {message!r}")

    async def wait_closed(self, within: float = RECEIVE_TIMEOUT) -> WsClosed:
        """Waits for the server to close the socket; fails on any message before that."""
        try:
            message = await self.receive(within)
        except WsClosed as closed:
            return closed
        raise AssertionError(f"expected the server to close the socket, got {message!r}")

    async def init(self, payload: dict[str, Any] | None) -> dict[str, Any]:
        """Sends connection_init; returns the server's answer (usually connection_ack)."""
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await self.send(message)
        return await self.receive()

    async def authenticate(self, token: str) -> None:
        answer = await self.init({"Authorization": f"Bearer {token}"})
        assert answer["type"] == "connection_ack", answer

    @classmethod
    async def connected(cls, url: str, token: str) -> Self:
        """A connection authenticated with ``token`` (connection_init acknowledged)."""
        client = await cls.open(url)
        try:
            await client.authenticate(token)
        except BaseException:
            await client.close()
            raise
        return client


class TransportWsClient(_WsClient):
    """graphql-transport-ws (the graphql-ws library's protocol)."""

    subprotocol = "graphql-transport-ws"

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None, id: str = "1") -> None:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        await self.send({"id": id, "type": "subscribe", "payload": payload})

    async def complete(self, id: str = "1") -> None:
        await self.send({"id": id, "type": "complete"})

    async def next_data(self, id: str = "1", within: float = RECEIVE_TIMEOUT) -> dict[str, Any]:
        """The data of the next message, which must be a ``next`` without errors for ``id``."""
        message = await self.receive(within)
        assert message.get("type") == "next" and message.get("id") == id, message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data


class LegacyWsClient(_WsClient):
    """The legacy graphql-ws protocol (subscriptions-transport-ws): start/data/stop, ``ka``."""

    subprotocol = "graphql-ws"
    keep_alive_types = frozenset({"ka"})

    async def start(self, query: str, variables: dict[str, Any] | None = None, id: str = "1") -> None:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        await self.send({"id": id, "type": "start", "payload": payload})

    async def stop(self, id: str = "1") -> None:
        await self.send({"id": id, "type": "stop"})

    async def next_data(self, id: str = "1", within: float = RECEIVE_TIMEOUT) -> dict[str, Any]:
        """The data of the next message, which must be a ``data`` without errors for ``id``."""
        message = await self.receive(within)
        assert message.get("type") == "data" and message.get("id") == id, message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data


async def deliveries(server: LiveServer) -> dict[str, float]:
    """The server's subscription deliveries so far by way (plain, express), from /metrics."""
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        text = (await http.get("/metrics")).text
    found = re.findall(r'^tenantgraph_subscription_deliveries_total\{way="(\w+)"\} (\S+)$', text, re.M)
    return {"plain": 0.0, "express": 0.0} | {way: float(value) for way, value in found}


async def deliveries_since(before: dict[str, float], server: LiveServer) -> dict[str, float]:
    now = await deliveries(server)
    return {way: now[way] - before[way] for way in now}


@contextlib.asynccontextmanager
async def one_server(
    database_url: str, broadcast_url: str, signing_key: str, log_dir: Path, **extra: str
) -> AsyncIterator[LiveServer]:
    """One server process of ``server_env`` (plus ``extra``) for the block, stopped when it ends."""
    pool = LiveServers(log_dir, server_env(database_url, broadcast_url, signing_key, **extra))
    try:
        (started,) = await pool.start(1)
        yield started
    finally:
        await pool.stop_all()


async def wait_listening(redis_url: str, channel: str, settle: float = 0.3) -> None:
    """Until some process listens on ``channel`` in Redis (subscribing is not acknowledged to the
    client), then ``settle`` seconds for the other subscriptions of that process to register."""
    client = Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 5.0
        while True:
            [(_, count)] = await client.pubsub_numsub(channel)
            if count >= 1:
                break
            assert time.monotonic() < deadline, f"nobody listens on {channel}"
            await asyncio.sleep(0.02)
    finally:
        await client.aclose()
    await asyncio.sleep(settle)
