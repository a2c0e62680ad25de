"""tenantgraph command line: serve, worker, migrate, seed-demo, export-schema, create-admin."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

import demo
from core.settings import ConfigurationError, Settings, SubgraphName
from demo.api_keys import DEMO_API_KEY, DEMO_API_KEY_OWNER, DEMO_API_KEY_SCOPES
from demo.mfa import DEMO_MFA_EMAIL, DEMO_MFA_SECRET
from models.db import Database
from server.app import create_app
from server.metrics import shared_between_workers
from server.migration_state import ROOT, migration_state, script_heads, upgrade_to_head
from server.runtime import provisioning_worker
from services.commit_rules import BEFORE_COMMIT
from services.identity.accounts import email_problem
from services.identity.bootstrap import create_platform_admin
from services.identity.passwords import password_problem
from services.provisioning.provider import create_provider
from subgraph.build import build_schema
from subgraph.groups import ALL, GROUPS, WORKER_GROUPS

Result = TypeVar("Result")

STDOUT = "-"
PASSWORD_PROMPT = "Password for the platform admin: "


class CommandFailed(Exception):
    """One line for the person at the terminal, and the exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def migrate(settings: Settings) -> None:
    upgrade_to_head(settings.database_url)


def export_schema(settings: Settings, output: str, subgraph: SubgraphName = ALL) -> None:
    sdl = build_schema(settings, group=subgraph).as_str() + "\n"
    if output == STDOUT:
        sys.stdout.write(sdl)
        return
    path = Path(output)
    try:
        path.write_text(sdl)
    except OSError as error:
        raise CommandFailed(f"cannot write {path}: {error.strerror or error}") from error
    print(f"wrote the schema to {path.resolve()} ({sdl.count(chr(10))} lines)")


async def _with_migrated_db(settings: Settings, work: Callable[[Database], Awaitable[Result]]) -> Result:
    """``work`` on the database, once it is known to be at the migrations' head."""
    db = Database(settings.database_url, before_commit=BEFORE_COMMIT)
    try:
        state = await migration_state(db)
        if state.pending:
            raise CommandFailed(state.describe())
        return await work(db)
    finally:
        await db.dispose()


def seed_demo(settings: Settings) -> None:
    seed = partial(demo.seed_demo, mfa_encryption_key=settings.mfa_encryption_key)
    accounts = asyncio.run(_with_migrated_db(settings, seed))
    print("Demo accounts (tenant slug / email / password / roles):")
    for account in accounts:
        roles = ", ".join(role.value for role in account.roles)
        print(f"  {account.tenant_slug:<9} {account.email:<24} {account.password}  [{roles}]")
    scopes = " ".join(scope.value for scope in DEMO_API_KEY_SCOPES)
    print(f"Demo API key of {DEMO_API_KEY_OWNER} (TEST; {scopes}):\n  {DEMO_API_KEY}")
    print(f"{DEMO_MFA_EMAIL} has TOTP MFA: add the secret {DEMO_MFA_SECRET} to an authenticator app")


def create_admin(settings: Settings, email: str, name: str, password: str | None) -> None:
    if problem := email_problem("email", email):
        raise CommandFailed(f"--email {email!r}: {problem.message}", status=2)
    created = asyncio.run(
        _with_migrated_db(
            settings, partial(_create_platform_admin, email=email, name=name, password=password)
        )
    )
    if not created:
        raise CommandFailed(f"a user with the email {email!r} already exists in the platform tenant")
    print(f"created the platform admin {email}")


async def _create_platform_admin(db: Database, email: str, name: str, password: str | None) -> bool:
    # Asked for once the database is known to be migrated, not before (getpass blocks: a thread).
    if not password:
        password = await asyncio.to_thread(getpass.getpass, PASSWORD_PROMPT)
    if weak := password_problem(password):
        raise CommandFailed(f"--password: {weak}", status=2)
    return await create_platform_admin(db, email, name, password)


async def _run_worker(settings: Settings, db: Database) -> None:
    """A provisioning worker until SIGINT or SIGTERM (any number of these may run; they share the
    work through SKIP LOCKED claims and leases). Its events reach subscribers through the outbox,
    which the servers' dispatchers publish."""
    provider = create_provider(settings.provisioning_step_seconds, settings.provisioning_fail_steps)
    worker = provisioning_worker(db, provider, settings)
    if worker.poll_seconds <= 0:
        worker.poll_seconds = 1.0
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stopping.set)
    worker.start()
    print(f"provisioning worker {worker.worker_id} running", flush=True)
    try:
        await stopping.wait()
    finally:
        await worker.stop()
    print(f"provisioning worker {worker.worker_id} stopped", flush=True)


def run_worker(settings: Settings) -> None:
    asyncio.run(_with_migrated_db(settings, partial(_run_worker, settings)))


