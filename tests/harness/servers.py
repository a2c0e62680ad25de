"""Throwaway PostgreSQL and Redis servers for the test suite.

Both servers run as child processes of the test process (no daemonizing, no
system service), listen on 127.0.0.1 only, keep their logs in ``base_dir`` and
are stopped by ``stop()``, by ``__exit__``, by an ``atexit`` fallback and --
when the process that started them dies without running ``atexit`` (SIGKILL,
CI timeout) -- by a parent-death signal (``setpriv --pdeathsig``), so nothing
is left running.

PostgreSQL refuses to run as root; when the tests run as root, ``initdb`` and
``postgres`` are run as the ``postgres`` system user.  If that user cannot
reach ``base_dir`` (pytest's ``tmp_path`` lives under a root-only 0700
directory) or the unix socket path would be too long, the data directory and
socket directory live in a private temporary directory instead (linked from
``base_dir/pgdata``) which is removed when the process exits.

The cluster's bootstrap superuser is ``postgres`` (``psql`` runs as it by default); the
application connects as ``tenantgraph`` (``url``), a role with neither SUPERUSER nor BYPASSRLS
that owns the databases ``create_database`` makes and runs their migrations, so PostgreSQL
row-level security applies to everything it does.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import IO, Any

__all__ = ["PG_SUPERUSER", "PG_USER", "PostgresServer", "RedisServer", "free_port"]

PG_USER = "tenantgraph"  # the application's role: no superuser, no BYPASSRLS
PG_SUPERUSER = "postgres"
PG_DATABASE = "tenantgraph"
PG_OS_USER = "postgres"
HOST = "127.0.0.1"

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
# sun_path is 108 bytes on Linux; stay a little below it.
_MAX_SOCKET_PATH = 100


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is currently free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _port_open(port: int, host: str = HOST, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _tail(path: pathlib.Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


def _is_root() -> bool:
    return os.geteuid() == 0


def _clean_env() -> dict[str, str]:
    """Environment without libpq/redis variables that could redirect clients."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.setdefault("LC_ALL", "C.UTF-8")
    return env


_SETPRIV_PDEATHSIG: bool | None = None


def _pdeathsig_prefix(sig: str) -> list[str]:
    """``setpriv --pdeathsig SIG --`` when usable from this thread.

    The parent-death signal fires when the *thread* that forked the child
    exits, so it is only used from the main thread (whose exit is the
    process's exit).
    """
    global _SETPRIV_PDEATHSIG
    if threading.current_thread() is not threading.main_thread():
        return []
    if _SETPRIV_PDEATHSIG is None:
        setpriv = shutil.which("setpriv")
        ok = False
        if setpriv and sys.platform.startswith("linux"):
            try:
                out = subprocess.run(
                    [setpriv, "--help"],
                    check=False,
                    capture_output=True,
                    text=True,
                    timeout=10,
                )
                ok = "pdeathsig" in (out.stdout + out.stderr)
            except (OSError, subprocess.SubprocessError):
                ok = False
        _SETPRIV_PDEATHSIG = ok
    if not _SETPRIV_PDEATHSIG:
        return []
    return [shutil.which("setpriv") or "setpriv", "--pdeathsig", sig, "--"]


def _terminate(proc: subprocess.Popen, first_signal: int, timeout: float) -> None:
    """Signal ``proc`` and wait; escalate to SIGQUIT/SIGKILL if it hangs."""
    if proc.poll() is not None:
        return
    for sig, wait in (
        (first_signal, timeout),
        (signal.SIGQUIT, 10.0),
        (signal.SIGKILL, 10.0),
    ):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
    proc.wait()


# Servers still running; stopped at interpreter exit as a fallback.
_RUNNING: set[_Server] = set()
_RUNNING_LOCK = threading.Lock()
_TEMP_DIRS: list[pathlib.Path] = []


