"""Placing an order from the cart or from explicit items.

- Numbers are per tenant, readable and gapless: ORD-000001 (services.counters, same transaction).
- Items snapshot sku, name and unit price; every amount comes from services.orders.pricing.
- Tracked stock is taken here, under the product rows' locks (services.orders.orders.lock_products).
- create runs through services.idempotency.run_once; with ``submit`` the new order moves on to
  AWAITING_PAYMENT in the same transaction.
- Tenant settings read here: ``taxRateBps`` (int, basis points, default 0) and ``discountCodes``
  ({"CODE": {"percentBps": 1000} | {"amount": 500, "currency": "EUR"}}; codes are case-insensitive).
- Promotion codes (services/orders/promotions.py) are claimed under their rows' locks and their
  uses recorded here; ``discountCode`` names a promotion code first, else one of ``discountCodes``.
- Shipping (services/orders/shipping.py): physical items need a shipping address and, when the
  tenant has active methods in the order's currency, one of them (its price is the order's
  shipping); a digital-only order needs neither. ``paymentMethodId``: a saved card of the buyer.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, InvalidInput, invalid
from models.base import new_id, utcnow
from models.identity.accounts import Tenant
from models.orders import Cart, CartItem, Order, OrderItem, OrderStatus
from services.context import ServiceContext
from services.counters import next_value
from services.idempotency import run_once
from services.money import MAX_AMOUNT
from services.orders import pricing, promotions, shipping
from services.orders.cart import (
    cart_items,
    given_attributes,
    lock_cart,
    path,
    product_available,
    quantity_problem,
    stock_problem,
    unavailable,
)
from services.orders.errors import OrderErrorCode
from services.orders.new_order import NewOrder, address_record, new_order_problems
from services.orders.orders import OrderResult, lock_products, read_order
from services.orders.states import move, record_created

S = OrderStatus
NUMBER_FORMAT = "ORD-{:06d}"


# ---- tenant settings --------------------------------------------------------------------------


def tax_rate_bps(settings: dict[str, Any]) -> int:
    rate = settings.get("taxRateBps", 0)
    if isinstance(rate, bool) or not isinstance(rate, int) or not 0 <= rate <= pricing.BPS:
        raise invalid(
            None, OrderErrorCode.TAX_RATE_MISCONFIGURED, "The tenant's taxRateBps is not 0 to 10000."
        )
    return rate


def discount_for_code(settings: dict[str, Any], code: str | None, currency: str) -> pricing.Discount | None:
    """The discount of a tenant's code; an unknown code, or one for another currency, is a userError."""
    if code is None or not code.strip():
        return None
    codes = settings.get("discountCodes") or {}
    wanted = code.strip().upper()
    rule = next((v for k, v in codes.items() if isinstance(k, str) and k.upper() == wanted), None)
    refused = invalid(
        "discountCode", OrderErrorCode.INVALID_DISCOUNT_CODE, "This discount code is not valid."
    )
    if not isinstance(rule, dict):
        raise refused
    try:
        if "percentBps" in rule:
            return pricing.Discount(percent_bps=int(rule["percentBps"]))
        if rule.get("currency") != currency:
            raise refused
        return pricing.Discount(amount=int(rule["amount"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise refused from exc


# ---- placing an order -----------------------------------------------------------------------


@dataclass(slots=True)
class _Line:
    product_id: uuid.UUID
    quantity: int
    attributes: dict[str, Any]
    # Where a problem with this line points in the input.
    product_field: str
    quantity_field: str


async def _lines(session: AsyncSession, user_id: uuid.UUID, new: NewOrder) -> tuple[list[_Line], Cart | None]:
    """The lines to order, and the user's cart (locked) when they come from it."""
    if not new.from_cart:
        lines = [
            _Line(
                i.product_id,
                i.quantity,
                given_attributes(i.attributes),
                f"items.{n}.productId",
                f"items.{n}.quantity",
            )
            for n, i in enumerate(new.items or [])
        ]
        return lines, None
    cart = await lock_cart(session, user_id)
    in_cart: list[CartItem] = await cart_items(session, cart.id) if cart else []
    if not in_cart:
        raise invalid("fromCart", OrderErrorCode.EMPTY_CART, "Your cart is empty.")
    lines = [_Line(i.product_id, i.quantity, dict(i.attributes), "fromCart", "fromCart") for i in in_cart]
    return lines, cart


async def place_order(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    new: NewOrder,
    actor: str,
    actor_user_id: uuid.UUID | None = None,
) -> Order:
    """Creates a PENDING order inside the caller's transaction; userErrors leave nothing written.
    ``new`` was checked with ``new_order_problems``."""
    lines, cart = await _lines(session, user_id, new)
    products = await lock_products(session, tenant_id, {line.product_id for line in lines})

    problems: list[FieldProblem] = []
    for line in lines:
        product = products.get(line.product_id)
        if not product_available(product):
            problems.append(unavailable(line.product_field, product))
    if problems:
        raise InvalidInput(*problems)
    currencies = {products[line.product_id].currency for line in lines}
    if len(currencies) > 1:
        raise invalid(
            "fromCart" if new.from_cart else "items",
            OrderErrorCode.CURRENCY_MISMATCH,
            f"An order is paid in one currency, not {', '.join(sorted(currencies))}.",
        )
    wanted: dict[uuid.UUID, int] = defaultdict(int)
    for line in lines:
        wanted[line.product_id] += line.quantity
    for product_id, quantity in wanted.items():
        where = next(line.quantity_field for line in lines if line.product_id == product_id)
        problem = stock_problem(where, products[product_id], quantity) or quantity_problem(where, quantity)
        if problem:
            problems.append(problem)
    physical = any(not products[line.product_id].is_digital for line in lines)
    if physical and new.shipping_address is None:
        problems.append(
            FieldProblem(
                path("shippingAddress"), OrderErrorCode.REQUIRED, "Physical items need a shipping address."
            )
        )
    if problems:
        raise InvalidInput(*problems)

    (currency,) = currencies
    tenant = await session.get(Tenant, tenant_id)
    settings = tenant.settings if tenant else {}
    claim = await promotions.claim_codes(
        session,
        user_id=user_id,
        codes=new.promotion_codes,
        legacy_code=new.discount_code,
        lines=[
            promotions.PricedLine(line.product_id, products[line.product_id].price, line.quantity)
            for line in lines
        ],
        currency=currency,
    )
    legacy = discount_for_code(settings, new.discount_code, currency) if claim.legacy_unmatched else None
    priced_lines = [pricing.Line(products[line.product_id].price, line.quantity) for line in lines]
    shipped = await shipping.checkout_shipping(
        session,
        method_id=new.shipping_method_id,
        physical=physical,
        currency=currency,
        subtotal=pricing.subtotal(priced_lines),
    )
    paying_with = await shipping.checkout_payment_method(session, user_id, new.payment_method_id)
    priced = pricing.price_order(
        priced_lines,
        discount=legacy,
        discounts=claim.discounts,
        tax_rate_bps=tax_rate_bps(settings),
        shipping=shipped.amount,
    )
    if max(priced.subtotal, priced.total) > MAX_AMOUNT:
        raise invalid(
            None, OrderErrorCode.AMOUNT_TOO_LARGE, f"An order totals at most {MAX_AMOUNT} minor units."
        )

    now = utcnow()
    order = Order(
        id=new_id(),
        tenant_id=tenant_id,
        number=NUMBER_FORMAT.format(await next_value(session, tenant_id, "order")),
        user_id=user_id,
        status=S.PENDING,
        currency=currency,
        subtotal=priced.subtotal,
        discount_total=priced.discount,
        tax_total=priced.tax,
        shipping_total=priced.shipping,
        total=priced.total,
        refunded_total=0,
        notes=new.notes.strip() if new.notes and new.notes.strip() else None,
        shipping_address=address_record(new.shipping_address),
        billing_address=address_record(new.billing_address or new.shipping_address),
        shipping_method_id=shipped.method.id if shipped.method else None,
        payment_method_id=paying_with.id if paying_with else None,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    for position, (line, amounts) in enumerate(zip(lines, priced.lines, strict=True)):
        product = products[line.product_id]
        session.add(
            OrderItem(
                tenant_id=tenant_id,
                order_id=order.id,
                product_id=product.id,
                position=position,
                sku=product.sku,
                name=product.name,
                unit_price=product.price,
                quantity=line.quantity,
                discount_amount=amounts.discount,
                tax_amount=amounts.tax,
                total=amounts.total,
                attributes=line.attributes,
            )
        )
    for product_id, quantity in wanted.items():
        product = products[product_id]
        if product.stock_quantity is not None:
            product.stock_quantity -= quantity
    promotions.record_uses(session, order, claim.applied, priced.discounts[int(legacy is not None) :])
    record_created(session, order, actor=actor, actor_user_id=actor_user_id)
    if cart is not None:
        await session.execute(delete(CartItem).where(CartItem.cart_id == cart.id))
        cart.updated_at = now
    await session.flush()
    return order


async def create_order(ctx: ServiceContext, new: NewOrder, idempotency_key: str | None) -> OrderResult:
    principal = ctx.require_principal()
    if problems := new_order_problems(new):
        raise InvalidInput(*problems)

    async def perform(session: AsyncSession) -> uuid.UUID:
        order = await place_order(
            session,
            tenant_id=principal.tenant_id,
            user_id=principal.user_id,
            new=new,
            actor="user",
            actor_user_id=principal.user_id,
        )
        if new.submit:
            move(session, order, S.AWAITING_PAYMENT, actor="user", actor_user_id=principal.person_id)
        return order.id

    outcome = await run_once(ctx, "order.create", idempotency_key, new.request(), perform)
    return OrderResult(await read_order(ctx, outcome.entity_id), outcome.replayed)
