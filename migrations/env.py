"""Alembic environment: async engine, same migrations on PostgreSQL and SQLite (batch mode)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import models
from core.scope import TenantScope
from core.settings import Settings
from models.db import create_engine
from models.row_security import SCOPE_OPTION

target_metadata = models.Base.metadata


def database_url() -> str:
    return context.config.attributes.get("database_url") or Settings().database_url


def run_migrations(connection: Connection) -> None:
    # Migrations change every tenant's rows: platform scope for PostgreSQL row-level security.
    connection.execution_options(**{SCOPE_OPTION: TenantScope.all_tenants()})
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async() -> None:
    engine = create_engine(database_url())
    async with engine.connect() as connection:
        await connection.run_sync(run_migrations)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_async())
