"""Promotion codes (seed 002 discounts, seed 004 ``promotion_codes``): written by catalog staff
(services/orders/promotion_codes.py), checked by any signed-in buyer, used at checkout and by
``subscribe``.

- A code is case-insensitive (stored upper-cased), unique in the tenant: PERCENT (``percentBps`` of
  what it applies to) or FIXED (an amount in one currency, for orders in that currency only).
- It is valid in [startsAt, endsAt) (either open), while active, until used ``maxUses`` times in
  all and ``maxUsesPerUser`` times by one buyer (either unlimited when null).
- With eligible products it discounts the subtotal of those lines only (none ordered:
  PROMOTION_CODE_NOT_ELIGIBLE); with eligible plans, the first period of a subscription to one of
  them (``subscribe(promotionCode:)``, services/billing/plans.py) and no order; with neither, the
  whole order. Several codes add up, applied in the order given, together never more than the
  subtotal (services/orders/pricing.py).
- At checkout the named codes' rows are locked FOR UPDATE in id order (after the products' rows),
  their limits checked again under the lock, and one use per code is recorded, ``usesCount``
  raised, in the order's transaction: concurrent orders never take a code more than ``maxUses``.
- A cancelled order keeps its uses: the code counts as used (seeds 002 and 004 say nothing of
  giving a use back; a buyer cannot free a use by placing and cancelling orders).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, InvalidInput, invalid
from core.permissions import CATALOG_STAFF
from core.principal import Principal
from models.base import utcnow
from models.billing import BillingSubscription, Plan
from models.catalog import Product
from models.orders import Cart, CartItem, Order
from models.promotions import PromotionCode, PromotionCodeUse, PromotionKind
from services.context import ServiceContext
from services.orders import pricing
from services.orders.cart import cart_items, product_available, quantity_problem, unavailable
from services.orders.errors import OrderErrorCode
from services.orders.new_order import MAX_ORDER_LINES, NewOrderLine

E = OrderErrorCode


def is_promotion_staff(principal: Principal | None) -> bool:
    """Who writes and reads the codes themselves (buyers only validate and use them)."""
    return principal is not None and principal.has_any_role(*CATALOG_STAFF)


def normalised(code: str) -> str:
    return code.strip().upper()


# ---- checking a code against an order -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PricedLine:
    product_id: uuid.UUID
    unit_price: int
    quantity: int


@dataclass(frozen=True, slots=True)
class Applied:
    row: PromotionCode
    discount: pricing.Discount


def discount_of(
    row: PromotionCode | None,
    field: str,
    *,
    lines: Sequence[PricedLine],
    currency: str,
    user_uses: int,
    now: datetime,
) -> Applied:
    """The discount ``row`` gives the order of ``lines``; a userError at ``field`` otherwise."""
    row = usable(row, field, currency=currency, user_uses=user_uses, now=now)
    eligible: tuple[int, ...] | None = None
    if row.product_ids:
        products = set(row.product_ids)
        eligible = tuple(i for i, line in enumerate(lines) if str(line.product_id) in products)
        if not eligible:
            raise invalid(field, E.PROMOTION_CODE_NOT_ELIGIBLE, "This promotion code is for other products.")
    elif row.plan_ids:
        raise invalid(field, E.PROMOTION_CODE_NOT_ELIGIBLE, "This promotion code is for plans, not orders.")
    return Applied(row, _discount(row, eligible))


def _discount(row: PromotionCode, lines: tuple[int, ...] | None = None) -> pricing.Discount:
    if row.kind == PromotionKind.PERCENT:
        return pricing.Discount(percent_bps=row.percent_bps, lines=lines)
    return pricing.Discount(amount=row.amount, lines=lines)


def usable(
    row: PromotionCode | None, field: str, *, currency: str, user_uses: int, now: datetime
) -> PromotionCode:
    """``row`` when it may be used now, by this buyer, in ``currency``; a userError otherwise."""
    if row is None or not row.active:
        raise invalid(field, E.PROMOTION_CODE_UNKNOWN, "This promotion code is not valid.")
    if row.starts_at is not None and now < row.starts_at:
        raise invalid(field, E.PROMOTION_CODE_NOT_STARTED, "This promotion code is not valid yet.")
    if row.ends_at is not None and now >= row.ends_at:
        raise invalid(field, E.PROMOTION_CODE_EXPIRED, "This promotion code has expired.")
    if row.max_uses is not None and row.uses_count >= row.max_uses:
        raise invalid(field, E.PROMOTION_CODE_USED_UP, "This promotion code has been used up.")
    if row.max_uses_per_user is not None and user_uses >= row.max_uses_per_user:
        raise invalid(
            field, E.PROMOTION_CODE_USER_LIMIT, "You have used this promotion code as often as it allows."
        )
    if row.kind == PromotionKind.FIXED and row.currency != currency:
        raise invalid(
            field, E.PROMOTION_CODE_CURRENCY_MISMATCH, f"This promotion code is for {row.currency} orders."
        )
    return row


def plan_discount(
    row: PromotionCode | None, field: str, *, plan: Plan, user_uses: int, now: datetime
) -> Applied:
    """The discount ``row`` gives the first period of a subscription to ``plan``."""
    row = usable(row, field, currency=plan.currency, user_uses=user_uses, now=now)
    if str(plan.id) not in row.plan_ids:
        raise invalid(field, E.PROMOTION_CODE_NOT_ELIGIBLE, "This promotion code is not for this plan.")
    return Applied(row, _discount(row))


async def _uses_by(
    session: AsyncSession, user_id: uuid.UUID, code_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not code_ids:
        return {}
    rows = await session.execute(
        select(PromotionCodeUse.code_id, func.count())
        .where(PromotionCodeUse.user_id == user_id, PromotionCodeUse.code_id.in_(code_ids))
        .group_by(PromotionCodeUse.code_id)
    )
    return {code_id: int(count) for code_id, count in rows}


@dataclass(frozen=True, slots=True)
class Claim:
    """The codes an order takes, in the order given; ``legacy_unmatched``: ``discountCode`` names
    no promotion code (checkout then looks it up in the tenant's ``discountCodes`` setting)."""

    applied: list[Applied]
    legacy_unmatched: bool

    @property
    def discounts(self) -> list[pricing.Discount]:
        return [a.discount for a in self.applied]


async def claim_codes(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    codes: Sequence[str],
    legacy_code: str | None,
    lines: Sequence[PricedLine],
    currency: str,
) -> Claim:
    """Locks the named codes (id order) and checks each for this order; every problem at once."""
    wanted = [(f"promotionCodes.{i}", normalised(c)) for i, c in enumerate(codes)]
    legacy = normalised(legacy_code) if legacy_code and legacy_code.strip() else None
    names = {code for _, code in wanted} | ({legacy} if legacy else set())
    if not names:
        return Claim([], legacy_unmatched=False)
    rows = {
        row.code: row
        for row in await session.scalars(
            select(PromotionCode)
            .where(PromotionCode.code.in_(names))
            .order_by(PromotionCode.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    if legacy is not None and legacy in rows:
        wanted.append(("discountCode", legacy))
    uses = await _uses_by(session, user_id, [row.id for row in rows.values()])
    now = utcnow()
    applied: list[Applied] = []
    problems: list[FieldProblem] = []
    for field, code in wanted:
        row = rows.get(code)
        try:
            applied.append(
                discount_of(
                    row,
                    field,
                    lines=lines,
                    currency=currency,
                    user_uses=uses.get(row.id, 0) if row else 0,
                    now=now,
                )
            )
        except InvalidInput as refused:
            problems += refused.problems
    if problems:
        raise InvalidInput(*problems)
    return Claim(applied, legacy_unmatched=legacy is not None and legacy not in rows)


async def claim_plan_code(session: AsyncSession, *, user_id: uuid.UUID, code: str, plan: Plan) -> Applied:
    """Locks the code and checks it for a subscription to ``plan``: a userError at ``promotionCode``."""
    row = await session.scalar(
        select(PromotionCode)
        .where(PromotionCode.code == normalised(code))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    uses = (await _uses_by(session, user_id, [row.id])).get(row.id, 0) if row else 0
    return plan_discount(row, "promotionCode", plan=plan, user_uses=uses, now=utcnow())


def record_plan_use(
    session: AsyncSession, subscription: BillingSubscription, taken: Applied, amount: int
) -> None:
    """The use of a code by ``subscription``'s first period (its row locked by claim_plan_code)."""
    taken.row.uses_count += 1
    session.add(
        PromotionCodeUse(
            tenant_id=subscription.tenant_id,
            code_id=taken.row.id,
            subscription_id=subscription.id,
            user_id=subscription.user_id,
            amount=amount,
            created_at=utcnow(),
        )
    )


def record_uses(
    session: AsyncSession, order: Order, applied: Sequence[Applied], amounts: Sequence[int]
) -> None:
    """One use per code for ``order`` (its rows are locked by claim_codes)."""
    for taken, amount in zip(applied, amounts, strict=True):
        taken.row.uses_count += 1
        session.add(
            PromotionCodeUse(
                id=uuid.uuid4(),
                tenant_id=order.tenant_id,
                code_id=taken.row.id,
                order_id=order.id,
                user_id=order.user_id,
                amount=amount,
                created_at=order.created_at,
            )
        )


# ---- buyers: validating a code -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Validation:
    discount: int
    currency: str
    row: PromotionCode


async def _order_lines(
    session: AsyncSession, user_id: uuid.UUID, items: Sequence[NewOrderLine] | None, from_cart: bool
) -> tuple[list[PricedLine], str]:
    """The lines to price, and their one currency."""
    if from_cart == bool(items):
        raise invalid("items", E.INVALID_INPUT, "Give items, or fromCart: true.")
    if from_cart:
        cart_id = await session.scalar(select(Cart.id).where(Cart.user_id == user_id))
        in_cart: list[CartItem] = await cart_items(session, cart_id) if cart_id else []
        if not in_cart:
            raise invalid("fromCart", E.EMPTY_CART, "Your cart is empty.")
        wanted = [(i.product_id, i.quantity, "fromCart") for i in in_cart]
    else:
        if len(items or ()) > MAX_ORDER_LINES:
            raise invalid("items", E.TOO_MANY_ITEMS, f"An order has at most {MAX_ORDER_LINES} items.")
        wanted = [(i.product_id, i.quantity, f"items.{n}.productId") for n, i in enumerate(items or ())]
    if quantity_problems := [
        p
        for n, (_, quantity, _) in enumerate(wanted)
        if (p := quantity_problem(f"items.{n}.quantity", quantity))
    ]:
        raise InvalidInput(*quantity_problems)
    ids = {product_id for product_id, _, _ in wanted}
    products = {p.id: p for p in await session.scalars(select(Product).where(Product.id.in_(ids)))}
    if problems := [
        unavailable(field, products.get(pid))
        for pid, _, field in wanted
        if not product_available(products.get(pid))
    ]:
        raise InvalidInput(*problems)
    currencies = {products[pid].currency for pid, _, _ in wanted}
    if len(currencies) != 1:
        raise invalid(
            "fromCart" if from_cart else "items",
            E.CURRENCY_MISMATCH,
            f"An order is paid in one currency, not {', '.join(sorted(currencies))}.",
        )
    lines = [PricedLine(pid, products[pid].price, quantity) for pid, quantity, _ in wanted]
    return lines, currencies.pop()


async def validate_promotion_code(
    ctx: ServiceContext,
    code: str,
    items: Sequence[NewOrderLine] | None,
    from_cart: bool,
    plan_id: uuid.UUID | None = None,
) -> Validation:
    """What ``code`` takes off an order of ``items`` (or of the caller's cart), or off the first
    period of ``plan_id``, now, used by the caller; nothing is written or reserved (checkout and
    subscribe check again)."""
    principal = ctx.require_principal()
    wanted = normalised(code)
    async with ctx.read() as session:
        row = (
            await session.scalar(select(PromotionCode).where(PromotionCode.code == wanted))
            if wanted
            else None
        )
        uses = (await _uses_by(session, principal.user_id, [row.id])).get(row.id, 0) if row else 0
        if plan_id is not None:
            if items or from_cart:
                raise invalid("planId", E.INVALID_INPUT, "Give items, fromCart: true or a plan, not both.")
            plan = await session.get(Plan, plan_id)
            if plan is None or not plan.active:
                raise invalid("planId", E.INVALID_INPUT, "Not one of the tenant's active plans.")
            off = plan_discount(row, "code", plan=plan, user_uses=uses, now=utcnow())
            return Validation(pricing.discount_amount(plan.amount, off.discount), plan.currency, off.row)
        lines, currency = await _order_lines(session, principal.user_id, items, from_cart)
        taken = discount_of(row, "code", lines=lines, currency=currency, user_uses=uses, now=utcnow())
    priced = pricing.price_order(
        [pricing.Line(line.unit_price, line.quantity) for line in lines], discounts=[taken.discount]
    )
    return Validation(priced.discount, currency, taken.row)
