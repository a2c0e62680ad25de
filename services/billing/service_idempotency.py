"""services/idempotency.py:run_once for callers that may be service principals.

run_once records ``principal.user_id`` in idempotency_records.user_id, a foreign key to users: a
service principal's id is its client's, not a user's, so the insert fails the key and run_once
reports CONFLICT for every keyed call of a service. This variant records ``person_id`` (None for a
service) and is otherwise the same; the lead may fold the fix into run_once and drop this module."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadUserInput, Conflict
from models.idempotency import IdempotencyRecord
from services.context import ServiceContext
from services.idempotency import MAX_KEY_LENGTH, Outcome, request_fingerprint


async def run_once_any(
    ctx: ServiceContext,
    operation: str,
    key: str | None,
    request: Mapping[str, Any],
    perform: Callable[[AsyncSession], Awaitable[uuid.UUID]],
) -> Outcome:
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
            user_id=principal.person_id,
            request_hash=fingerprint,
            result={},
        )
        try:
            async with session.begin_nested():
                session.add(record)
        except IntegrityError:
            first = await session.scalar(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.operation == operation, IdempotencyRecord.key == key
                )
            )
            if first is None or first.request_hash != fingerprint:
                raise Conflict("This Idempotency-Key was already used with a different request.") from None
            return Outcome(uuid.UUID(first.result["id"]), replayed=True)
        entity_id = await perform(session)
        record.result = {"id": str(entity_id)}
        return Outcome(entity_id, replayed=False)
