"""The Node side of the federation tests: tools/federation installed from its package-lock.json
(scripts/npm-ci.sh), its scripts run as child processes on free ports with their logs in files,
and compose.mjs's answer read."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import httpx

from tests.support.live_server import ROOT, LiveServer

FEDERATION = ROOT / "tools" / "federation"
NODE = FEDERATION / "node_modules" / ".bin" / "node"


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


class NodeProcess(LiveServer):
    """One script of tools/federation (``node SCRIPT PORT ARGS...``) on 127.0.0.1, log in a file;
    LiveServer's port, log, URLs and stopping by PID (SIGTERM, then SIGKILL)."""

    def __init__(
        self, name: str, script: str, args: tuple[str, ...], log_dir: Path, env: dict[str, str] | None = None
    ) -> None:
        super().__init__(name, log_dir, env or {}, args)
        self.script = script

    @property
    def url(self) -> str:
        return f"{self.base_url}/graphql"

    def describe(self) -> str:
        return f"{self.name} (node {self.script}, pid {self.pid}, port {self.port}), log:\n{self.log_tail()}"

    def command(self) -> list[str]:
        return [str(NODE), str(FEDERATION / self.script), str(self.port), *self.extra_args]

    async def answers(self, client: httpx.AsyncClient) -> bool:
        return (await client.post(self.url, json={"query": "{ __typename }"})).status_code == 200

    async def start(self) -> Self:
        self.spawn()
        await self.wait_healthy()
        return self
