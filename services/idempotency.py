"""Idempotency keys (``Idempotency-Key`` header or ``idempotencyKey`` input).

The key is recorded in the same transaction as the operation's effect. A concurrent request with the
same key blocks on the unique index until the first transaction ends (PostgreSQL; SQLite serialises
writers), then finds the record: same request -> the first result, no second effect; different
request -> CONFLICT. A failed operation records nothing, so it may be retried with the same key."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadUserInput, Conflict
from models.idempotency import IdempotencyRecord
from services.context import ServiceContext

MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Outcome:
    entity_id: uuid.UUID
    replayed: bool


def request_fingerprint(request: Mapping[str, Any]) -> str:
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def run_once(
    ctx: ServiceContext,
    operation: str,
    key: str | None,
    request: Mapping[str, Any],
    perform: Callable[[AsyncSession], Awaitable[uuid.UUID]],
) -> Outcome:
    """Run ``perform`` (which returns the id of the entity it created or changed) in one
    transaction, at most once per (tenant, operation, key)."""
    if key is None:
        async with ctx.transaction() as session:
            return Outcome(await perform(session), replayed=False)
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise BadUserInput(f"Idempotency keys are 1 to {MAX_KEY_LENGTH} characters.")
    principal = ctx.require_principal()
    fingerprint = request_fingerprint({"user": str(principal.user_id), **request})
    async with ctx.transaction() as session:
        record = IdempotencyRecord(
            tenant_id=principal.tenant_id,
            operation=operation,
            key=key,
            # person_id: a service principal's user_id is its client's, not a row in users.
            user_id=principal.person_id,
            request_hash=fingerprint,
            result={},
        )
        try:
            async with session.begin_nested():
                session.add(record)
        except IntegrityError:
            return await _replay(session, operation, key, fingerprint)
        entity_id = await perform(session)
        record.result = {"id": str(entity_id)}
        return Outcome(entity_id, replayed=False)


async def _replay(session: AsyncSession, operation: str, key: str, fingerprint: str) -> Outcome:
    first = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.operation == operation, IdempotencyRecord.key == key
        )
    )
    if first is None or first.request_hash != fingerprint:
        raise Conflict("This Idempotency-Key was already used with a different request.")
    return Outcome(uuid.UUID(first.result["id"]), replayed=True)