def _database_failure(error: Exception) -> str:
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    first_line = (str(cause).strip().splitlines() or [""])[0]
    return (
        f"the database cannot be used ({type(cause).__name__}: {first_line}); check TENANTGRAPH_DATABASE_URL"
    )


SUBGRAPH_HELP = (
    f"what to serve: {ALL} (default TENANTGRAPH_SUBGRAPH, else {ALL}: the whole schema) or one domain "
    f"group of the split deployment as a federation subgraph of its own: {', '.join(GROUPS)}; "
    "compose the four behind a gateway. Background workers run in one group's processes each ("
    + ", ".join(f"{worker}: {group}" for worker, group in WORKER_GROUPS.items())
    + "); the outbox dispatcher runs in every process"
)


def serve(
    settings: Settings, host: str, port: int, workers: int, subgraph: SubgraphName | None = None
) -> int:
    if subgraph is not None:
        settings = settings.model_copy(update={"subgraph": subgraph})
        # uvicorn's workers build their apps from the environment.
        os.environ["TENANTGRAPH_SUBGRAPH"] = subgraph
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,
        "proxy_headers": False,
        "ws": "websockets-sansio",
        # Subscription messages are a few hundred bytes: compressing each one for each subscriber
        # costs more CPU in a fan-out than it saves on the wire.
        "ws_per_message_deflate": False,
        # uvicorn refuses a message over twice the app's own limit before buffering it whole; up to
        # that the app refuses it, as it does behind any server (server/websocket_limits.py).
        "ws_max_size": 2 * settings.ws_max_message_bytes,
    }
    if workers == 1:
        uvicorn.run(create_app(settings), **options)
        return 0
    if settings.broadcast_url.startswith("memory"):
        print(
            "tenantgraph: --workers > 1 needs a shared broadcast (TENANTGRAPH_BROADCAST_URL=redis://...): "
            "with memory:// one worker's events never reach another's subscribers",
            file=sys.stderr,
        )
        return 2
    # Several processes need an import string: each worker builds its own app from the environment.
    with shared_between_workers():  # each worker's /metrics answers for all of them
        uvicorn.run("server.app:create_app", factory=True, workers=workers, **options)
    return 0


def _setting_problems(error: ValidationError) -> str:
    return "; ".join(
        f"TENANTGRAPH_{'_'.join(str(part) for part in problem['loc']).upper()}: {problem['msg']}"
        for problem in error.errors()
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tenantgraph", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="serve GraphQL on HTTP and websockets")
    serve_cmd.add_argument("--host", help="default TENANTGRAPH_HOST, else 127.0.0.1")
    serve_cmd.add_argument("--port", type=int, help="default TENANTGRAPH_PORT, else 8000")
    serve_cmd.add_argument(
        "--workers", type=_positive, default=1, help="server processes sharing the port (default 1)"
    )
    serve_cmd.add_argument("--subgraph", choices=(ALL, *GROUPS), help=SUBGRAPH_HELP)
    commands.add_parser("worker", help="run a provisioning worker (also inside every server by default)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("seed-demo", help="load demo tenants and accounts (idempotent)")
    export = commands.add_parser("export-schema", help="write the SDL to schema.graphql")
    export.add_argument(
        "--output", default=str(ROOT / "schema.graphql"), help="a file, or - for standard output"
    )
    export.add_argument(
        "--subgraph",
        choices=(ALL, *GROUPS),
        default=ALL,
        help=f"{ALL} (default: the whole schema) or one group's subgraph SDL of the split deployment",
    )
    admin = commands.add_parser("create-admin", help="create a platform administrator")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Platform Admin")
    admin.add_argument("--password", help="prompted for when omitted")
    args = parser.parse_args(argv)

    try:
        settings = Settings()
        settings.check_for_production()
    except ConfigurationError as error:
        print(f"tenantgraph: {error}", file=sys.stderr)
        return 2
    except ValidationError as error:  # a variable that does not parse, e.g. TENANTGRAPH_PORT=x
        print(f"tenantgraph: {_setting_problems(error)}", file=sys.stderr)
        return 2
    if args.command == "serve":
        host, port = args.host or settings.host, args.port or settings.port
        return serve(settings, host, port, args.workers, args.subgraph)
    try:
        _run(args, settings)
    except CommandFailed as failure:
        print(f"tenantgraph: {failure}", file=sys.stderr)
        return failure.status
    except (DBAPIError, OSError) as error:  # not reachable, refused, ...: one line, no traceback
        print(f"tenantgraph: {_database_failure(error)}", file=sys.stderr)
        return 1
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> None:
    match args.command:
        case "migrate":
            migrate(settings)
            print(f"the database is at the migrations' head ({', '.join(sorted(script_heads()))})")
        case "worker":
            run_worker(settings)
        case "seed-demo":
            seed_demo(settings)
        case "export-schema":
            export_schema(settings, args.output, args.subgraph)
        case "create-admin":
            create_admin(settings, args.email, args.name, args.password)


if __name__ == "__main__":
    sys.exit(main())
