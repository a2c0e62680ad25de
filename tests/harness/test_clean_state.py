"""The per-test cleanup survives a deadlock with a live server's transaction (tests/conftest.py)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from models import Base
from server.runtime import Runtime
from tests.conftest import truncate_all


async def test_a_deadlock_with_another_transaction_is_tried_again(runtime: Runtime) -> None:
    first, last = Base.metadata.sorted_tables[0].name, Base.metadata.sorted_tables[-1].name
    async with runtime.db.engine.connect() as other:
        # The other transaction holds the last table, so the cleanup waits on it with the first table
        # locked; then it asks for the first: one of the two is aborted as a deadlock.
        transaction = await other.begin()
        await other.execute(text(f"LOCK TABLE {last} IN ROW EXCLUSIVE MODE"))
        cleanup = asyncio.create_task(truncate_all(runtime))
        await asyncio.sleep(0.3)
        await other.execute(text(f"LOCK TABLE {first} IN ROW EXCLUSIVE MODE"))
        await transaction.commit()
    await asyncio.wait_for(cleanup, timeout=15)
    async with runtime.db.engine.connect() as connection:
        deadlocks = await connection.scalar(
            text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        )
    assert deadlocks and deadlocks >= 1
