"""The example clients of examples/ against the demo server, as `bash scripts/run.sh` serves it:
a real `tenantgraph serve` process on a migrated, seeded SQLite file with the in-memory broadcast.

Each client signs in, queries, subscribes, places an order and cancels it; its whole output is
compared with what the server itself answers before and after, and the order it placed is read
back (cancelled, stock given back)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import Settings
from demo import DEMO_PASSWORD, seed_demo
from models.db import Database
from server.cli import migrate
from tests.support.live_server import LiveServer

ROOT = Path(__file__).resolve().parent.parent
TYPESCRIPT = ROOT / "examples" / "typescript"
RUN_TIMEOUT = 60  # seconds; a run takes a few (the two events, a second or so each)

STATE = """
{ orders { nodes { number status total { amount currency }
                   statusHistory { from to actor reason } } }
  products(first: 1, filter: {search: "router"}) {
    nodes { sku name price { amount currency } stockQuantity } } }
"""
LOGIN = "mutation($input: LoginInput!) { login(input: $input) { accessToken } }"


def _clean_env(**extra: str) -> dict[str, str]:
    """Our environment without the test suite's TENANTGRAPH_ settings: the embedded defaults."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTGRAPH_")}
    env.update(extra)
    return env


def _run(command: Sequence[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT * 5, check=False
    )


@pytest.fixture(scope="module")
async def demo_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    directory = tmp_path_factory.mktemp("examples")
    url = f"sqlite+aiosqlite:///{directory / 'tenantgraph.db'}"
    # What `tenantgraph migrate` and `seed-demo` do (tests/test_embedded_sqlite.py runs those), in
    # process: two interpreters fewer to start.
    await asyncio.to_thread(migrate, Settings(database_url=url))  # Alembic runs its own event loop
    db = Database(url)
    try:
        await seed_demo(db)
    finally:
        await db.dispose()
    server = LiveServer("demo", directory, {"TENANTGRAPH_DATABASE_URL": url})
    server.spawn()
    try:
        await server.wait_healthy()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def typescript_installed() -> Path:
    """examples/typescript/node_modules from its package-lock.json, Node 22 among the packages
    (scripts/npm-ci.sh: installed again only when the lock changes)."""
    done = _run(["bash", str(ROOT / "scripts" / "npm-ci.sh"), str(TYPESCRIPT)], ROOT, _clean_env())
    assert done.returncode == 0, f"npm ci in {TYPESCRIPT} failed:\n{done.stderr}"
    node = TYPESCRIPT / "node_modules" / ".bin" / "node"
    version = _run([str(node), "--version"], TYPESCRIPT, _clean_env()).stdout
    assert version.startswith("v22."), version
    return TYPESCRIPT


async def server_state(server: LiveServer) -> dict[str, Any]:
    """What the demo user of acme sees: their orders (newest first) and the example's product."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        account = {"tenantSlug": "acme", "email": "user@acme.example", "password": DEMO_PASSWORD}
        login = await http.post("/graphql", json={"query": LOGIN, "variables": {"input": account}})
        token = login.json()["data"]["login"]["accessToken"]
        answer = await http.post(
            "/graphql", json={"query": STATE}, headers={"Authorization": f"Bearer {token}"}
        )
    body = answer.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def money(value: dict[str, Any]) -> str:
    return f"{value['amount']} {value['currency']} (minor units)"


async def run_example(server: LiveServer, command: Sequence[str], cwd: Path) -> None:
    """Run a client against ``server`` and check its output line by line against the server's state."""
    before = await server_state(server)
    done = _run([*command, server.base_url], cwd, _clean_env())
    output = done.stdout.splitlines()
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"

    placed = next((m[1] for line in output if (m := re.fullmatch(r"placed order (\S+) PENDING", line))), None)
    assert placed is not None, done.stdout
    assert placed not in {order["number"] for order in before["orders"]["nodes"]}
    product = before["products"]["nodes"][0]
    assert output == [
        "signed in as user@acme.example (tenant acme)",
        *(
            f"order {order['number']} {order['status']} total {money(order['total'])}"
            for order in before["orders"]["nodes"]
        ),
        f"product {product['sku']} {product['name']} price {money(product['price'])}",
        "subscribed to orderStatusChanged",
        f"placed order {placed} PENDING",
        f"event: order {placed} (new) -> PENDING by user",
        f"cancelled order {placed} CANCELLED",
        f"event: order {placed} PENDING -> CANCELLED by user",
    ], done.stderr

    after = await server_state(server)
    (order,) = (o for o in after["orders"]["nodes"] if o["number"] == placed)
    assert order["status"] == "CANCELLED"
    assert order["statusHistory"] == [
        {"from": None, "to": "PENDING", "actor": "user", "reason": None},
        {"from": "PENDING", "to": "CANCELLED", "actor": "user", "reason": "Example client"},
    ]
    assert order["total"] == product["price"]  # one of the product
    assert after["products"]["nodes"][0]["stockQuantity"] == product["stockQuantity"]  # given back


async def test_python_client(demo_server: LiveServer) -> None:
    await run_example(demo_server, [sys.executable, "examples/python/client.py"], ROOT)


async def test_typescript_client(demo_server: LiveServer, typescript_installed: Path) -> None:
    await run_example(demo_server, ["npm", "start", "--silent", "--"], typescript_installed)


def test_typescript_client_type_checks(typescript_installed: Path) -> None:
    done = _run(["npm", "run", "--silent", "check"], typescript_installed, _clean_env())
    assert done.returncode == 0, f"tsc --noEmit:\n{done.stdout}\n{done.stderr}"
