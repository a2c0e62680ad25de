"""Migration 0004 gives existing users their email skeleton and today's canonical address (unless
another account of the tenant already holds it), on PostgreSQL and on SQLite, and goes down again."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from core.emails import email_skeleton
from models.base import UTCDateTime, utcnow
from server.cli import ROOT
from tests.harness.servers import PostgresServer

# As an earlier release stored them: NFC only, the domain in Unicode.
STORED = {
    "plain": "user@acme.example",
    "fullwidth": "\uff55ser@acme.example",  # NFKC makes it user@acme.example: taken, so it stays
    "unicode_domain": "anna@bücher.example",
    "fullwidth_alone": "\uff4dax@acme.example",  # becomes max@acme.example
}


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    return config


TENANTS = sa.table(
    "tenants",
    *(sa.column(name, sa.String()) for name in ("slug", "name", "kind", "status")),
    sa.column("id", sa.Uuid()),
    sa.column("settings", sa.JSON()),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
USERS = sa.table(
    "users",
    *(sa.column(name, sa.String()) for name in ("email", "full_name", "password_hash", "status")),
    sa.column("id", sa.Uuid()),
    sa.column("tenant_id", sa.Uuid()),
    sa.column("email_verified", sa.Boolean()),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)


async def insert_users(url: str, ids: dict[str, uuid.UUID]) -> None:
    now = utcnow()
    tenant_id = uuid.uuid4()
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            sa.insert(TENANTS).values(
                id=tenant_id,
                slug="acme",
                name="Acme",
                kind="ENTERPRISE",
                status="ACTIVE",
                settings={},
                created_at=now,
                updated_at=now,
            )
        )
        await connection.execute(
            sa.insert(USERS),
            [
                {
                    "id": ids[name],
                    "tenant_id": tenant_id,
                    "email": email,
                    "full_name": name,
                    "password_hash": "-",
                    "status": "ACTIVE",
                    "email_verified": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for name, email in STORED.items()
            ],
        )
    await engine.dispose()


async def stored_users(url: str) -> tuple[dict[str, tuple[str, str]], list[str]]:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT full_name, email, email_skeleton FROM users"))).all()
        indexes = await connection.run_sync(
            lambda sync: [ix["name"] for ix in inspect(sync).get_indexes("users")]
        )
    await engine.dispose()
    return {row[0]: (row[1], row[2]) for row in rows}, indexes


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
async def test_existing_users_are_backfilled(backend: str, postgres: PostgresServer, tmp_path: Path) -> None:
    url = (
        postgres.create_database(f"skeleton_{uuid.uuid4().hex[:8]}")
        if backend == "postgresql"
        else f"sqlite+aiosqlite:///{tmp_path / 's.db'}"
    )
    config = alembic_config(url)
    await asyncio.to_thread(command.upgrade, config, "0003")  # alembic runs its own loop
    ids = {name: uuid.uuid4() for name in STORED}
    await insert_users(url, ids)

    await asyncio.to_thread(command.upgrade, config, "0004")
    users, indexes = await stored_users(url)
    assert {name: email for name, (email, _) in users.items()} == {
        "plain": "user@acme.example",
        "fullwidth": "\uff55ser@acme.example",
        "unicode_domain": "anna@xn--bcher-kva.example",
        "fullwidth_alone": "max@acme.example",
    }
    assert {name: skeleton for name, (_, skeleton) in users.items()} == {
        name: email_skeleton(email) for name, (email, _) in users.items()
    }
    # The look-alike kept its old address, and shares the real account's skeleton.
    assert users["fullwidth"][1] == users["plain"][1]
    assert "ix_users_tenant_email_skeleton" in indexes

    await asyncio.to_thread(command.downgrade, config, "0003")
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        columns = await connection.run_sync(
            lambda sync: [c["name"] for c in inspect(sync).get_columns("users")]
        )
    await engine.dispose()
    assert "email_skeleton" not in columns and "email" in columns
