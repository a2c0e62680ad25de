"""Catalog types: products (federation entity), categories, brands and reviews (Relay nodes)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry.types.lazy_type import LazyType

from core.errors import BadUserInput
from loaders.catalog import ReviewPageKey
from loaders.pagination import DEFAULT_PAGE_SIZE, Page, PageArgs, decode_cursor
from models import catalog as models
from models.catalog import ProductStatus
from schema.enums import documented_enum
from schema.money import Money
from schema.nodes import Entity, load_nodes, node_or_none, node_or_not_found, node_type
from schema.pagination import After, Before, Connection, First, Last, connection
from services.catalog.access import can_see_product
from services.catalog.reviews import average_rating
from services.catalog.search import ProductOrderField

if TYPE_CHECKING:  # users' types build on the catalog's (orders list products): resolved lazily
    from schema.identity.accounts import User

USER_TYPE: LazyType[str, str] = LazyType("User", "schema.identity.accounts")

documented_enum(
    ProductStatus,
    "A product's life cycle: DRAFT -> ACTIVE -> ARCHIVED. Only ACTIVE ones are seen and sold to all.",
    {
        ProductStatus.DRAFT: "Being prepared: seen by catalog staff only, not for sale.",
        ProductStatus.ACTIVE: "On sale and seen by everyone.",
        ProductStatus.ARCHIVED: "No longer sold (kept for past orders): seen by catalog staff only.",
    },
)

documented_enum(
    ProductOrderField,
    "What a list of products is sorted by.",
    {
        ProductOrderField.RELEVANCE: "Best full-text match of `filter.search` first (no search: CREATED_AT).",
        ProductOrderField.CREATED_AT: "When the product was created.",
        ProductOrderField.NAME: "Name, alphabetically.",
        ProductOrderField.PRICE: "Effective price (the sale price if set).",
    },
)


@node_type
@strawberry.federation.type(keys=["id"], name="Category", description="A node of the tenant's category tree.")
class Category(Entity):
    category_id: relay.NodeID[str]
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="URL name, unique in the tenant.")
    description: str | None = strawberry.field(description="Longer text for the category page.")
    image_url: str | None = strawberry.field(description="Absolute http(s) URL of its picture.")
    active: bool = strawberry.field(description="Inactive categories are hidden from all but catalog staff.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    parent_uuid: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, category: models.Category) -> Self:
        return cls(
            category_id=str(category.id),
            name=category.name,
            slug=category.slug,
            description=category.description,
            image_url=category.image_url,
            active=category.active,
            created_at=category.created_at,
            updated_at=category.updated_at,
            parent_uuid=category.parent_id,
        )

    @strawberry.field(description="The category above; null for a root.")
    async def parent(self, info: Info) -> Category | None:
        if self.parent_uuid is None:
            return None
        parent = await info.context.loaders.catalog.category.load(self.parent_uuid)
        return Category.from_model(parent) if parent else None

    @strawberry.field(description="Direct subcategories by name (at most 100).")
    async def children(self, info: Info) -> list[Category]:
        children = await info.context.loaders.catalog.children.load(uuid.UUID(self.category_id))
        return [Category.from_model(c) for c in children]

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        return await load_nodes(node_ids, "Category", info.context.loaders.catalog.category, cls.from_model)


@node_type
@strawberry.federation.type(keys=["id"], name="Brand", description="A brand of the tenant's products.")
class Brand(Entity):
    brand_id: relay.NodeID[str]
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="URL name, unique in the tenant.")
    description: str | None = strawberry.field(description="Longer text for the brand page.")
    logo_url: str | None = strawberry.field(description="Absolute http(s) URL of its logo.")
    active: bool = strawberry.field(description="Inactive brands are hidden from all but catalog staff.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")

    @classmethod
    def from_model(cls, brand: models.Brand) -> Self:
        return cls(
            brand_id=str(brand.id),
            name=brand.name,
            slug=brand.slug,
            description=brand.description,
            logo_url=brand.logo_url,
            active=brand.active,
            created_at=brand.created_at,
            updated_at=brand.updated_at,
        )

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        return await load_nodes(node_ids, "Brand", info.context.loaders.catalog.brand, cls.from_model)


def _review_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    value, row_id = decode_cursor(cursor)
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise BadUserInput("The cursor is not valid.")
    return value, row_id


def _display_name(full_name: str) -> str:
    """What other shoppers see of a reviewer: first name and the initial of the last."""
    parts = full_name.split()
    if not parts:
        return "A buyer"
    return parts[0] if len(parts) == 1 else f"{parts[0]} {parts[-1][0]}."


@node_type
@strawberry.federation.type(
    keys=["id"], name="Review", description="A buyer's rating of a product they bought."
)
class Review(Entity):
    review_id: relay.NodeID[str]
    # Shareable: a partner's reviews subgraph may define reviews too (tests/federation).
    rating: int = strawberry.federation.field(shareable=True, description="1 (worst) to 5 (best).")
    comment: str | None = strawberry.federation.field(
        shareable=True, description="The buyer's words; null for a rating alone."
    )
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    product_uuid: strawberry.Private[uuid.UUID]
    buyer_uuid: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, review: models.Review) -> Self:
        return cls(
            review_id=str(review.id),
            rating=review.rating,
            comment=review.comment,
            created_at=review.created_at,
            updated_at=review.updated_at,
            product_uuid=review.product_id,
            buyer_uuid=review.buyer_id,
        )

    @strawberry.field(description='The reviewer as other shoppers see them, e.g. "Ada L.".')
    async def author_name(self, info: Info) -> str:
        user = await info.context.loaders.identity.user.load(self.buyer_uuid)
        return _display_name(user.full_name) if user else "A buyer"

    @strawberry.field(description="Whether you wrote this review.")
    def is_mine(self, info: Info) -> bool:
        principal = info.context.principal
        return principal is not None and principal.user_id == self.buyer_uuid

    @strawberry.field(description="The product reviewed.")
    async def product(self, info: Info) -> Product:
        return await node_or_not_found(Product, info, str(self.product_uuid))

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        """A review is visible to whoever may see its product (Product's own rule decides)."""
        reviews = await load_nodes(node_ids, "Review", info.context.loaders.catalog.review, cls.from_model)
        products = await Product.load(info, [str(r.product_uuid) for r in reviews if r])
        visible = {p.product_id for p in products if p}
        return [r if r and str(r.product_uuid) in visible else None for r in reviews]


@node_type
@strawberry.federation.type(keys=["id"], name="Product", description="Something a tenant sells.")
class Product(Entity):
    product_id: relay.NodeID[str]
    sku: str = strawberry.field(description="Stock-keeping unit, unique in the tenant (uppercase).")
    name: str = strawberry.field(description="Display name.")
    description: str | None = strawberry.field(description="Longer text for the product page.")
    status: ProductStatus = strawberry.field(description="Where the product is in its life cycle.")
    base_price: Money = strawberry.field(description="The regular price.")
    sale_price: Money | None = strawberry.field(description="Set while the product is on sale.")
    price: Money = strawberry.field(description="What a buyer pays now: the sale price if set.")
    stock_quantity: int | None = strawberry.field(description="Null: stock is not tracked.")
    is_digital: bool = strawberry.field(
        description="A digital good ships nothing (an order of only these needs no shipping address)."
    )
    requires_provisioning: bool = strawberry.field(
        description="A service set up once paid: each paid order line opens a provisioning request."
    )
    attributes: JSON = strawberry.field(
        description="Free-form JSON object (size, colour, ...), at most 100 keys."
    )
    image_urls: list[str] = strawberry.field(
        description="Absolute http(s) URLs of its pictures, in display order (at most 20)."
    )
    average_rating: float | None = strawberry.field(description="Null until the first review.")
    review_count: int = strawberry.field(description="How many reviews it has.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    category_uuid: strawberry.Private[uuid.UUID | None]
    brand_uuid: strawberry.Private[uuid.UUID | None]
    seller_uuid: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, product: models.Product) -> Self:
        return cls(
            product_id=str(product.id),
            sku=product.sku,
            name=product.name,
            description=product.description,
            status=product.status,
            base_price=Money.of(product.base_price, product.currency),
            sale_price=Money.of(product.sale_price, product.currency)
            if product.sale_price is not None
            else None,
            price=Money.of(product.price, product.currency),
            stock_quantity=product.stock_quantity,
            is_digital=product.is_digital,
            requires_provisioning=product.requires_provisioning,
            attributes=JSON(product.attributes),
            image_urls=list(product.image_urls or []),
            average_rating=average_rating(product),
            review_count=product.rating_count,
            created_at=product.created_at,
            updated_at=product.updated_at,
            category_uuid=product.category_id,
            brand_uuid=product.brand_id,
            seller_uuid=product.seller_id,
        )

    @strawberry.field(description="Whether it can be ordered now: stock is untracked or above 0.")
    def in_stock(self) -> bool:
        return self.stock_quantity is None or self.stock_quantity > 0

    @strawberry.field(description="Its category; null if none or hidden.")
    async def category(self, info: Info) -> Category | None:
        if self.category_uuid is None:
            return None
        category = await info.context.loaders.catalog.category.load(self.category_uuid)
        return Category.from_model(category) if category else None

    @strawberry.field(description="Its brand; null if none or hidden.")
    async def brand(self, info: Info) -> Brand | None:
        if self.brand_uuid is None:
            return None
        brand = await info.context.loaders.catalog.brand.load(self.brand_uuid)
        return Brand.from_model(brand) if brand else None

    @strawberry.field(
        description="The marketplace seller paid their share of its sales (`transfers`); null for the "
        "tenant's own products, or when that user is out of your reach."
    )
    async def seller(self, info: Info) -> Annotated[User, strawberry.lazy("schema.identity.accounts")] | None:
        user_type: type[User] = USER_TYPE.resolve_type()
        return await node_or_none(user_type, info, self.seller_uuid)

    @strawberry.field(description="Reviews, newest first.")
    async def reviews(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Review]:
        args = PageArgs(first=first, after=after, last=last, before=before).validated()
        forward = args.last is None
        size = args.first if forward else args.last
        key = ReviewPageKey(
            product_id=uuid.UUID(self.product_id),
            size=DEFAULT_PAGE_SIZE if size is None else size,
            forward=forward,
            after=_review_cursor(args.after),
            before=_review_cursor(args.before),
        )
        found = await info.context.loaders.catalog.review_page.load(key)
        review_count = self.review_count

        async def count() -> int:
            return review_count

        page = Page(found.rows, found.cursors, found.has_next_page, found.has_previous_page, count)
        return connection(page, Review.from_model)

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        """DRAFT and ARCHIVED products are out of reach (like missing ones) but for catalog staff."""
        principal = info.context.principal
        return await load_nodes(
            node_ids,
            "Product",
            info.context.loaders.catalog.product,
            cls.from_model,
            lambda product: can_see_product(principal, product),
        )
