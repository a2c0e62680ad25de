"""The Node side of the federation tests: tools/federation installed from its package-lock.json
(scripts/npm-ci.sh), its scripts run as child processes on free ports with their logs in files,
and compose.mjs's answer read."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import httpx

from tests.harness.servers import _pdeathsig_prefix, free_port
from tests.support.live_server import HOST, ROOT

FEDERATION = ROOT / "tools" / "federation"
NODE = FEDERATION / "node_modules" / ".bin" / "node"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTGRAPH_")}
    env.update(extra)
    return env


def install() -> Path:
    """tools/federation/node_modules from its lock (again only when the lock changes); Node 22."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "npm-ci.sh"), str(FEDERATION)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"npm ci in {FEDERATION} failed:\n{done.stderr}"
    version = subprocess.run([str(NODE), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v22."), version
    return NODE


@dataclass(frozen=True)
class Composition:
    errors: list[str]
    hints: list[str]
    supergraph_sdl: str | None
    api_schema: str | None


def compose(subgraphs: list[tuple[str, str]], **env: str) -> Composition:
    """compose.mjs over ``(name, url or file)`` pairs (``env``: AUTHORIZATION, TENANTGRAPH_GATEWAY_SECRET)."""
    done = subprocess.run(
        [str(NODE), "compose.mjs", *(f"{name}={source}" for name, source in subgraphs)],
        cwd=FEDERATION,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"compose.mjs exited {done.returncode}:\n{done.stderr}")
    out: dict[str, Any] = json.loads(done.stdout)
    return Composition(out["errors"], out["hints"], out["supergraphSdl"], out["apiSchema"])


class NodeProcess:
    """One script of tools/federation (``node SCRIPT PORT ARGS...``) on 127.0.0.1, log in a file."""

    def __init__(
        self, name: str, script: str, args: tuple[str, ...], log_dir: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.script = script
        self.args = args
        self.port = free_port()
        self.log_path = log_dir / f"{name}.log"
        self._env = _env(**(env or {}))
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/graphql"

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def describe(self) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            text = f"<cannot read {self.log_path}: {exc}>"
        tail = "\n".join(text.splitlines()[-60:])
        return (
            f"{self.name} (node {self.script}, pid {self.pid}, port {self.port}), its last log lines:\n{tail}"
        )

    def spawn(self) -> None:
        with open(self.log_path, "ab") as log_file:
            self._proc = subprocess.Popen(
                [*_pdeathsig_prefix("SIGTERM"), str(NODE), self.script, str(self.port), *self.args],
                cwd=FEDERATION,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_ready(self, within: float = START_TIMEOUT) -> None:
        """Until ``{ __typename }`` is answered at /graphql."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                if self._proc is None or self._proc.poll() is not None:
                    raise RuntimeError(f"exited while starting: {self.describe()}")
                with contextlib.suppress(httpx.TransportError):
                    answer = await client.post(self.url, json={"query": "{ __typename }"})
                    if answer.status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"not ready within {within:.0f}s: {self.describe()}")
                await asyncio.sleep(0.1)

    async def start(self) -> Self:
        self.spawn()
        await self.wait_ready()
        return self

    def stop(self) -> None:
        """SIGTERM to its PID and wait; SIGKILL when it does not exit in time."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)
