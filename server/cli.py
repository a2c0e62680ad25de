"""tenantgraph command line: serve, migrate, seed-demo, export-schema, create-admin."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from alembic import command
from alembic.config import Config

import demo
from core.settings import ConfigurationError, Settings
from models.db import Database
from server.app import create_app
from services.identity.bootstrap import create_platform_admin
from services.identity.passwords import password_problem
from subgraph.build import build_schema

Result = TypeVar("Result")

ROOT = Path(__file__).resolve().parent.parent


def migrate(settings: Settings) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = settings.database_url
    command.upgrade(config, "head")


def export_schema(settings: Settings, output: Path) -> None:
    output.write_text(build_schema(settings).as_str() + "\n")


async def _with_db(settings: Settings, work: Callable[[Database], Awaitable[Result]]) -> Result:
    db = Database(settings.database_url)
    try:
        return await work(db)
    finally:
        await db.dispose()


def seed_demo(settings: Settings) -> None:
    accounts = asyncio.run(_with_db(settings, demo.seed_demo))
    print("Demo accounts (tenant slug / email / password / roles):")
    for account in accounts:
        roles = ", ".join(role.value for role in account.roles)
        print(f"  {account.tenant_slug:<9} {account.email:<24} {account.password}  [{roles}]")


def create_admin(settings: Settings, email: str, name: str, password: str | None) -> int:
    password = password or getpass.getpass("Password for the platform admin: ")
    if problem := password_problem(password):
        print(problem, file=sys.stderr)
        return 2
    created = asyncio.run(_with_db(settings, lambda db: create_platform_admin(db, email, name, password)))
    print("created" if created else "a user with this email already exists in the platform tenant")
    return 0


def serve(settings: Settings, host: str, port: int, workers: int) -> int:
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
    uvicorn.run("server.app:create_app", factory=True, workers=workers, **options)
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tenantgraph", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="serve GraphQL on HTTP and websockets")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=8000)
    serve_cmd.add_argument(
        "--workers", type=_positive, default=1, help="server processes sharing the port (default 1)"
    )
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("seed-demo", help="load demo tenants and accounts (idempotent)")
    export = commands.add_parser("export-schema", help="write the SDL to schema.graphql")
    export.add_argument("--output", type=Path, default=ROOT / "schema.graphql")
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
    match args.command:
        case "serve":
            return serve(settings, args.host, args.port, args.workers)
        case "migrate":
            migrate(settings)
        case "seed-demo":
            seed_demo(settings)
        case "export-schema":
            export_schema(settings, args.output)
        case "create-admin":
            return create_admin(settings, args.email, args.name, args.password)
    return 0


if __name__ == "__main__":
    sys.exit(main())
