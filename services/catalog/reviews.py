"""Reviews: one per product per buyer; the product keeps its rating totals in the same transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import FieldProblem, Forbidden, NotFound, invalid
from core.permissions import REVIEW_MODERATORS
from models.catalog import Product, Review
from models.db import locked_or_not_found
from models.orders import Order, OrderItem, OrderStatus
from services.catalog.access import can_see_product
from services.catalog.errors import CatalogErrorCode
from services.catalog.validation import Keep, problem, raise_if, text_problem
from services.context import ServiceContext

# An order in one of these has been paid for: its buyer may review its products.
PURCHASED = (
    OrderStatus.PAID,
    OrderStatus.PROVISIONING,
    OrderStatus.COMPLETED,
    OrderStatus.PARTIALLY_REFUNDED,
)
MAX_COMMENT = 5000


def _review_problems(rating: int | None, comment: str | None) -> list[FieldProblem | None]:
    return [
        problem("rating", CatalogErrorCode.INVALID_RATING, "Rate from 1 to 5.")
        if rating is not None and not 1 <= rating <= 5
        else None,
        text_problem("comment", comment, MAX_COMMENT, required=False) if comment is not None else None,
    ]


@dataclass(frozen=True, slots=True)
class ReviewChange:
    review: Review
    # The reviewed product with its rating totals after the change.
    product: Product


async def create_review(
    ctx: ServiceContext, product_id: uuid.UUID, rating: int, comment: str | None
) -> ReviewChange:
    """One review per product per buyer, by someone with a paid order containing the product.
    The product row is locked: its rating totals change in the review's transaction."""
    principal = ctx.require_principal()
    raise_if(_review_problems(rating, comment))
    async with ctx.transaction() as session:
        product = await session.get(Product, product_id, with_for_update=True)
        if product is None or not can_see_product(principal, product):
            raise invalid("productId", CatalogErrorCode.NOT_FOUND, "No such product.")
        order_id = await session.scalar(
            select(Order.id)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .where(
                Order.user_id == principal.user_id,
                Order.status.in_(PURCHASED),
                OrderItem.product_id == product.id,
            )
            .order_by(Order.created_at, Order.id)
            .limit(1)
        )
        if order_id is None:
            raise invalid(
                "productId", CatalogErrorCode.NOT_A_BUYER, "Only buyers of this product may review it."
            )
        already = await session.scalar(
            select(Review.id).where(Review.product_id == product.id, Review.buyer_id == principal.user_id)
        )
        if already is not None:
            raise invalid("productId", CatalogErrorCode.CONFLICT, "You have already reviewed this product.")
        review = Review(
            id=uuid.uuid4(),
            tenant_id=product.tenant_id,
            product_id=product.id,
            buyer_id=principal.user_id,
            order_id=order_id,
            rating=rating,
            comment=comment.strip() if comment and comment.strip() else None,
        )
        session.add(review)
        product.rating_count += 1
        product.rating_total += rating
        return ReviewChange(review, product)


async def _locked_review(session: AsyncSession, review_id: uuid.UUID) -> tuple[Review, Product]:
    """Locks the product first (the order every review write uses), then the review."""
    product_id = await session.scalar(select(Review.product_id).where(Review.id == review_id))
    if product_id is None:
        raise NotFound("Review")
    product = await locked_or_not_found(session, Product, product_id)
    review = await session.get(Review, review_id, with_for_update=True, populate_existing=True)
    if review is None:
        raise NotFound("Review")
    return review, product


async def update_review(
    ctx: ServiceContext, review_id: uuid.UUID, rating: int | None, comment: str | Keep | None
) -> ReviewChange:
    principal = ctx.require_principal()
    raise_if(_review_problems(rating, comment if isinstance(comment, str) else None))
    async with ctx.transaction() as session:
        review, product = await _locked_review(session, review_id)
        if review.buyer_id != principal.user_id:
            raise Forbidden("Only the author may change a review.")
        if rating is not None:
            product.rating_total += rating - review.rating
            review.rating = rating
        if not isinstance(comment, Keep):
            review.comment = comment.strip() if comment and comment.strip() else None
        return ReviewChange(review, product)


async def delete_review(ctx: ServiceContext, review_id: uuid.UUID) -> ReviewChange:
    principal = ctx.require_principal()
    async with ctx.transaction() as session:
        review, product = await _locked_review(session, review_id)
        if review.buyer_id != principal.user_id and not principal.has_any_role(*REVIEW_MODERATORS):
            raise Forbidden("Only the author or staff may delete a review.")
        product.rating_count -= 1
        product.rating_total -= review.rating
        await session.delete(review)
        return ReviewChange(review, product)


def average_rating(product: Product) -> float | None:
    return round(product.rating_total / product.rating_count, 2) if product.rating_count else None