@atexit.register
def _stop_all() -> None:
    with _RUNNING_LOCK:
        servers = list(_RUNNING)
    for server in servers:
        try:
            server.stop()
        except (
            OSError,
            RuntimeError,
            subprocess.SubprocessError,
        ) as exc:  # pragma: no cover
            print(
                f"tests.harness.servers: failed to stop {server!r}: {exc}",
                file=sys.stderr,
            )
    for path in _TEMP_DIRS:
        shutil.rmtree(path, ignore_errors=True)


class _PortInUse(RuntimeError):
    pass


# What a server writes to its log when another process holds its port.
_PORT_IN_USE_LOG = ("Address already in use", "could not create any TCP/IP sockets")


class _Server:
    """A server process with its output appended to ``log_path``."""

    name = "server"
    log_path: pathlib.Path
    _proc: subprocess.Popen | None = None
    _log_file: IO[bytes] | None = None

    def _register(self) -> None:
        with _RUNNING_LOCK:
            _RUNNING.add(self)

    def _unregister(self) -> None:
        with _RUNNING_LOCK:
            _RUNNING.discard(self)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def stop(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)

    def _launch(self, cmd: list[str], port: int, cwd: pathlib.Path, **popen_kwargs: Any) -> int:
        """Start ``cmd`` (to listen on ``port``) in a session of its own; returns where its output
        begins in the log."""
        if _port_open(port):
            raise _PortInUse(f"port {port} in use")
        if self._log_file is not None:
            self._log_file.close()
        # Kept open for the server's lifetime (its stdout/stderr); closed in _end().
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115
        offset = self._log_file.tell()
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            cwd=str(cwd),
            start_new_session=True,  # Ctrl-C in the terminal must not hit it
            **popen_kwargs,
        )
        self._register()
        return offset

    def _await_ready(
        self, ready: Callable[[], bool], log_offset: int, port: int, not_ready: str, poll_seconds: float
    ) -> None:
        """Wait until ``ready()``; a process that exits early because its port was taken raises
        _PortInUse, any other early exit or a timeout RuntimeError with the log's last lines."""
        assert self._proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            code = self._proc.poll()
            if code is not None:
                self._proc = None
                self._unregister()
                log = self._log_since(log_offset)
                if any(marker in log for marker in _PORT_IN_USE_LOG):
                    raise _PortInUse(f"port {port} in use")
                raise RuntimeError(
                    f"{self.name} exited with code {code} during start-up; "
                    f"last lines of {self.log_path}:\n{self.log_tail()}"
                )
            if ready():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"{self.name} {not_ready} within {START_TIMEOUT:.0f}s; "
                    f"last lines of {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(poll_seconds)

    def _log_since(self, offset: int) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(offset)
                return fh.read().decode(errors="replace")
        except OSError:
            return ""

    def _end(self, first_signal: int) -> None:
        """Stop the process (``first_signal``, escalating if it hangs) and close its log."""
        proc = self._proc
        if proc is not None:
            _terminate(proc, first_signal, STOP_TIMEOUT)
            self._proc = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        self._unregister()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __del__(self) -> None:
        # Last-resort: never leave a server behind when the object is dropped.
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError, RuntimeError, subprocess.SubprocessError):
                self.stop()


# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------


def _version_key(path: str) -> tuple[int, ...]:
    name = pathlib.Path(path).parent.name
    return tuple(int(p) for p in re.findall(r"\d+", name)) or (0,)


def find_pg_bindir() -> pathlib.Path:
    """Directory with the PostgreSQL *server* binaries (initdb, postgres)."""
    candidates: list[str] = []
    env = os.environ.get("TENANTGRAPH_PG_BINDIR")
    if env:
        candidates.append(env)
    candidates.extend(sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"],
                check=False,
                capture_output=True,
                text=True,
                timeout=10,
            )
            if out.returncode == 0 and out.stdout.strip():
                candidates.append(out.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(pathlib.Path(initdb).parent))
    for cand in candidates:
        path = pathlib.Path(cand)
        if (path / "initdb").is_file() and (path / "postgres").is_file():
            return path
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, postgres) not found; "
        "run scripts/install-services.sh or set TENANTGRAPH_PG_BINDIR"
    )


