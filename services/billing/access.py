"""Who may see and change which billing record (invoices, payments, refunds, cards, billing
subscriptions): the owner and the tenant's billing staff see it, the owner and billing admins
change it; to anyone else it does not exist."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, NotFound
from core.permissions import BILLING_ADMINS, BILLING_STAFF, RoleSet
from core.principal import Principal
from loaders.pagination import Statement
from models.db import Model


def can_see(principal: Principal | None, owner_id: uuid.UUID) -> bool:
    """Billing records are read by their owner, by staff and by service principals; to anyone
    else they do not exist."""
    return principal is not None and (
        principal.user_id == owner_id or principal.is_service or principal.has_any_role(*BILLING_STAFF)
    )


async def locked_to_change(
    session: AsyncSession,
    principal: Principal,
    model: type[Model],
    row_id: uuid.UUID,
    owner: str,
    forbidden: str,
    admins: RoleSet = BILLING_ADMINS,
    services: bool = False,
) -> Model:
    """A billing row locked for a change by ``principal``: NotFound unless they may see it
    (``can_see`` of its ``owner`` attribute), Forbidden with ``forbidden`` unless it is theirs or
    they are one of ``admins`` (staff read what they may not change), or with ``services`` a
    service principal."""
    row = await session.get(model, row_id, with_for_update=True)
    owner_id = getattr(row, owner, None)
    if row is None or owner_id is None or not can_see(principal, owner_id):
        raise NotFound(model.__name__)
    admitted = principal.is_service_or(*admins) if services else principal.has_any_role(*admins)
    if owner_id != principal.user_id and not admitted:
        raise Forbidden(forbidden)
    return row


def visible(statement: Statement, owner: Any, principal: Principal) -> Statement:
    """``statement`` narrowed to the rows ``principal`` may see: staff all, others those whose
    ``owner`` (a user id column, or any expression of one) is theirs; ``can_see`` for a list."""
    if principal.has_any_role(*BILLING_STAFF):
        return statement
    return statement.where(owner == principal.user_id)
