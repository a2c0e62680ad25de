"""The command line: every failure is one line on stderr and a non-zero exit (no traceback), and
the commands say what they did."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from server.cli import main, migrate
from server.migration_state import script_heads
from subgraph.build import build_schema
from tests.conftest import TEST_SIGNING_KEY, make_settings
from tests.harness.servers import PostgresServer, free_port
from tests.support.live_server import server_env

ROOT = Path(__file__).resolve().parent.parent
HEAD = ", ".join(sorted(script_heads()))
PENDING = f"migrations pending (database at revision none, code at {HEAD}): run `tenantgraph migrate` first"
PASSWORD = "a-long-enough-password-1"


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database_url: str, *argv: str
) -> tuple[int, str, str]:
    """``tenantgraph <argv>`` in this process on ``database_url``: (exit status, stdout, stderr)."""
    monkeypatch.setenv("TENANTGRAPH_DATABASE_URL", database_url)
    monkeypatch.setenv("TENANTGRAPH_JWT_SIGNING_KEY", TEST_SIGNING_KEY)
    capsys.readouterr()
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(("seed-demo",), id="seed-demo"),
        pytest.param(
            ("create-admin", "--email", "ops@platform.example", "--password", PASSWORD), id="create-admin"
        ),
    ],
)
def test_an_unmigrated_database_says_run_migrate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    status, out, err = run(capsys, monkeypatch, sqlite_url(tmp_path), *argv)
    assert (status, out, err) == (1, "", f"tenantgraph: {PENDING}\n")


def test_create_admin_refuses_a_bad_email_before_anything_else(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not even the (unmigrated) database is asked: the email is wrong whatever its state.
    status, out, err = run(
        capsys, monkeypatch, sqlite_url(tmp_path), "create-admin", "--email", "bad", "--password", PASSWORD
    )
    assert (status, out, err) == (2, "", "tenantgraph: --email 'bad': Enter a valid email address.\n")


async def test_migrate_then_create_admin_once(
    postgres: PostgresServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres.create_database("cli_admin")
    admin = ("create-admin", "--email", "Ops@Platform.example", "--password", PASSWORD)

    def commands() -> list[tuple[int, str, str]]:
        return [
            run(capsys, monkeypatch, url, "migrate"),
            run(capsys, monkeypatch, url, *admin),
            run(capsys, monkeypatch, url, *admin),
            run(
                capsys,
                monkeypatch,
                url,
                "create-admin",
                "--email",
                "x@platform.example",
                "--password",
                "short",
            ),
        ]

    migrated, created, again, weak = await asyncio.to_thread(commands)  # each runs its own event loop
    assert migrated == (0, f"the database is at the migrations' head ({HEAD})\n", "")
    assert created == (0, "created the platform admin Ops@Platform.example\n", "")
    assert again == (
        1,
        "",
        "tenantgraph: a user with the email 'Ops@Platform.example' already exists in the platform tenant\n",
    )
    assert weak[0] == 2 and weak[1] == ""
    assert weak[2].startswith("tenantgraph: --password: ") and weak[2].count("\n") == 1


def test_an_unreachable_database_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"postgresql+asyncpg://tenantgraph:secret-pw@127.0.0.1:{free_port()}/x"
    status, out, err = run(capsys, monkeypatch, url, "seed-demo")
    assert (status, out) == (1, "")
    assert err.startswith("tenantgraph: the database cannot be used (")
    assert err.endswith("); check TENANTGRAPH_DATABASE_URL\n") and err.count("\n") == 1
    assert "secret-pw" not in err


def test_export_schema_says_where_it_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "out.graphql"
    status, out, err = run(
        capsys, monkeypatch, sqlite_url(tmp_path), "export-schema", "--output", str(output)
    )
    sdl = build_schema(Settings()).as_str() + "\n"
    assert output.read_text() == sdl
    assert (status, err) == (0, "")
    assert out == f"wrote the schema to {output} ({sdl.count(chr(10))} lines)\n"


def test_export_schema_to_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, monkeypatch, sqlite_url(tmp_path), "export-schema", "--output", "-")
    assert (status, err) == (0, "")
    assert out == build_schema(Settings()).as_str() + "\n"
    assert not (tmp_path / "-").exists()


def test_export_schema_to_a_folder_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "missing" / "schema.graphql"
    status, out, err = run(
        capsys, monkeypatch, sqlite_url(tmp_path), "export-schema", "--output", str(output)
    )
    assert (status, out) == (1, "")
    assert err == f"tenantgraph: cannot write {output}: No such file or directory\n"


def test_a_failure_in_a_real_process_has_no_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTGRAPH_")}
    env["TENANTGRAPH_DATABASE_URL"] = sqlite_url(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "server", "seed-demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (1, "", f"tenantgraph: {PENDING}\n")


def _serve(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """`tenantgraph serve` with no --host or --port: the environment says where."""
    with open(log_path, "ab") as log_file:
        return subprocess.Popen(
            [sys.executable, "-m", "server", "serve"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def _wait_live(base_url: str, proc: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=1.0) as client:
        for _ in range(600):
            assert proc.poll() is None, "exited while starting (its log is in the report)"
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("not live within 60 s")


async def test_serve_on_an_unmigrated_database_warns_once_and_is_not_ready(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    url = postgres.create_database("cli_serve_unmigrated")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENANTGRAPH_")}
    env.update(server_env(url, "memory://", TEST_SIGNING_KEY, TENANTGRAPH_HOST="127.0.0.1"))
    env["TENANTGRAPH_PORT"] = str(port)
    log_path = tmp_path / "serve.log"
    proc = _serve(env, log_path)
    try:
        await _wait_live(f"http://127.0.0.1:{port}", proc)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            ready = await client.get("/readyz")
            await asyncio.to_thread(migrate, make_settings(url, "memory://"))
            after = await client.get("/readyz")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert ready.status_code == 503
    assert ready.json()["down"] == ["migrations"]
    assert ready.json()["checks"]["migrations"] == f"down: {PENDING}"
    assert after.status_code == 200, after.text
    log = log_path.read_text()
    warnings = [line for line in log.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, log
    assert warnings[0].endswith(f"server.migration_state: {PENDING}; /readyz answers 503 until then"), log
    assert "Traceback" not in log


def test_a_bad_setting_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENANTGRAPH_PORT", "70000")
    status, out, err = run(capsys, monkeypatch, sqlite_url(tmp_path), "serve")
    assert (status, out) == (2, "")
    assert err == "tenantgraph: TENANTGRAPH_PORT: Input should be less than or equal to 65535\n"