class PostgresServer(_Server):
    """A private PostgreSQL cluster in ``base_dir``."""

    name = "postgres"

    def __init__(self, base_dir: pathlib.Path) -> None:
        self.base_dir = pathlib.Path(base_dir).resolve()
        self._port: int | None = None
        self._bindir: pathlib.Path | None = None
        self._root: pathlib.Path | None = None  # dir holding pgdata + sock
        self._run_as_pg = _is_root()
        self.log_path = self.base_dir / "postgres.log"
        self.initdb_log_path = self.base_dir / "initdb.log"

    # -- public API --------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("PostgresServer has not been started")
        return self._port

    @property
    def url(self) -> str:
        return self._url(PG_DATABASE)

    @property
    def data_dir(self) -> pathlib.Path:
        self._prepare_dirs()
        assert self._root is not None
        return self._root / "pgdata"

    @property
    def socket_dir(self) -> pathlib.Path:
        self._prepare_dirs()
        assert self._root is not None
        return self._root / "sock"

    def start(self) -> None:
        if self.running:
            return
        self._bindir = find_pg_bindir()
        self._prepare_dirs()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        last_error: Exception | None = None
        for attempt in range(3):
            # Keep the previous port across stop()/start() when possible.
            port = self._port if (attempt == 0 and self._port is not None) else free_port()
            try:
                self._start_postmaster(port)
            except _PortInUse as exc:
                last_error = exc
                continue
            self._port = port
            break
        else:
            raise RuntimeError(f"PostgreSQL could not bind a port: {last_error}")
        try:
            self._ensure_role()
            self._ensure_database(PG_DATABASE)
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        # SIGINT = "fast" shutdown: abort transactions, checkpoint, exit.
        self._end(signal.SIGINT)

    def create_database(self, name: str) -> str:
        """Create database ``name``, owned by the application role, and return its asyncpg
        SQLAlchemy URL (as that role)."""
        if not self.running:
            raise RuntimeError("PostgresServer is not running")
        self.psql(f"CREATE DATABASE {_quote_ident(name)} OWNER {_quote_ident(PG_USER)}")
        return self._url(name)

    def superuser_url(self, database: str = PG_DATABASE) -> str:
        """The asyncpg SQLAlchemy URL of ``database`` as the superuser (row-level security does not
        apply to it): for looking behind the application's back."""
        return self._url(database, PG_SUPERUSER)

    def psql(self, sql: str, database: str = "postgres", user: str = PG_SUPERUSER) -> str:
        """Run ``sql`` with psql over TCP as ``user``; return its unaligned, tuples-only output."""
        if not self.running:
            raise RuntimeError("PostgresServer is not running")
        cmd = [
            str(self._psql_binary()),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            HOST,
            "-p",
            str(self.port),
            "-U",
            user,
            "-d",
            database,
            "-c",
            sql,
        ]
        out = subprocess.run(
            cmd,
            check=False,
            capture_output=True,
            text=True,
            env=_clean_env(),
            timeout=60,
        )
        if out.returncode != 0:
            raise RuntimeError(f"psql failed ({out.returncode}): {sql!r}\n{out.stderr.strip()}")
        return out.stdout.strip()

    def __repr__(self) -> str:
        return f"PostgresServer(base_dir={str(self.base_dir)!r}, port={self._port})"

    # -- internals ---------------------------------------------------------

    def _url(self, database: str, user: str = PG_USER) -> str:
        return f"postgresql+asyncpg://{user}@{HOST}:{self.port}/{database}"

    def _psql_binary(self) -> pathlib.Path | str:
        bindir = self._bindir or find_pg_bindir()
        psql = bindir / "psql"
        return psql if psql.is_file() else (shutil.which("psql") or "psql")

    def _pg_popen_kwargs(self) -> dict:
        kwargs: dict = {"env": _clean_env()}
        if self._run_as_pg:
            kwargs.update(user=PG_OS_USER, group=_pg_group(), extra_groups=[])
        return kwargs

    def _pg_can_use(self, path: pathlib.Path) -> bool:
        if not self._run_as_pg:
            return True
        out = subprocess.run(
            ["test", "-d", str(path), "-a", "-w", str(path), "-a", "-x", str(path)],
            check=False,
            capture_output=True,
            **self._pg_popen_kwargs(),
        )
        return out.returncode == 0

    def _prepare_dirs(self) -> None:
        if self._root is not None:
            return
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self._run_as_pg:
            shutil.chown(self.base_dir, user=PG_OS_USER, group=_pg_group())
        sock_path = self.base_dir / "sock" / ".s.PGSQL.65535"
        link = self.base_dir / "pgdata"
        if link.is_symlink():
            # Left over from an earlier run in the same base_dir.
            link.unlink()
        if len(str(sock_path)) <= _MAX_SOCKET_PATH and self._pg_can_use(self.base_dir):
            self._root = self.base_dir
        else:
            root = pathlib.Path(tempfile.mkdtemp(prefix="tgpg-", dir=_short_tmp()))
            _TEMP_DIRS.append(root)
            if self._run_as_pg:
                shutil.chown(root, user=PG_OS_USER, group=_pg_group())
            if not self._pg_can_use(root):
                raise RuntimeError(f"user {PG_OS_USER!r} cannot use {self.base_dir} nor {root}")
            self._root = root
            with contextlib.suppress(OSError):
                link.symlink_to(root / "pgdata", target_is_directory=True)
        for sub in ("sock",):
            path = self._root / sub
            path.mkdir(mode=0o700, exist_ok=True)
            if self._run_as_pg:
                shutil.chown(path, user=PG_OS_USER, group=_pg_group())

    def _initdb(self) -> None:
        assert self._bindir is not None and self._root is not None
        cmd = [
            str(self._bindir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            PG_SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ]
        with open(self.initdb_log_path, "ab") as log:
            proc = subprocess.run(
                cmd,
                check=False,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=str(self._root),
                timeout=300,
                **self._pg_popen_kwargs(),
            )
        if proc.returncode != 0:
            raise RuntimeError(
                f"initdb failed with exit code {proc.returncode}; "
                f"last lines of {self.initdb_log_path}:\n{_tail(self.initdb_log_path)}"
            )

    def _start_postmaster(self, port: int) -> None:
        assert self._bindir is not None and self._root is not None
        settings = {
            "listen_addresses": HOST,
            "port": str(port),
            "unix_socket_directories": str(self.socket_dir),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "128MB",
            "logging_collector": "off",
            "log_min_messages": "warning",
            "log_line_prefix": "%m [%p] ",
            "max_wal_size": "1GB",
            "checkpoint_timeout": "30min",
            "jit": "off",
        }
        cmd = [*_pdeathsig_prefix("SIGINT"), str(self._bindir / "postgres"), "-D", str(self.data_dir)]
        for key, value in settings.items():
            cmd += ["-c", f"{key}={value}"]
        log_offset = self._launch(cmd, port, self.data_dir, **self._pg_popen_kwargs())
        pg_isready = self._bindir / "pg_isready"
        # postmaster.pid names our pid and says "ready" once the postmaster listens on every
        # socket; only then ask over TCP.
        self._await_ready(
            lambda: self._postmaster_ready() and self._isready(pg_isready, port),
            log_offset,
            port,
            "did not become ready",
            poll_seconds=0.05,
        )

    def _postmaster_ready(self) -> bool:
        assert self._proc is not None
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[0].strip() == str(self._proc.pid) and lines[7].strip() == "ready"

    @staticmethod
    def _isready(pg_isready: pathlib.Path, port: int) -> bool:
        if not pg_isready.is_file():
            return _port_open(port)
        out = subprocess.run(
            [
                str(pg_isready),
                "-q",
                "-h",
                HOST,
                "-p",
                str(port),
                "-U",
                PG_SUPERUSER,
                "-d",
                "postgres",
            ],
            check=False,
            env=_clean_env(),
            capture_output=True,
            timeout=30,
        )
        return out.returncode == 0

    def _ensure_role(self) -> None:
        exists = self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = {_quote_literal(PG_USER)}")
        if exists != "1":
            role = _quote_ident(PG_USER)
            self.psql(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")

    def _ensure_database(self, name: str) -> None:
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = {_quote_literal(name)}")
        if exists != "1":
            self.psql(f"CREATE DATABASE {_quote_ident(name)} OWNER {_quote_ident(PG_USER)}")


def _pg_group() -> str:
    import grp
    import pwd

    return grp.getgrgid(pwd.getpwnam(PG_OS_USER).pw_gid).gr_name


def _short_tmp() -> str:
    for cand in (tempfile.gettempdir(), "/tmp"):
        if len(cand) < 40 and os.path.isdir(cand):
            return cand
    return "/tmp"


def _quote_ident(name: str) -> str:
    if not name or "\x00" in name:
        raise ValueError(f"invalid database name: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# --------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------


def find_redis_server() -> str:
    env = os.environ.get("TENANTGRAPH_REDIS_SERVER")
    for cand in (env, shutil.which("redis-server"), "/usr/bin/redis-server"):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    raise RuntimeError(
        "redis-server not found; run scripts/install-services.sh or set TENANTGRAPH_REDIS_SERVER"
    )


def _redis_ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _redis_pid(port: int, timeout: float = 2.0) -> int | None:
    """process_id reported by ``INFO server`` of the redis on ``port``."""
    data = b""
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"INFO server\r\n")
            # Reply is a RESP bulk string: b"$<len>\r\n<payload>\r\n".
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                header, sep, body = data.partition(b"\r\n")
                if sep and header.startswith(b"$") and len(body) >= int(header[1:]):
                    break
                if sep and not header.startswith(b"$"):
                    break
    except (OSError, ValueError):
        return None
    match = re.search(rb"process_id:(\d+)", data)
    return int(match.group(1)) if match else None


class RedisServer(_Server):
    """A private, non-persistent redis-server on 127.0.0.1."""

    name = "redis-server"

    def __init__(self, base_dir: pathlib.Path, port: int | None = None) -> None:
        self.base_dir = pathlib.Path(base_dir).resolve()
        self._fixed_port = port is not None
        self._port: int = port if port is not None else free_port()
        self._started_once = False
        self.log_path = self.base_dir / "redis.log"

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self._port}/0"

    def start(self) -> None:
        if self.running:
            return
        self.base_dir.mkdir(parents=True, exist_ok=True)
        binary = find_redis_server()
        # Only the very first start may move to another port (if the one
        # picked in __init__ got taken meanwhile); restarts keep the port.
        attempts = 1 if (self._fixed_port or self._started_once) else 3
        for attempt in range(attempts):
            try:
                self._spawn(binary)
            except _PortInUse:
                if attempt + 1 >= attempts:
                    raise RuntimeError(
                        f"redis-server could not bind port {self._port}; "
                        f"last lines of {self.log_path}:\n{self.log_tail()}"
                    ) from None
                self._port = free_port()
                continue
            self._started_once = True
            return

    def _spawn(self, binary: str) -> None:
        cmd = [
            *_pdeathsig_prefix("SIGTERM"),
            binary,
            "--port", str(self._port),
            "--bind", HOST,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--supervised", "no",
            "--dir", str(self.base_dir),
            "--logfile", "",
            "--loglevel", "notice",
            "--databases", "16",
        ]  # fmt: skip
        log_offset = self._launch(cmd, self._port, self.base_dir, env=_clean_env())
        self._await_ready(self._answers, log_offset, self._port, "did not answer PING", poll_seconds=0.02)

    def _answers(self) -> bool:
        """Our redis-server answers PING on its port."""
        assert self._proc is not None
        if not _redis_ping(self._port):
            return False
        if _redis_pid(self._port) == self._proc.pid:
            return True
        # Someone else answered on our port: ours cannot bind it.
        self._end(signal.SIGTERM)
        raise _PortInUse(f"port {self._port} in use")

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def restart(self) -> None:
        self.stop()
        self.start()

    def __repr__(self) -> str:
        return f"RedisServer(base_dir={str(self.base_dir)!r}, port={self._port})"
