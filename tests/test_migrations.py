"""Migrations and models agree, on PostgreSQL and on SQLite, and migrations run down and up."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from models import Base
from models.db import create_engine
from server.cli import ROOT, migrate
from tests.conftest import make_settings
from tests.harness.servers import PostgresServer


def comparable(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # Alembic cannot compare expression indexes; this one is checked by name below instead.
    return not (type_ == "index" and name == "ix_products_search")


def differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": comparable}
    )
    return compare_metadata(context, Base.metadata)


async def schema_drift(url: str) -> tuple[list[Any], list[str]]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        diffs = await connection.run_sync(differences)
        indexes = await connection.run_sync(
            lambda sync: [ix["name"] for ix in inspect(sync).get_indexes("products")]
        )
    await engine.dispose()
    return diffs, indexes


async def test_postgres_schema_matches_models(postgres: PostgresServer) -> None:
    url = postgres.create_database("migrations_pg")
    await asyncio.to_thread(migrate, make_settings(url, "memory://"))  # alembic runs its own loop
    diffs, indexes = await schema_drift(url)
    assert diffs == []
    assert "ix_products_search" in indexes  # the full-text GIN index exists only on PostgreSQL


async def test_sqlite_schema_matches_models(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    await asyncio.to_thread(migrate, make_settings(url, "memory://"))  # alembic runs its own loop
    diffs, indexes = await schema_drift(url)
    # SQLite cannot reflect expression indexes; nothing else may differ.
    assert diffs == []
    assert "ix_products_search" not in indexes


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_downgrade_to_base_and_up_again(backend: str, postgres: PostgresServer, tmp_path: Path) -> None:
    url = (
        postgres.create_database("migrations_roundtrip")
        if backend == "postgresql"
        else f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    )
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")
