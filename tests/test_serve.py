"""`tenantgraph serve --workers N`: several processes share the port, each a whole server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from tests.conftest import TEST_SIGNING_KEY
from tests.support.identity import Identity
from tests.support.live_server import LiveServer, server_env

ROOT = Path(__file__).resolve().parent.parent


def _worker_processes(parent: int) -> list[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [int(pid) for pid in children if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]


async def test_two_workers_serve_requests(settings: Settings, identity: Identity, tmp_path: Path) -> None:
    account = await identity.account("acme")
    env = server_env(settings.database_url, settings.broadcast_url, TEST_SIGNING_KEY)
    server = LiveServer("workers", tmp_path, env, extra_args=("--workers", "2"))
    server.spawn()
    try:
        await server.wait_healthy()
        assert server.pid is not None
        assert len(_worker_processes(server.pid)) == 2, server.describe()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
            for _ in range(20):  # new connections: the kernel spreads them over both workers
                response = await client.post(
                    "/graphql",
                    json={"query": "{ me { email } }"},
                    headers={"Authorization": f"Bearer {account.token}", "Connection": "close"},
                )
                assert response.json()["data"] == {"me": {"email": account.email}}, response.text
    finally:
        assert server.stop() == 0, server.describe()


def test_several_workers_need_a_shared_broadcast() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTGRAPH_")}
    env["TENANTGRAPH_BROADCAST_URL"] = "memory://"
    result = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--workers", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "needs a shared broadcast" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_workers_must_be_positive(workers: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--workers", workers],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--workers" in result.stderr
