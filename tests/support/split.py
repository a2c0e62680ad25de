"""The split deployment as real processes: one ``tenantgraph serve --subgraph GROUP`` per domain
group (subgraph/groups.py), all on one database and broadcast."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from subgraph.groups import GROUPS
from tests.support.live_server import LiveServer


async def start_split(log_dir: Path, env: Mapping[str, str]) -> dict[str, LiveServer]:
    """The four split subgraphs, started in parallel and healthy on return: group -> server
    (its GraphQL endpoint at ``base_url + "/graphql"``). Stop them with ``stop_split``."""
    servers = {
        group: LiveServer(f"split-{group}", log_dir, env, extra_args=("--subgraph", group))
        for group in GROUPS
    }
    try:
        for server in servers.values():
            server.spawn()
        await asyncio.gather(*(server.wait_healthy() for server in servers.values()))
    except BaseException:
        await stop_split(servers)
        raise
    return servers


async def stop_split(servers: Mapping[str, LiveServer]) -> dict[str, int | None]:
    """Stops every server; their exit codes by group."""
    codes = await asyncio.gather(*(server.stop_async() for server in servers.values()))
    return dict(zip(servers, codes, strict=True))
