"""Product writes: create, change, archive and delete, with their field and price rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadUserInput, FieldProblem, InvalidInput, invalid
from core.lengths import MAX_DESCRIPTION_LENGTH
from core.permissions import PRODUCT_DELETERS, PRODUCTS_DELETE, PRODUCTS_WRITE
from models.catalog import Brand, Category, Product, ProductStatus
from models.db import locked_or_not_found
from models.identity.accounts import User
from models.orders import OrderItem
from services.catalog.access import write_scope
from services.catalog.errors import CatalogErrorCode
from services.catalog.validation import (
    KEEP,
    Keep,
    normalise_sku,
    problem,
    raise_if,
    set_given,
    sku_problem,
    text_problem,
    url_problem,
)
from services.context import ServiceContext
from services.identity.limits import check_product_quota
from services.money import amount_problem, currency_problem

MAX_NAME = 300
MAX_IMAGES = 20
MAX_ATTRIBUTES_KEYS = 100


@dataclass(frozen=True, slots=True)
class Price:
    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class ProductFields:
    """A new product (every field given) or changes to one (KEEP: leave as stored)."""

    sku: str | Keep = KEEP
    name: str | Keep = KEEP
    description: str | Keep | None = KEEP
    category_id: uuid.UUID | Keep | None = KEEP
    brand_id: uuid.UUID | Keep | None = KEEP
    base_price: Price | Keep = KEEP
    sale_price: Price | Keep | None = KEEP
    status: ProductStatus | Keep = KEEP
    stock_quantity: int | Keep | None = KEEP
    is_digital: bool | Keep = KEEP
    requires_provisioning: bool | Keep = KEEP
    seller_id: uuid.UUID | Keep | None = KEEP
    attributes: dict[str, Any] | Keep = KEEP
    image_urls: list[str] | Keep = KEEP


def _field_problems(fields: ProductFields) -> list[FieldProblem | None]:
    problems: list[FieldProblem | None] = []
    if not isinstance(fields.sku, Keep):
        problems.append(sku_problem(fields.sku))
    if not isinstance(fields.name, Keep):
        problems.append(text_problem("name", fields.name, MAX_NAME))
    if isinstance(fields.description, str):
        problems.append(
            text_problem("description", fields.description, MAX_DESCRIPTION_LENGTH, required=False)
        )
    if isinstance(fields.base_price, Price):
        problems.append(amount_problem("basePrice.amount", fields.base_price.amount))
        problems.append(currency_problem("basePrice.currency", fields.base_price.currency))
    if isinstance(fields.sale_price, Price):
        problems.append(amount_problem("salePrice.amount", fields.sale_price.amount))
        problems.append(currency_problem("salePrice.currency", fields.sale_price.currency))
    if isinstance(fields.stock_quantity, int) and not 0 <= fields.stock_quantity <= 2**31 - 1:
        problems.append(
            problem("stockQuantity", CatalogErrorCode.INVALID_QUANTITY, "Stock is a whole number from 0.")
        )
    if isinstance(fields.attributes, dict) and len(fields.attributes) > MAX_ATTRIBUTES_KEYS:
        problems.append(
            problem(
                "attributes",
                CatalogErrorCode.TOO_MANY_ATTRIBUTES,
                f"At most {MAX_ATTRIBUTES_KEYS} attributes.",
            )
        )
    if isinstance(fields.image_urls, list):
        if len(fields.image_urls) > MAX_IMAGES:
            problems.append(
                problem("imageUrls", CatalogErrorCode.TOO_MANY_IMAGES, f"At most {MAX_IMAGES} images.")
            )
        problems.extend(url_problem(f"imageUrls.{i}", url) for i, url in enumerate(fields.image_urls))
    return problems


def _price_problems(product: Product, fields: ProductFields) -> list[FieldProblem | None]:
    """Rules over the product as it will be: one currency; the sale price not above the base."""
    if product.sale_price is None:
        return []
    problems: list[FieldProblem | None] = []
    if isinstance(fields.sale_price, Price) and fields.sale_price.currency != product.currency:
        problems.append(
            problem(
                "salePrice.currency",
                CatalogErrorCode.CURRENCY_MISMATCH,
                "The sale price is in the base price's currency.",
            )
        )
    if product.sale_price > product.base_price:
        field = "salePrice.amount" if isinstance(fields.sale_price, Price) else "basePrice.amount"
        problems.append(
            problem(field, CatalogErrorCode.SALE_ABOVE_BASE, "The sale price cannot be above the base price.")
        )
    return problems


async def _reference_problems(session: AsyncSession, fields: ProductFields) -> list[FieldProblem | None]:
    # The tenancy guard makes another tenant's category or brand indistinguishable from none.
    problems: list[FieldProblem | None] = []
    if isinstance(fields.category_id, uuid.UUID) and await session.get(Category, fields.category_id) is None:
        problems.append(problem("categoryId", CatalogErrorCode.NOT_FOUND, "No such category."))
    if isinstance(fields.brand_id, uuid.UUID) and await session.get(Brand, fields.brand_id) is None:
        problems.append(problem("brandId", CatalogErrorCode.NOT_FOUND, "No such brand."))
    if isinstance(fields.seller_id, uuid.UUID) and await session.get(User, fields.seller_id) is None:
        problems.append(problem("sellerId", CatalogErrorCode.NOT_FOUND, "No such user."))
    return problems


async def _sku_taken(session: AsyncSession, sku: str, other_than: uuid.UUID | None) -> bool:
    statement = select(Product.id).where(Product.sku == sku)
    if other_than is not None:
        statement = statement.where(Product.id != other_than)
    return await session.scalar(statement) is not None


def _sku_conflict() -> InvalidInput:
    return invalid("sku", CatalogErrorCode.CONFLICT, "Another product already has this SKU.")


def _apply(product: Product, fields: ProductFields) -> None:
    set_given(product, fields, "name", "description")
    if not isinstance(fields.sku, Keep):
        product.sku = normalise_sku(fields.sku)
    if isinstance(fields.base_price, Price):
        product.base_price = fields.base_price.amount
        product.currency = fields.base_price.currency
    if not isinstance(fields.sale_price, Keep):
        product.sale_price = fields.sale_price.amount if fields.sale_price else None
    set_given(
        product,
        fields,
        "category_id",
        "brand_id",
        "status",
        "stock_quantity",
        "is_digital",
        "requires_provisioning",
        "seller_id",
        "attributes",
        strip=False,
    )
    if not isinstance(fields.image_urls, Keep):
        product.image_urls = [url.strip() for url in fields.image_urls]


async def _save(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as error:  # a concurrent product took the SKU after our check
        raise _sku_conflict() from error


async def create_product(ctx: ServiceContext, fields: ProductFields) -> Product:
    scope = write_scope(ctx, PRODUCTS_WRITE)
    missing = [name for name in ("sku", "name", "base_price") if isinstance(getattr(fields, name), Keep)]
    if missing:
        raise BadUserInput(f"Missing fields: {', '.join(missing)}.")
    raise_if(_field_problems(fields))
    async with ctx.transaction(scope) as session:
        raise_if(await _reference_problems(session, fields))
        await check_product_quota(session, scope.tenant_id)
        product = Product(
            id=uuid.uuid4(),
            rating_count=0,
            rating_total=0,
            status=ProductStatus.DRAFT,
            description=None,
            stock_quantity=None,
            is_digital=False,
            requires_provisioning=False,
            attributes={},
            image_urls=[],
        )
        _apply(product, fields)
        raise_if(_price_problems(product, fields))
        if await _sku_taken(session, product.sku, None):
            raise _sku_conflict()
        session.add(product)
        await _save(session)
        return product


async def update_product(ctx: ServiceContext, product_id: uuid.UUID, fields: ProductFields) -> Product:
    scope = write_scope(ctx, PRODUCTS_WRITE)
    raise_if(_field_problems(fields))
    async with ctx.transaction(scope) as session:
        product = await locked_or_not_found(session, Product, product_id)
        raise_if(await _reference_problems(session, fields))
        if not isinstance(fields.sku, Keep) and await _sku_taken(
            session, normalise_sku(fields.sku), product.id
        ):
            raise _sku_conflict()
        _apply(product, fields)
        raise_if(_price_problems(product, fields))
        await _save(session)
        return product


async def archive_product(ctx: ServiceContext, product_id: uuid.UUID) -> Product:
    return await update_product(ctx, product_id, ProductFields(status=ProductStatus.ARCHIVED))


async def delete_product(ctx: ServiceContext, product_id: uuid.UUID) -> uuid.UUID:
    """Only a product that was never ordered is deleted; order history keeps what was bought."""
    scope = write_scope(ctx, PRODUCTS_DELETE, PRODUCT_DELETERS)
    async with ctx.transaction(scope) as session:
        product = await locked_or_not_found(session, Product, product_id)
        if await session.scalar(select(exists().where(OrderItem.product_id == product.id))):
            raise invalid(
                "id", CatalogErrorCode.PRODUCT_ORDERED, "This product has been ordered; archive it instead."
            )
        await session.delete(product)
        return product_id
