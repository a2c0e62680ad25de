"""Shipping methods (seed 004 ``shipping_methods``) and the checkout's choices of shipping and of a
saved payment method (seeds 001 and 004: ``shippingMethodId``, ``paymentMethodId``).

- Catalog staff (MANAGER, TENANT_ADMIN) write a tenant's methods; they are deactivated, never
  deleted, so orders keep naming theirs. Any signed-in user lists the active ones, in ``position``
  order (staff may ask for the inactive ones too).
- A method has a code (case-insensitive, stored upper-cased, unique in the tenant), a name, a price
  in one currency and optionally ``free_over``: an order whose subtotal (before discounts) is at
  least that ships for 0. The price goes into the order's ``shipping_total`` through
  services/orders/pricing.py; tax stays on subtotal - discount (shipping is not taxed).
- At checkout, an order with a physical item (``Product.is_digital`` false) needs a shipping
  address, and a shipping method when the tenant has an active method in the order's currency
  (a tenant with none ships for 0, as before). The named method must be the tenant's, active, and
  in the order's currency.
- A digital-only order needs no shipping address and takes no shipping method: naming one is a
  userError (SHIPPING_NOT_NEEDED), so that a buyer is never shown a shipping choice that is not
  applied. An address given anyway is kept (it is the billing address when none is given).
- ``paymentMethodId`` names a saved payment method of the buyer whose card has not expired; it is
  stored on the order. The check lives here, not in services/billing (which imports
  services.orders: the other way round would be an import cycle); it matches
  services/billing/payments.py ``_own_method`` (the buyer's own method) plus the expiry.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, InvalidInput, NotFound, invalid
from core.permissions import CATALOG_STAFF
from core.principal import Principal
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.base import utcnow
from models.billing import PaymentMethod
from models.shipping import ShippingMethod
from services.context import ServiceContext
from services.money import MAX_AMOUNT, currency_problem
from services.orders.cart import path
from services.orders.errors import OrderErrorCode

E = OrderErrorCode
MAX_CODE_CHARS = 64
MAX_NAME_CHARS = 200
MAX_POSITION = 1_000_000
CODE = re.compile(rf"^[A-Z0-9](?:[A-Z0-9_-]{{0,{MAX_CODE_CHARS - 1}}})$")


def is_shipping_staff(principal: Principal | None) -> bool:
    """Who writes the methods and sees the inactive ones."""
    return principal is not None and principal.has_any_role(*CATALOG_STAFF)


# ---- staff: the methods ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShippingSpec:
    """Every field of a method; updates start from the stored row and replace what was given."""

    code: str
    name: str
    price: int
    currency: str
    free_over: int | None = None
    active: bool = True
    position: int = 0


@dataclass(frozen=True, slots=True)
class ShippingChange:
    """What an update gives; None: unchanged (``clear_free_over``: free_over set to null).
    ``price`` and ``currency`` come together (a MoneyInput)."""

    code: str | None = None
    name: str | None = None
    price: int | None = None
    currency: str | None = None
    free_over: int | None = None
    clear_free_over: bool = False
    active: bool | None = None
    position: int | None = None


def _problem(field: str, message: str) -> FieldProblem:
    return FieldProblem(path(field), E.INVALID_SHIPPING_METHOD, message)


def spec_problems(spec: ShippingSpec) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not CODE.match(spec.code):
        problems.append(
            _problem(
                "code",
                f"A code is 1 to {MAX_CODE_CHARS} of A-Z, 0-9, '_' and '-', starting with a letter or "
                "digit (letters are taken upper-cased).",
            )
        )
    if not spec.name or len(spec.name) > MAX_NAME_CHARS:
        problems.append(_problem("name", f"A name is 1 to {MAX_NAME_CHARS} characters."))
    if not 0 <= spec.price <= MAX_AMOUNT:
        problems.append(_problem("price.amount", f"A price is 0 to {MAX_AMOUNT} minor units."))
    if (problem := currency_problem("price.currency", spec.currency)) is not None:
        problems.append(problem)
    if spec.free_over is not None and not 1 <= spec.free_over <= MAX_AMOUNT:
        problems.append(
            _problem("freeOver", f"freeOver is 1 to {MAX_AMOUNT} minor units of the price's currency.")
        )
    if not 0 <= spec.position <= MAX_POSITION:
        problems.append(_problem("position", f"A position is 0 to {MAX_POSITION}."))
    return problems


def _normalised(spec: ShippingSpec) -> ShippingSpec:
    return replace(
        spec, code=spec.code.strip().upper(), name=spec.name.strip(), currency=spec.currency.strip().upper()
    )


def _taken() -> InvalidInput:
    return invalid("code", E.SHIPPING_METHOD_TAKEN, "Another shipping method has this code.")


async def _checked(session: AsyncSession, spec: ShippingSpec, row_id: uuid.UUID | None) -> ShippingSpec:
    spec = _normalised(spec)
    if problems := spec_problems(spec):
        raise InvalidInput(*problems)
    taken = select(ShippingMethod.id).where(ShippingMethod.code == spec.code)
    if row_id is not None:
        taken = taken.where(ShippingMethod.id != row_id)
    if await session.scalar(taken) is not None:
        raise _taken()
    return spec


def _apply(row: ShippingMethod, spec: ShippingSpec) -> None:
    row.code = spec.code
    row.name = spec.name
    row.price = spec.price
    row.currency = spec.currency
    row.free_over = spec.free_over
    row.active = spec.active
    row.position = spec.position
    row.updated_at = utcnow()


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent write took the code after our check
        raise _taken() from exc


def spec_of(row: ShippingMethod) -> ShippingSpec:
    return ShippingSpec(
        code=row.code,
        name=row.name,
        price=row.price,
        currency=row.currency,
        free_over=row.free_over,
        active=row.active,
        position=row.position,
    )


def changed(spec: ShippingSpec, change: ShippingChange) -> ShippingSpec:
    values = {
        name: getattr(change, name)
        for name in ShippingSpec.__dataclass_fields__
        if getattr(change, name) is not None
    }
    if change.clear_free_over:
        values["free_over"] = None
    return replace(spec, **values)


async def create_shipping_method(ctx: ServiceContext, spec: ShippingSpec) -> ShippingMethod:
    ctx.require_role(*CATALOG_STAFF)
    async with ctx.transaction() as session:
        spec = await _checked(session, spec, None)
        now = utcnow()
        row = ShippingMethod(id=uuid.uuid4(), created_at=now)
        _apply(row, spec)
        session.add(row)
        await _flush(session)
        return row


async def update_shipping_method(
    ctx: ServiceContext, method_id: uuid.UUID, change: ShippingChange
) -> ShippingMethod:
    """Changes apply to orders placed from now on; placed orders keep their shipping total."""
    ctx.require_role(*CATALOG_STAFF)
    async with ctx.transaction() as session:
        row = await session.get(ShippingMethod, method_id, with_for_update=True)
        if row is None:
            raise NotFound("ShippingMethod")
        spec = await _checked(session, changed(spec_of(row), change), row.id)
        _apply(row, spec)
        await _flush(session)
        return row


async def deactivate_shipping_method(ctx: ServiceContext, method_id: uuid.UUID) -> ShippingMethod:
    """No new order takes it (it reads as unknown at checkout); placed orders keep it."""
    return await update_shipping_method(ctx, method_id, ShippingChange(active=False))


async def list_shipping_methods(
    ctx: ServiceContext, include_inactive: bool, page: PageArgs
) -> Page[ShippingMethod]:
    """The tenant's methods in ``position`` order (ties: id): active ones, and the inactive ones
    too for catalog staff asking for them."""
    principal = ctx.require_principal()
    statement = select(ShippingMethod)
    if not (include_inactive and is_shipping_staff(principal)):
        statement = statement.where(ShippingMethod.active.is_(True))
    return await paginate(ctx.read, statement, SortKey(ShippingMethod.position, ShippingMethod.id), page)


# ---- checkout ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shipping:
    method: ShippingMethod | None
    amount: int


def shipping_price(method: ShippingMethod, subtotal: int) -> int:
    """What ``method`` charges an order of ``subtotal`` (minor units, before discounts)."""
    return 0 if method.free_over is not None and subtotal >= method.free_over else method.price


async def checkout_shipping(
    session: AsyncSession,
    *,
    method_id: uuid.UUID | None,
    physical: bool,
    currency: str,
    subtotal: int,
) -> Shipping:
    """The order's shipping method and what it charges, or a userError at ``shippingMethodId``."""
    field = "shippingMethodId"
    if not physical:
        if method_id is not None:
            raise invalid(
                field, E.SHIPPING_NOT_NEEDED, "Digital items ship nothing: name no shipping method."
            )
        return Shipping(None, 0)
    if method_id is None:
        offered = await session.scalar(
            select(exists().where(ShippingMethod.active.is_(True), ShippingMethod.currency == currency))
        )
        if offered:
            raise invalid(field, E.SHIPPING_METHOD_REQUIRED, "Choose how the order ships.")
        return Shipping(None, 0)
    # The tenancy guard makes another tenant's method indistinguishable from none.
    method = await session.get(ShippingMethod, method_id)
    if method is None or not method.active:
        raise invalid(field, E.SHIPPING_METHOD_UNKNOWN, "This shipping method is not available.")
    if method.currency != currency:
        raise invalid(
            field,
            E.SHIPPING_METHOD_CURRENCY_MISMATCH,
            f"This shipping method is for {method.currency} orders, not {currency}.",
        )
    return Shipping(method, shipping_price(method, subtotal))


def has_expired(method: PaymentMethod) -> bool:
    """A card is good through the last day of its expiry month (UTC)."""
    if method.exp_year is None or method.exp_month is None:
        return False
    now = utcnow()
    return (method.exp_year, method.exp_month) < (now.year, now.month)


async def checkout_payment_method(
    session: AsyncSession, user_id: uuid.UUID, method_id: uuid.UUID | None
) -> PaymentMethod | None:
    """The buyer's saved, unexpired payment method named at checkout, or a userError at
    ``paymentMethodId`` (another user's method reads as unknown)."""
    if method_id is None:
        return None
    field = "paymentMethodId"
    method = await session.get(PaymentMethod, method_id)
    if method is None or method.user_id != user_id:
        raise invalid(field, E.PAYMENT_METHOD_UNKNOWN, "This is not one of your saved payment methods.")
    if has_expired(method):
        raise invalid(field, E.PAYMENT_METHOD_EXPIRED, "This card has expired.")
    return method
