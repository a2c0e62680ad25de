"""Tests for the throwaway PostgreSQL / Redis harness (plain sync tests)."""

from __future__ import annotations

import asyncio
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest
import redis

from .servers import PostgresServer, RedisServer, _port_open, free_port

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


# -- helpers -----------------------------------------------------------------


def _proc_entries() -> list[tuple[int, int, str]]:
    """(pid, ppid, cmdline) of every live process."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        # state is after the ")" that ends the comm field
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] == "Z":
            continue
        out.append((int(entry), int(fields[1]), cmd))
    return out


def _tree(pid: int) -> set[int]:
    """pid and all its live descendants."""
    entries = _proc_entries()
    found = {pid} if any(p == pid for p, _, _ in entries) else set()
    changed = True
    while changed:
        changed = False
        for p, pp, _ in entries:
            if pp in found and p not in found:
                found.add(p)
                changed = True
    return found


def _alive(pids: set[int]) -> set[int]:
    live = {p for p, _, _ in _proc_entries()}
    return pids & live


def _wait_gone(pids: set[int], timeout: float = 15.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = _alive(pids)
        if not left:
            return left
        time.sleep(0.1)
    return _alive(pids)


def _procs_mentioning(text: str) -> list[tuple[int, str]]:
    return [(p, c) for p, _, c in _proc_entries() if text in c and p != os.getpid()]


@pytest.fixture
def open_dir():
    """A directory the ``postgres`` OS user can reach (no relocation needed)."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="tgh-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


# -- tests -------------------------------------------------------------------


def test_free_port_is_bindable():
    import socket

    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_postgres_and_redis_lifecycle(tmp_path):
    pg = PostgresServer(tmp_path / "pg")
    rd = RedisServer(tmp_path / "redis")
    try:
        pg.start()
        rd.start()

        # PostgreSQL answers select 1 in the "tenantgraph" database; psql is the superuser, the
        # application's role "tenantgraph" is none.
        assert pg.url == f"postgresql+asyncpg://tenantgraph@127.0.0.1:{pg.port}/tenantgraph"
        assert pg.psql("select 1", database="tenantgraph") == "1"
        roles = "select current_user, rolsuper from pg_roles where rolname = current_user"
        assert pg.psql(roles, database="tenantgraph") == "postgres|t"
        assert pg.psql(roles, database="tenantgraph", user="tenantgraph") == "tenantgraph|f"
        assert pg.psql("show fsync") == "off"
        assert pg.psql("show synchronous_commit") == "off"
        assert pg.psql("show full_page_writes") == "off"
        assert pg.psql("show max_connections") == "200"
        assert pg.psql("show listen_addresses") == "127.0.0.1"
        assert (tmp_path / "pg" / "postgres.log").is_file()
        assert (pg.data_dir / "PG_VERSION").is_file()
        assert pg.socket_dir.is_relative_to(pg.data_dir.parent)

        # Redis PING, restart on the same port, PING again.
        assert rd.running
        assert rd.url == f"redis://127.0.0.1:{rd.port}/0"
        client = redis.Redis.from_url(rd.url)
        assert client.ping() is True
        client.set("k", "v")
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("appendonly") == {"appendonly": "no"}
        client.close()

        port_before = rd.port
        first_pid = rd.pid
        rd.restart()
        assert rd.running
        assert rd.port == port_before
        assert rd.pid != first_pid
        client = redis.Redis.from_url(rd.url)
        assert client.ping() is True
        assert client.get("k") is None  # no persistence
        client.close()

        pg_tree = _tree(pg.pid)
        rd_tree = _tree(rd.pid)
        assert len(pg_tree) > 1  # postmaster + auxiliary processes
        data_dir = str(pg.data_dir)
    finally:
        pg.stop()
        rd.stop()

    # Stopped: ports closed, no process left behind.
    assert not pg.running
    assert not rd.running
    assert not _port_open(pg.port)
    assert not _port_open(rd.port)
    assert _wait_gone(pg_tree | rd_tree) == set()
    assert _procs_mentioning(data_dir) == []
    assert _procs_mentioning(f"redis-server 127.0.0.1:{rd.port}") == []
    assert not (pg.data_dir / "postmaster.pid").exists()

    # stop() is idempotent.
    pg.stop()
    rd.stop()


def test_postgres_asyncpg_and_create_database(open_dir):
    asyncpg = pytest.importorskip("asyncpg")

    with PostgresServer(open_dir / "pg") as pg:
        # An accessible, short base_dir is used directly.
        assert pg.data_dir == (open_dir / "pg" / "pgdata").resolve()
        url = pg.create_database("tenant_db_1")
        assert url == f"postgresql+asyncpg://tenantgraph@127.0.0.1:{pg.port}/tenant_db_1"

        async def query(sa_url: str) -> tuple[str, str, bool, bool]:
            conn = await asyncpg.connect(sa_url.replace("postgresql+asyncpg://", "postgresql://"))
            try:
                role = await conn.fetchrow(
                    "select current_database(), pg_get_userbyid(d.datdba), r.rolsuper, r.rolbypassrls"
                    " from pg_database d, pg_roles r"
                    " where d.datname = current_database() and r.rolname = current_user"
                )
                return tuple(role)
            finally:
                await conn.close()

        # The application's role owns the databases, and is neither superuser nor BYPASSRLS.
        assert asyncio.run(query(pg.url)) == ("tenantgraph", "tenantgraph", False, False)
        assert asyncio.run(query(url)) == ("tenant_db_1", "tenantgraph", False, False)
        assert asyncio.run(query(pg.superuser_url("tenant_db_1")))[2] is True
        pid = pg.pid
        port = pg.port
    assert not pg.running
    assert _wait_gone({pid}) == set()
    assert not _port_open(port)

    # A second start on the same base_dir reuses the cluster (and the port if free).
    with pg:
        assert pg.psql("select datname from pg_database where datname = 'tenant_db_1'") == "tenant_db_1"
    assert not pg.running


def test_redis_context_manager_and_fixed_port(tmp_path):
    port = free_port()
    with RedisServer(tmp_path, port=port) as rd:
        assert rd.port == port
        assert redis.Redis(port=port).ping()
    assert not rd.running
    assert not _port_open(port)


def test_redis_start_failure_reports_log(tmp_path):
    with RedisServer(tmp_path / "a") as first:
        second = RedisServer(tmp_path / "b", port=first.port)
        with pytest.raises(RuntimeError, match="redis-server"):
            second.start()
        assert not second.running
        assert first.running


def test_killed_parent_leaves_nothing_running(open_dir):
    """If the test process is SIGKILLed, the servers must go away too."""
    script = textwrap.dedent(
        f"""
        import os, pathlib, signal, sys
        sys.path.insert(0, {str(pathlib.Path(__file__).resolve().parents[1])!r})
        from harness.servers import PostgresServer, RedisServer
        pg = PostgresServer(pathlib.Path({str(open_dir / "pg")!r})); pg.start()
        rd = RedisServer(pathlib.Path({str(open_dir / "redis")!r})); rd.start()
        print(pg.pid, rd.pid, pg.port, rd.port, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    pg_pid, rd_pid, pg_port, rd_port = map(int, proc.stdout.split())
    try:
        assert _wait_gone({pg_pid, rd_pid}, timeout=30) == set()
        assert not _port_open(pg_port)
        assert not _port_open(rd_port)
    finally:
        for pid in _alive({pg_pid, rd_pid}):
            os.kill(pid, signal.SIGKILL)
