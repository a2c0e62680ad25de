"""Promotion codes as catalog staff (MANAGER, TENANT_ADMIN) write them: create, change, deactivate
and list (services/orders/promotions.py checks and uses them). A code is 1-64 of A-Z, 0-9, '_'
and '-', stored upper-cased, unique in the tenant; PERCENT takes 1-10000 basis points, FIXED an
amount and its currency; the eligible products and plans must be the tenant's."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, InvalidInput, NotFound, invalid
from core.permissions import CATALOG_STAFF
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.base import utcnow
from models.billing import Plan
from models.catalog import Product
from models.promotions import PromotionCode, PromotionKind
from services.context import ServiceContext
from services.money import MAX_AMOUNT, currency_problem
from services.orders import pricing
from services.orders.cart import path
from services.orders.errors import OrderErrorCode
from services.orders.new_order import MAX_PROMOTION_CODE_CHARS
from services.orders.promotions import normalised

E = OrderErrorCode
CODE = re.compile(rf"^[A-Z0-9](?:[A-Z0-9_-]{{0,{MAX_PROMOTION_CODE_CHARS - 1}}})$")
MAX_ELIGIBLE = 100  # products, and plans
MAX_LIMIT = 10**9


@dataclass(frozen=True, slots=True)
class PromotionSpec:
    """Every field of a code; updates start from the stored row and replace what was given."""

    code: str
    kind: PromotionKind
    percent_bps: int | None = None
    amount: int | None = None
    currency: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    max_uses: int | None = None
    max_uses_per_user: int | None = None
    product_ids: tuple[uuid.UUID, ...] = ()
    plan_ids: tuple[uuid.UUID, ...] = ()
    active: bool = True


def spec_of(row: PromotionCode) -> PromotionSpec:
    return PromotionSpec(
        code=row.code,
        kind=row.kind,
        percent_bps=row.percent_bps,
        amount=row.amount,
        currency=row.currency,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        max_uses=row.max_uses,
        max_uses_per_user=row.max_uses_per_user,
        product_ids=tuple(uuid.UUID(p) for p in row.product_ids),
        plan_ids=tuple(uuid.UUID(p) for p in row.plan_ids),
        active=row.active,
    )


def _problem(field: str, message: str) -> FieldProblem:
    return FieldProblem(path(field), E.INVALID_PROMOTION_CODE, message)


def spec_problems(spec: PromotionSpec) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not CODE.match(normalised(spec.code)):
        problems.append(
            _problem(
                "code",
                f"A code is 1 to {MAX_PROMOTION_CODE_CHARS} of A-Z, 0-9, '_' and '-', starting with a "
                "letter or digit (letters are taken upper-cased).",
            )
        )
    if spec.kind == PromotionKind.PERCENT:
        if spec.percent_bps is None or not 1 <= spec.percent_bps <= pricing.BPS:
            problems.append(_problem("percentBps", "A PERCENT code takes 1 to 10000 basis points."))
        if spec.amount is not None:
            problems.append(_problem("amount", "A PERCENT code has no amount."))
    else:
        if spec.amount is None or not 1 <= spec.amount <= MAX_AMOUNT:
            problems.append(_problem("amount", f"A FIXED code takes 1 to {MAX_AMOUNT} minor units."))
        elif spec.currency is None or (currency_problem("amount.currency", spec.currency) is not None):
            problems.append(_problem("amount.currency", "A FIXED code's currency is an ISO 4217 code."))
        if spec.percent_bps is not None:
            problems.append(_problem("percentBps", "A FIXED code has no percentage."))
    if spec.starts_at is not None and spec.ends_at is not None and spec.ends_at <= spec.starts_at:
        problems.append(_problem("endsAt", "A code's validity ends after it starts."))
    for field, limit in (("maxUses", spec.max_uses), ("maxUsesPerUser", spec.max_uses_per_user)):
        if limit is not None and not 1 <= limit <= MAX_LIMIT:
            problems.append(_problem(field, f"A limit is 1 to {MAX_LIMIT} uses, or null for none."))
    if len(spec.product_ids) > MAX_ELIGIBLE:
        problems.append(_problem("productIds", f"At most {MAX_ELIGIBLE} eligible products."))
    if len(spec.plan_ids) > MAX_ELIGIBLE:
        problems.append(_problem("planIds", f"At most {MAX_ELIGIBLE} eligible plans."))
    return problems


async def _checked(session: AsyncSession, spec: PromotionSpec, row_id: uuid.UUID | None) -> PromotionSpec:
    spec = replace(
        spec,
        code=normalised(spec.code),
        currency=spec.currency.strip().upper() if spec.currency else None,
        product_ids=tuple(dict.fromkeys(spec.product_ids)),
        plan_ids=tuple(dict.fromkeys(spec.plan_ids)),
    )
    if problems := spec_problems(spec):
        raise InvalidInput(*problems)
    for field, model, ids in (("productIds", Product, spec.product_ids), ("planIds", Plan, spec.plan_ids)):
        found = set(await session.scalars(select(model.id).where(model.id.in_(ids)))) if ids else set()
        if missing := [i for i, p in enumerate(ids) if p not in found]:
            raise InvalidInput(*(_problem(f"{field}.{i}", "Not one of the tenant's.") for i in missing))
    taken = select(PromotionCode.id).where(PromotionCode.code == spec.code)
    if row_id is not None:
        taken = taken.where(PromotionCode.id != row_id)
    if await session.scalar(taken) is not None:
        raise _taken()
    return spec


def _taken() -> InvalidInput:
    return invalid("code", E.PROMOTION_CODE_TAKEN, "Another promotion code reads the same.")


def _apply(row: PromotionCode, spec: PromotionSpec) -> None:
    row.code = spec.code
    row.kind = spec.kind
    row.percent_bps = spec.percent_bps
    row.amount = spec.amount
    row.currency = spec.currency if spec.kind == PromotionKind.FIXED else None
    row.starts_at = spec.starts_at
    row.ends_at = spec.ends_at
    row.max_uses = spec.max_uses
    row.max_uses_per_user = spec.max_uses_per_user
    row.product_ids = [str(p) for p in spec.product_ids]
    row.plan_ids = [str(p) for p in spec.plan_ids]
    row.active = spec.active
    row.updated_at = utcnow()


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent write took the code after our check
        raise _taken() from exc


async def create_promotion_code(ctx: ServiceContext, spec: PromotionSpec) -> PromotionCode:
    ctx.require_role(*CATALOG_STAFF)
    async with ctx.transaction() as session:
        spec = await _checked(session, spec, None)
        row = PromotionCode(id=uuid.uuid4(), uses_count=0, created_at=utcnow())
        _apply(row, spec)
        session.add(row)
        await _flush(session)
        return row


async def _locked(session: AsyncSession, code_id: uuid.UUID) -> PromotionCode:
    row = await session.get(PromotionCode, code_id, with_for_update=True)
    if row is None:
        raise NotFound("PromotionCode")
    return row


@dataclass(frozen=True, slots=True)
class PromotionChange:
    """What an update gives; None: unchanged (``clear``: the nullable fields set to null)."""

    code: str | None = None
    kind: PromotionKind | None = None
    percent_bps: int | None = None
    amount: int | None = None
    currency: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    max_uses: int | None = None
    max_uses_per_user: int | None = None
    product_ids: tuple[uuid.UUID, ...] | None = None
    plan_ids: tuple[uuid.UUID, ...] | None = None
    active: bool | None = None
    clear: frozenset[str] = frozenset()


_CLEARABLE = frozenset({"starts_at", "ends_at", "max_uses", "max_uses_per_user"})


def changed(spec: PromotionSpec, change: PromotionChange) -> PromotionSpec:
    values = {
        name: getattr(change, name)
        for name in PromotionSpec.__dataclass_fields__
        if getattr(change, name) is not None
    }
    if change.kind is not None and change.kind != spec.kind:
        # Another kind: the other kind's value goes.
        values.setdefault("percent_bps", None)
        values.setdefault("amount", None)
        values.setdefault("currency", None)
    values.update(dict.fromkeys(change.clear & _CLEARABLE))
    return replace(spec, **values)


async def update_promotion_code(
    ctx: ServiceContext, code_id: uuid.UUID, change: PromotionChange
) -> PromotionCode:
    """Changes apply to orders placed from now on; uses so far stay (and count)."""
    ctx.require_role(*CATALOG_STAFF)
    async with ctx.transaction() as session:
        row = await _locked(session, code_id)
        spec = await _checked(session, changed(spec_of(row), change), row.id)
        _apply(row, spec)
        await _flush(session)
        return row


async def deactivate_promotion_code(ctx: ServiceContext, code_id: uuid.UUID) -> PromotionCode:
    """No new order takes it (it reads as unknown); orders that took it keep their discount."""
    return await update_promotion_code(ctx, code_id, PromotionChange(active=False))


async def list_promotion_codes(
    ctx: ServiceContext, active: bool | None, page: PageArgs
) -> Page[PromotionCode]:
    """The tenant's codes, newest first (staff)."""
    ctx.require_role(*CATALOG_STAFF)
    statement = select(PromotionCode)
    if active is not None:
        statement = statement.where(PromotionCode.active.is_(active))
    return await paginate(
        ctx.read, statement, SortKey(PromotionCode.created_at, PromotionCode.id, descending=True), page
    )
