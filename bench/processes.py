"""The servers of one bench run: PostgreSQL with pg_stat_statements, Redis, our server with N
workers, PostGraphile 5; and the RSS sampler. Every process listens on 127.0.0.1 only, runs in a
session of its own with a parent-death signal, and is stopped by ``Processes.close`` (the runner
calls it in ``finally`` and on SIGTERM/SIGINT)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from tests.harness.servers import HOST, PostgresServer, RedisServer, free_port

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
NODE = BENCH / "node_modules" / ".bin" / "node"
START_SECONDS = 120.0
STOP_SECONDS = 20.0


class StartFailed(RuntimeError):
    """A server did not start: the smoke fails on this."""


def start_postgres(base_dir: Path, database: str) -> tuple[PostgresServer, str]:
    """A throwaway cluster preloading pg_stat_statements; returns it and the asyncpg URL of
    ``database``. The harness takes no extra server options, so the setting goes into
    postgresql.auto.conf (ALTER SYSTEM) and the cluster is restarted once, on the same port.
    pg_stat_statements' defaults track utility statements (BEGIN, COMMIT, SET ...) too."""
    server = PostgresServer(base_dir)
    try:
        server.start()
        server.psql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        server.stop()
        server.start()
        url = server.create_database(database)
        # Reset and read from the maintenance database, so that neither lands in the counts.
        server.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", "postgres")
    except RuntimeError as error:
        server.stop()
        raise StartFailed(f"PostgreSQL: {error}") from error
    return server, url


def start_redis(base_dir: Path) -> RedisServer:
    server = RedisServer(base_dir)
    try:
        server.start()
    except RuntimeError as error:
        raise StartFailed(f"Redis: {error}") from error
    return server


def pdeathsig() -> list[str]:
    """Run a child so that it gets SIGTERM when this process dies (even by SIGKILL)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "SIGTERM", "--"] if setpriv else []


@dataclass
class Service:
    """An HTTP server process we started (its whole session is ours)."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/graphql"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, STOP_SECONDS), (signal.SIGKILL, 5.0)):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, sig)
                try:
                    self.proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self.log_file.close()


def _spawn(name: str, cmd: list[str], env: dict[str, str], port: int, log_dir: Path) -> Service:
    log_path = log_dir / f"{name}.log"
    log_file = open(log_path, "ab")  # noqa: SIM115 - the server's stdout for its lifetime
    proc = subprocess.Popen(
        [*pdeathsig(), *cmd],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Service(name, port, proc, log_path, log_file)


def _await_http(service: Service, probe: str, body: dict[str, object] | None) -> None:
    deadline = time.monotonic() + START_SECONDS
    with httpx.Client(timeout=5.0) as client:
        while time.monotonic() < deadline:
            if service.proc.poll() is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                response = client.post(probe, json=body) if body else client.get(probe)
                if response.status_code == 200:
                    return
            time.sleep(0.2)
    service.stop()
    raise StartFailed(
        f"{service.name} did not answer on {probe} (exit code {service.proc.poll()}); "
        f"last lines of {service.log_path}:\n{service.log_tail()}"
    )


def base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("TENANTGRAPH_", "PG"))}


def our_settings(database_url: str, broadcast_url: str) -> dict[str, str]:
    """Production-like settings; the background polls are slowed so that statement counts see only
    the requests (the outbox dispatcher is still woken after every commit)."""
    return {
        "TENANTGRAPH_DATABASE_URL": database_url,
        "TENANTGRAPH_BROADCAST_URL": broadcast_url,
        "TENANTGRAPH_LOG_LEVEL": "WARNING",
        "TENANTGRAPH_JWT_SIGNING_KEY": "bench-signing-key-" + "k" * 32,
        "TENANTGRAPH_AUTH_RATE_LIMIT_PER_ACCOUNT": "1000000",
        "TENANTGRAPH_AUTH_RATE_LIMIT_PER_IP": "1000000",
        "TENANTGRAPH_ACCESS_TOKEN_TTL_SECONDS": str(6 * 3600),
        "TENANTGRAPH_OUTBOX_POLL_SECONDS": "3600",
        "TENANTGRAPH_MAIL_POLL_SECONDS": "3600",
        "TENANTGRAPH_BILLING_JOBS_SECONDS": "0",
    }


