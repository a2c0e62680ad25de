"""Catalog inputs and payloads."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models.catalog import ProductStatus
from schema.catalog.types import Brand, Category, Product, Review
from schema.errors import UserError, user_errors_field
from schema.money import BigInt, MoneyInput
from schema.pagination import OrderDirection
from services.catalog.search import ProductOrderField

# ---- inputs -------------------------------------------------------------------------------


@strawberry.input(description="Which products to list; the conditions given all apply.")
class ProductFilterInput:
    search: str | None = strawberry.field(
        default=None, description="Full-text search over name, SKU and description (web-search syntax)."
    )
    category_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The category or any category below it."
    )
    brand_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this brand's products."
    )
    min_price: BigInt | None = strawberry.field(
        default=None, description="Minor units; compared with the effective price (sale price if set)."
    )
    max_price: BigInt | None = strawberry.field(
        default=None, description="Minor units; compared with the effective price."
    )
    currency: str | None = strawberry.field(
        default=None, description="Only products priced in this ISO 4217 currency."
    )
    status: ProductStatus | None = strawberry.field(
        default=None, description="Catalog staff only; everyone else sees ACTIVE products."
    )


@strawberry.input(description="How products are sorted (ties in id order).")
class ProductOrderInput:
    field: ProductOrderField = strawberry.field(default=ProductOrderField.RELEVANCE, description="Sort key.")
    direction: OrderDirection | None = strawberry.field(
        default=None, description="Default: DESC for RELEVANCE and CREATED_AT, ASC for NAME and PRICE."
    )


@strawberry.input(description="Which categories to list; the conditions given all apply.")
class CategoryFilterInput:
    parent_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only direct children of this category."
    )
    roots_only: bool = strawberry.field(default=False, description="Only categories without a parent.")
    search: str | None = strawberry.field(default=None, description="Matches name or slug.")
    active: bool | None = strawberry.field(default=None, description="Staff only; others see active ones.")


@strawberry.input(description="Which brands to list; the conditions given all apply.")
class BrandFilterInput:
    search: str | None = strawberry.field(default=None, description="Matches name or slug.")
    active: bool | None = strawberry.field(default=None, description="Staff only; others see active ones.")


@strawberry.input(description="A new product.")
class CreateProductInput:
    sku: str = strawberry.field(
        description="Letters, digits, '.', '_', '-'; unique in the tenant (stored uppercase)."
    )
    name: str = strawberry.field(description="Display name.")
    description: str | None = strawberry.field(default=None, description="Longer text for the product page.")
    category_id: relay.GlobalID | None = strawberry.field(default=None, description="Its category.")
    brand_id: relay.GlobalID | None = strawberry.field(default=None, description="Its brand.")
    base_price: MoneyInput = strawberry.field(description="The regular price.")
    sale_price: MoneyInput | None = strawberry.field(
        default=None, description="A lower price while on sale; same currency as the base price."
    )
    status: ProductStatus = strawberry.field(
        default=ProductStatus.DRAFT, description="DRAFT (the default) until it should be seen."
    )
    stock_quantity: int | None = strawberry.field(default=None, description="Omit to not track stock.")
    is_digital: bool = strawberry.field(
        default=False, description="Digital goods ship nothing: an order of only these needs no address."
    )
    requires_provisioning: bool = strawberry.field(
        default=False, description="A service set up once paid: each paid line opens a provisioning request."
    )
    seller_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A marketplace seller (a user of the tenant) paid their share of its sales."
    )
    attributes: JSON | None = strawberry.field(default=None, description="A JSON object, at most 100 keys.")
    image_urls: list[str] = strawberry.field(
        default_factory=list, description="Absolute http(s) URLs, at most 20."
    )


@strawberry.input(description="Omitted fields stay as they are; null clears an optional field.")
class UpdateProductInput:
    id: relay.GlobalID = strawberry.field(description="The product's global id.")
    sku: str | None = strawberry.field(default=strawberry.UNSET, description="New SKU.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="New description; null clears it."
    )
    category_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="New category; null clears it."
    )
    brand_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="New brand; null clears it."
    )
    base_price: MoneyInput | None = strawberry.field(
        default=strawberry.UNSET, description="New regular price."
    )
    sale_price: MoneyInput | None = strawberry.field(
        default=strawberry.UNSET, description="New sale price; null ends the sale."
    )
    status: ProductStatus | None = strawberry.field(default=strawberry.UNSET, description="New status.")
    stock_quantity: int | None = strawberry.field(
        default=strawberry.UNSET, description="New stock; null stops tracking it."
    )
    is_digital: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Whether it is a digital good (placed orders keep their shipping).",
    )
    requires_provisioning: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Whether paying for it opens a provisioning request (paid orders keep theirs).",
    )
    seller_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET,
        description="New seller (paid orders keep their transfers); null: the tenant's own.",
    )
    attributes: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the attributes as a whole."
    )
    image_urls: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the image list as a whole."
    )


@strawberry.input(description="One product, by id.")
class ProductIdInput:
    id: relay.GlobalID = strawberry.field(description="The product's global id.")


@strawberry.input(description="A new category.")
class CreateCategoryInput:
    name: str = strawberry.field(description="Display name.")
    slug: str | None = strawberry.field(default=None, description="Made from the name when omitted.")
    description: str | None = strawberry.field(default=None, description="Longer text for the category page.")
    parent_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The category above; omit for a root."
    )
    image_url: str | None = strawberry.field(default=None, description="Absolute http(s) URL of its picture.")
    active: bool = strawberry.field(default=True, description="Whether everyone sees it (default true).")


@strawberry.input(description="Omitted fields stay as they are; parentId null makes it a root.")
class UpdateCategoryInput:
    id: relay.GlobalID = strawberry.field(description="The category's global id.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    slug: str | None = strawberry.field(default=strawberry.UNSET, description="New slug.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="New description; null clears it."
    )
    parent_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="New parent; null makes it a root."
    )
    image_url: str | None = strawberry.field(
        default=strawberry.UNSET, description="New picture; null clears it."
    )
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="Show or hide it.")


@strawberry.input(description="One category, by id.")
class CategoryIdInput:
    id: relay.GlobalID = strawberry.field(description="The category's global id.")


@strawberry.input(description="A new brand.")
class CreateBrandInput:
    name: str = strawberry.field(description="Display name.")
    slug: str | None = strawberry.field(default=None, description="Made from the name when omitted.")
    description: str | None = strawberry.field(default=None, description="Longer text for the brand page.")
    logo_url: str | None = strawberry.field(default=None, description="Absolute http(s) URL of its logo.")
    active: bool = strawberry.field(default=True, description="Whether everyone sees it (default true).")


@strawberry.input(description="Omitted fields stay as they are.")
class UpdateBrandInput:
    id: relay.GlobalID = strawberry.field(description="The brand's global id.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    slug: str | None = strawberry.field(default=strawberry.UNSET, description="New slug.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="New description; null clears it."
    )
    logo_url: str | None = strawberry.field(default=strawberry.UNSET, description="New logo; null clears it.")
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="Show or hide it.")


@strawberry.input(description="One brand, by id.")
class BrandIdInput:
    id: relay.GlobalID = strawberry.field(description="The brand's global id.")


@strawberry.input(description="A review of a product you bought (one per product).")
class CreateReviewInput:
    product_id: relay.GlobalID = strawberry.field(description="The product's global id.")
    rating: int = strawberry.field(description="1 to 5.")
    comment: str | None = strawberry.field(default=None, description="Your words; omit for a rating alone.")


@strawberry.input(description="Changes to your review; omitted fields stay as they are.")
class UpdateReviewInput:
    id: relay.GlobalID = strawberry.field(description="The review's global id.")
    rating: int | None = strawberry.field(default=strawberry.UNSET, description="New rating, 1 to 5.")
    comment: str | None = strawberry.field(
        default=strawberry.UNSET, description="New comment; null clears it."
    )


@strawberry.input(description="One review, by id.")
class ReviewIdInput:
    id: relay.GlobalID = strawberry.field(description="The review's global id.")


# ---- payloads -----------------------------------------------------------------------------


@strawberry.type(description="The result of a product change: the product as it is now, or userErrors.")
class ProductPayload:
    product: Product | None = strawberry.field(default=None, description="The product after the change.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of deleting a product.")
class DeleteProductPayload:
    deleted_product_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The id of the product deleted."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of a category change: the category as it is now, or userErrors.")
class CategoryPayload:
    category: Category | None = strawberry.field(default=None, description="The category after the change.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of deleting a category.")
class DeleteCategoryPayload:
    deleted_category_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The id of the category deleted."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of a brand change: the brand as it is now, or userErrors.")
class BrandPayload:
    brand: Brand | None = strawberry.field(default=None, description="The brand after the change.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of deleting a brand.")
class DeleteBrandPayload:
    deleted_brand_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The id of the brand deleted."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of a review change: the review and its product, or userErrors.")
class ReviewPayload:
    review: Review | None = strawberry.field(default=None, description="The review after the change.")
    product: Product | None = strawberry.field(default=None, description="With its new rating totals.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of deleting a review.")
class DeleteReviewPayload:
    deleted_review_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The id of the review deleted."
    )
    product: Product | None = strawberry.field(default=None, description="With its new rating totals.")
    user_errors: list[UserError] = user_errors_field()
