"""The cart: one per user, created on first use, one line per product.

Adding a product already in the cart adds to its quantity (and merges in the new attributes).
Unavailable products (unknown, DRAFT, ARCHIVED), quantities below one, more than the tracked stock
and mixing currencies are userErrors; nothing is written then."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, InvalidInput, invalid
from core.principal import Principal
from core.scope import TenantScope
from models.base import new_id, utcnow
from models.catalog import Product, ProductStatus
from models.db import insert_unless_present
from models.orders import Cart, CartItem
from services.context import ServiceContext
from services.orders.errors import OrderErrorCode

MAX_CART_LINES = 100
MAX_QUANTITY = 10_000
MAX_ATTRIBUTES_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class CartContents:
    """The caller's cart lines in the order they were added; ``updated_at`` None: no cart yet."""

    user_id: uuid.UUID
    items: list[CartItem]
    updated_at: datetime | None


def path(field: str) -> tuple[str, ...]:
    return ("input", *field.split("."))


def quantity_problem(field: str, quantity: int) -> FieldProblem | None:
    if not 1 <= quantity <= MAX_QUANTITY:
        return FieldProblem(
            path(field),
            OrderErrorCode.INVALID_QUANTITY,
            f"Quantities are whole numbers from 1 to {MAX_QUANTITY}.",
        )
    return None


def attributes_problem(field: str, attributes: object) -> FieldProblem | None:
    """``attributes`` is any JSON value from the input: null, or an object of bounded size."""
    if attributes is None:
        return None
    if not isinstance(attributes, dict) or len(json.dumps(attributes)) > MAX_ATTRIBUTES_CHARS:
        return FieldProblem(
            path(field),
            OrderErrorCode.INVALID_ATTRIBUTES,
            f"Attributes are a JSON object of at most {MAX_ATTRIBUTES_CHARS} characters.",
        )
    return None


def given_attributes(attributes: object) -> dict[str, Any]:
    """Attributes that ``attributes_problem`` accepted, as a new dict ({} for none given)."""
    return dict(attributes) if isinstance(attributes, dict) else {}


def stock_problem(field: str, product: Product, quantity: int) -> FieldProblem | None:
    if product.stock_quantity is not None and quantity > product.stock_quantity:
        return FieldProblem(
            path(field),
            OrderErrorCode.OUT_OF_STOCK,
            f"Only {max(product.stock_quantity, 0)} of {product.name} in stock.",
        )
    return None


def product_available(product: Product | None) -> bool:
    return product is not None and product.status == ProductStatus.ACTIVE


def unavailable(field: str | None, product: Product | None) -> FieldProblem:
    what = f"{product.name} ({product.sku})" if product is not None else "This product"
    return FieldProblem(
        path(field) if field else None,
        OrderErrorCode.PRODUCT_UNAVAILABLE,
        f"{what} cannot be bought now.",
    )


def tenant_scope(principal: Principal) -> TenantScope:
    """Carts and orders always live in the one tenant the caller acts in."""
    return TenantScope.of(principal.tenant_id)


async def product_of_tenant(
    session: AsyncSession, tenant_id: uuid.UUID, product_id: uuid.UUID
) -> Product | None:
    return await session.scalar(
        select(Product).where(Product.id == product_id, Product.tenant_id == tenant_id)
    )


def _locked_cart(user_id: uuid.UUID) -> Select[Cart]:
    return select(Cart).where(Cart.user_id == user_id).with_for_update()


async def lock_cart(session: AsyncSession, user_id: uuid.UUID) -> Cart | None:
    """The user's cart, locked until the transaction ends; None when there is none yet."""
    return await session.scalar(_locked_cart(user_id))