@dataclass
class Starting:
    """A server spawned and not yet answering: ``ready`` waits for its probe."""

    service: Service
    probe: str
    body: dict[str, object] | None

    def ready(self) -> Service:
        _await_http(self.service, self.probe, self.body)
        return self.service


def spawn_ours(settings: dict[str, str], workers: int, log_dir: Path) -> Starting:
    port = free_port()
    cmd = [str(ROOT / ".venv/bin/tenantgraph"), "serve", "--host", HOST, "--port", str(port)]
    cmd += ["--workers", str(workers)]
    service = _spawn(f"tenantgraph-w{workers}", cmd, {**base_env(), **settings}, port, log_dir)
    return Starting(service, f"http://{HOST}:{port}/readyz", None)


def spawn_postgraphile(database_url: str, log_dir: Path) -> Starting:
    if not NODE.exists():
        raise StartFailed(f"{NODE} missing: run bash bench/run.sh (it runs npm ci in bench/)")
    port = free_port()
    env = {
        **base_env(),
        "NODE_ENV": "production",
        "DATABASE_URL": database_url.replace("postgresql+asyncpg://", "postgres://"),
        "PORT": str(port),
        "HOST": HOST,
    }
    service = _spawn("postgraphile", [str(NODE), str(BENCH / "postgraphile.mjs")], env, port, log_dir)
    return Starting(service, service.url, {"query": "{ __typename }"})


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(root: int) -> list[int]:
    tree, found, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


def tree_rss_kib(root: int) -> int:
    """RSS of ``root`` and every process below it (uvicorn's workers), in KiB."""
    return sum(_rss_kib(pid) for pid in _tree(root))


def _cpu_seconds(roots: list[int]) -> float:
    ticks = 0
    for pid in (p for root in roots for p in _tree(root)):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_idle(roots: list[int], timeout: float = 20.0, window: float = 0.5, busy: float = 0.1) -> float:
    """Waits (at most ``timeout`` s) until these process trees use under ``busy`` of a core over
    ``window`` s: requests a finished wrk run left queued do not run into the next measurement.
    Returns the seconds waited."""
    started = time.monotonic()
    before = _cpu_seconds(roots)
    while time.monotonic() - started < timeout:
        time.sleep(window)
        after = _cpu_seconds(roots)
        if after - before < busy * window:
            break
        before = after
    return time.monotonic() - started


@dataclass
class RssSampler:
    """Samples the RSS of the registered servers every ``interval`` seconds in a thread; ``peak``
    is the highest sum seen since the last ``reset``."""

    interval: float = 0.25
    roots: dict[str, int] = field(default_factory=dict)
    peaks: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def watch(self, name: str, pid: int) -> None:
        with self._lock:
            self.roots[name] = pid
            self.peaks[name] = 0
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
            self._thread.start()

    def forget(self, name: str) -> None:
        with self._lock:
            self.roots.pop(name, None)

    def reset(self, name: str) -> None:
        with self._lock:
            self.peaks[name] = tree_rss_kib(self.roots[name]) if name in self.roots else 0

    def peak(self, name: str) -> int:
        with self._lock:
            return self.peaks.get(name, 0)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                roots = dict(self.roots)
            sizes = {name: tree_rss_kib(pid) for name, pid in roots.items()}
            with self._lock:
                for name, size in sizes.items():
                    self.peaks[name] = max(self.peaks.get(name, 0), size)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


@dataclass
class Processes:
    """What to stop at the end, newest first."""

    services: list[Service] = field(default_factory=list)
    others: list[PostgresServer | RedisServer] = field(default_factory=list)
    sampler: RssSampler = field(default_factory=RssSampler)

    def stop_service(self, service: Service) -> None:
        self.sampler.forget(service.name)
        service.stop()
        if service in self.services:
            self.services.remove(service)

    def close(self) -> None:
        self.sampler.stop()
        for service in reversed(self.services):
            service.stop()
        self.services.clear()
        for server in reversed(self.others):
            with contextlib.suppress(RuntimeError, OSError, subprocess.SubprocessError):
                server.stop()
        self.others.clear()
