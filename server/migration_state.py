"""Is the database at the migrations' head? Asked by `migrate`, by the commands that need the
tables (they refuse to run before them), at server start (a warning) and by /readyz (503 until
then).

The head comes from the migration scripts, read once per process; the database's revision is one
small read of alembic_version, repeated only until it has reached the head."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import column, inspect, select, table
from sqlalchemy.engine import Connection

from models.db import Database

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
VERSION_TABLE = "alembic_version"
RUN_MIGRATE = "run `tenantgraph migrate` first"
# A database that does not answer within this at start is left to /readyz.
START_CHECK_SECONDS = 5.0


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


@cache
def script_heads() -> frozenset[str]:
    """The head revision(s) of the migration scripts this code ships with."""
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


def _database_heads(connection: Connection) -> frozenset[str]:
    # No alembic_version table (a new database) is no revision, not an error.
    if not inspect(connection).has_table(VERSION_TABLE):
        return frozenset()
    return frozenset(
        connection.execute(select(column("version_num")).select_from(table(VERSION_TABLE))).scalars()
    )


@dataclass(frozen=True, slots=True)
class MigrationState:
    database: frozenset[str]
    head: frozenset[str]

    @property
    def pending(self) -> bool:
        return self.database != self.head

    def describe(self) -> str:
        """One line for a person: what is pending and what to do."""
        at = ", ".join(sorted(self.database)) or "none"
        head = ", ".join(sorted(self.head))
        return f"migrations pending (database at revision {at}, code at {head}): {RUN_MIGRATE}"


async def migration_state(db: Database) -> MigrationState:
    """The database's revision against the scripts' head (raises when the database is away)."""
    async with db.engine.connect() as connection:
        database = await connection.run_sync(_database_heads)
    return MigrationState(database, script_heads())


class MigrationWatch:
    """A server's view of the migrations: read at start, read again per probe only until the
    database has reached the head (afterwards nothing is asked)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._at_head = False

    async def state(self) -> MigrationState | None:
        """None once the database is at head; the pending state otherwise."""
        if self._at_head:
            return None
        state = await migration_state(self._db)
        self._at_head = not state.pending
        return None if self._at_head else state

    async def warn_if_pending(self) -> None:
        """At server start: one warning line when the database is behind the code."""
        try:
            pending = await asyncio.wait_for(self.state(), START_CHECK_SECONDS)
        except Exception as exc:  # the database away: /readyz says so until it answers
            log.warning(
                "cannot check the database's migrations at start (%s); see /readyz", type(exc).__name__
            )
            return
        if pending is not None:
            log.warning("%s; /readyz answers 503 until then", pending.describe())