async def lock_or_create_cart(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> Cart:
    """The user's cart, created first when there is none, locked until the transaction ends."""
    now = utcnow()
    await insert_unless_present(
        session,
        Cart,
        [Cart.user_id],
        id=new_id(),
        tenant_id=tenant_id,
        user_id=user_id,
        created_at=now,
        updated_at=now,
    )
    return (await session.scalars(_locked_cart(user_id))).one()


async def cart_items(session: AsyncSession, cart_id: uuid.UUID) -> list[CartItem]:
    return list(
        await session.scalars(
            select(CartItem).where(CartItem.cart_id == cart_id).order_by(CartItem.added_at, CartItem.id)
        )
    )


async def get_cart(ctx: ServiceContext) -> CartContents:
    """The caller's cart; reading never creates one (an empty cart until the first addition)."""
    principal = ctx.require_principal()
    async with ctx.read(tenant_scope(principal)) as session:
        cart = await session.scalar(select(Cart).where(Cart.user_id == principal.user_id))
        if cart is None:
            return CartContents(principal.user_id, [], None)
        return CartContents(principal.user_id, await cart_items(session, cart.id), cart.updated_at)


async def _changed(session: AsyncSession, cart: Cart) -> CartContents:
    cart.updated_at = utcnow()
    await session.flush()
    return CartContents(cart.user_id, await cart_items(session, cart.id), cart.updated_at)


async def _currencies_of(session: AsyncSession, product_ids: list[uuid.UUID]) -> set[str]:
    if not product_ids:
        return set()
    return set(await session.scalars(select(Product.currency).where(Product.id.in_(product_ids)).distinct()))


def _not_in_cart() -> InvalidInput:
    return invalid("productId", OrderErrorCode.NOT_IN_CART, "This product is not in your cart.")


async def add_to_cart(
    ctx: ServiceContext, product_id: uuid.UUID, quantity: int, attributes: object
) -> CartContents:
    """``attributes``: any JSON value from the input; only null or an object is accepted."""
    principal = ctx.require_principal()
    problems = [
        p for p in (quantity_problem("quantity", quantity), attributes_problem("attributes", attributes)) if p
    ]
    if problems:
        raise InvalidInput(*problems)
    added = given_attributes(attributes)
    async with ctx.transaction(tenant_scope(principal)) as session:
        cart = await lock_or_create_cart(session, principal.tenant_id, principal.user_id)
        product = await product_of_tenant(session, principal.tenant_id, product_id)
        if product is None or not product_available(product):
            raise InvalidInput(unavailable("productId", product))
        items = await cart_items(session, cart.id)
        existing = next((item for item in items if item.product_id == product.id), None)
        others = [item.product_id for item in items if item.product_id != product.id]
        if await _currencies_of(session, others) - {product.currency}:
            raise invalid(
                "productId",
                OrderErrorCode.CURRENCY_MISMATCH,
                f"The cart holds products in another currency than {product.currency}.",
            )
        total = quantity + (existing.quantity if existing else 0)
        if problem := quantity_problem("quantity", total) or stock_problem("quantity", product, total):
            raise InvalidInput(problem)
        if existing is None:
            if len(items) >= MAX_CART_LINES:
                raise invalid(
                    "productId", OrderErrorCode.CART_FULL, f"A cart holds at most {MAX_CART_LINES} products."
                )
            session.add(
                CartItem(
                    tenant_id=principal.tenant_id,
                    cart_id=cart.id,
                    product_id=product.id,
                    quantity=total,
                    attributes=added,
                )
            )
        else:
            existing.quantity = total
            if added:
                existing.attributes = {**existing.attributes, **added}
        return await _changed(session, cart)


async def update_cart_item(ctx: ServiceContext, product_id: uuid.UUID, quantity: int) -> CartContents:
    principal = ctx.require_principal()
    if problem := quantity_problem("quantity", quantity):
        raise InvalidInput(problem)
    async with ctx.transaction(tenant_scope(principal)) as session:
        cart = await lock_cart(session, principal.user_id)
        items = await cart_items(session, cart.id) if cart else []
        item = next((i for i in items if i.product_id == product_id), None)
        if cart is None or item is None:
            raise _not_in_cart()
        product = await product_of_tenant(session, principal.tenant_id, product_id)
        if product is None or not product_available(product):
            raise InvalidInput(unavailable("productId", product))
        if problem := stock_problem("quantity", product, quantity):
            raise InvalidInput(problem)
        item.quantity = quantity
        return await _changed(session, cart)


async def remove_cart_item(ctx: ServiceContext, product_id: uuid.UUID) -> CartContents:
    principal = ctx.require_principal()
    async with ctx.transaction(tenant_scope(principal)) as session:
        cart = await lock_cart(session, principal.user_id)
        removed = 0
        if cart is not None:
            result = await session.execute(
                delete(CartItem).where(CartItem.cart_id == cart.id, CartItem.product_id == product_id)
            )
            # A DELETE returns a CursorResult; SQLAlchemy types execute() as returning Result.
            removed = result.rowcount  # type: ignore[attr-defined]
        if cart is None or not removed:
            raise _not_in_cart()
        return await _changed(session, cart)


async def clear_cart(ctx: ServiceContext) -> CartContents:
    principal = ctx.require_principal()
    async with ctx.transaction(tenant_scope(principal)) as session:
        cart = await lock_cart(session, principal.user_id)
        if cart is None:
            return CartContents(principal.user_id, [], None)
        await session.execute(delete(CartItem).where(CartItem.cart_id == cart.id))
        return await _changed(session, cart)
