"""Catalog mutations: parse input, call the catalog service, map the result to schema types."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.errors import NotFound, invalid
from core.permissions import CATALOG_STAFF, PRODUCT_DELETERS, PRODUCTS_DELETE, PRODUCTS_WRITE
from core.scopes import ApiScope
from schema.catalog.inputs import (
    BrandIdInput,
    BrandPayload,
    CategoryIdInput,
    CategoryPayload,
    CreateBrandInput,
    CreateCategoryInput,
    CreateProductInput,
    CreateReviewInput,
    DeleteBrandPayload,
    DeleteCategoryPayload,
    DeleteProductPayload,
    DeleteReviewPayload,
    ProductIdInput,
    ProductPayload,
    ReviewIdInput,
    ReviewPayload,
    UpdateBrandInput,
    UpdateCategoryInput,
    UpdateProductInput,
    UpdateReviewInput,
)
from schema.catalog.types import Brand, Category, Product, Review
from schema.directives import AUTHENTICATED, HasPermission, HasScope, access
from schema.errors import mutation_payload
from schema.money import MoneyInput
from schema.nodes import parse_uuid
from services.catalog import brands, categories, products, reviews
from services.catalog.brands import BrandFields
from services.catalog.categories import CategoryFields
from services.catalog.errors import CatalogErrorCode
from services.catalog.products import Price, ProductFields
from services.catalog.reviews import ReviewChange
from services.catalog.validation import KEEP, Keep

# Catalog staff, or holders of the resource's write permission (a custom role); deleting a
# product is admin-only (seed 004).
PRODUCT_WRITERS = HasPermission(PRODUCTS_WRITE, roles=CATALOG_STAFF)
PRODUCT_REMOVERS = HasPermission(PRODUCTS_DELETE, roles=PRODUCT_DELETERS)
CATEGORY_WRITERS = HasPermission("categories:write", roles=CATALOG_STAFF)
BRAND_WRITERS = HasPermission("brands:write", roles=CATALOG_STAFF)
WRITE = HasScope(ApiScope.PRODUCTS_WRITE)
REVIEWS = HasScope(ApiScope.REVIEWS_WRITE)
T = TypeVar("T")


def _ref(raw: Any, type_name: str, field: str) -> Any:
    """An input's reference: KEEP when omitted, None when null, else the id (a userError if bad)."""
    if raw is strawberry.UNSET:
        return KEEP
    if raw is None:
        return None
    try:
        return parse_uuid(raw, type_name)
    except NotFound as error:
        raise invalid(field, CatalogErrorCode.NOT_FOUND, f"No such {type_name.lower()}.") from error


def _kept(value: Any) -> Any:
    return KEEP if value is strawberry.UNSET else value


def _money(value: MoneyInput) -> Price:
    return Price(amount=value.amount, currency=value.currency.strip().upper())


def _price(value: MoneyInput | None) -> Price | Keep | None:
    if value is strawberry.UNSET:
        return KEEP
    return None if value is None else _money(value)


def _base_price(value: MoneyInput | None) -> Price | Keep:
    """A product always has a base price: it may be replaced, never cleared."""
    if value is strawberry.UNSET:
        return KEEP
    return _money(_required(value, "basePrice"))


def _product_payload(product: Any) -> ProductPayload:
    return ProductPayload(product=Product.from_model(product))


def _review_payload(change: ReviewChange) -> ReviewPayload:
    return ReviewPayload(review=Review.from_model(change.review), product=Product.from_model(change.product))


def _product_fields(input: CreateProductInput | UpdateProductInput) -> ProductFields:
    return ProductFields(
        sku=_kept(input.sku),
        name=_kept(input.name),
        description=_kept(input.description),
        category_id=_ref(input.category_id, "Category", "categoryId"),
        brand_id=_ref(input.brand_id, "Brand", "brandId"),
        base_price=_base_price(input.base_price),
        sale_price=_price(input.sale_price),
        status=_kept(input.status),
        stock_quantity=_kept(input.stock_quantity),
        is_digital=_required(_kept(input.is_digital), "isDigital"),
        requires_provisioning=_required(_kept(input.requires_provisioning), "requiresProvisioning"),
        seller_id=_ref(input.seller_id, "User", "sellerId"),
        attributes=_attributes(input.attributes),
        image_urls=_kept(input.image_urls),
    )


def _attributes(value: Any) -> Any:
    if value is strawberry.UNSET:
        return KEEP
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("attributes", CatalogErrorCode.INVALID_ATTRIBUTES, "Attributes are a JSON object.")
    return value


def _required(value: T | None, field: str) -> T:
    if value is None:
        raise invalid(field, CatalogErrorCode.REQUIRED, "This cannot be null.")
    return value


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(
        extensions=access(PRODUCT_WRITERS, WRITE), description="Add a product (DRAFT by default)."
    )
    async def create_product(
        self,
        info: Info,
        input: Annotated[CreateProductInput, strawberry.argument(description="The new product.")],
    ) -> ProductPayload:
        async def work() -> Any:
            return await products.create_product(info.context.services, _product_fields(input))

        return await mutation_payload(ProductPayload, work(), _product_payload)

    @strawberry.mutation(extensions=access(PRODUCT_WRITERS, WRITE), description="Change a product.")
    async def update_product(
        self,
        info: Info,
        input: Annotated[
            UpdateProductInput, strawberry.argument(description="The product and the fields to change.")
        ],
    ) -> ProductPayload:
        async def work() -> Any:
            for name, field in (
                ("sku", "sku"),
                ("name", "name"),
                ("base_price", "basePrice"),
                ("status", "status"),
            ):
                _required(getattr(input, name), field)
            return await products.update_product(
                info.context.services, parse_uuid(input.id, "Product"), _product_fields(input)
            )

        return await mutation_payload(ProductPayload, work(), _product_payload)

    @strawberry.mutation(
        extensions=access(PRODUCT_WRITERS, WRITE), description="Withdraw a product from sale; orders keep it."
    )
    async def archive_product(
        self,
        info: Info,
        input: Annotated[ProductIdInput, strawberry.argument(description="The product to archive.")],
    ) -> ProductPayload:
        call = products.archive_product(info.context.services, parse_uuid(input.id, "Product"))
        return await mutation_payload(ProductPayload, call, _product_payload)

    @strawberry.mutation(
        extensions=access(PRODUCT_REMOVERS, WRITE),
        description="Delete a product that was never ordered (otherwise archive it).",
    )
    async def delete_product(
        self,
        info: Info,
        input: Annotated[
            ProductIdInput, strawberry.argument(description="The product to delete (never ordered).")
        ],
    ) -> DeleteProductPayload:
        call = products.delete_product(info.context.services, parse_uuid(input.id, "Product"))
        return await mutation_payload(
            DeleteProductPayload,
            call,
            lambda deleted: DeleteProductPayload(deleted_product_id=relay.GlobalID("Product", str(deleted))),
        )

    @strawberry.mutation(extensions=access(CATEGORY_WRITERS, WRITE), description="Add a category.")
    async def create_category(
        self,
        info: Info,
        input: Annotated[CreateCategoryInput, strawberry.argument(description="The new category.")],
    ) -> CategoryPayload:
        async def work() -> Any:
            fields = CategoryFields(
                name=input.name,
                slug=input.slug,
                description=input.description,
                parent_id=_ref(input.parent_id, "Category", "parentId"),
                image_url=input.image_url,
                active=input.active,
            )
            return await categories.create_category(info.context.services, fields)

        return await mutation_payload(
            CategoryPayload, work(), lambda c: CategoryPayload(category=Category.from_model(c))
        )

    @strawberry.mutation(
        extensions=access(CATEGORY_WRITERS, WRITE),
        description="Change or move a category (never below itself).",
    )
    async def update_category(
        self,
        info: Info,
        input: Annotated[
            UpdateCategoryInput, strawberry.argument(description="The category and the fields to change.")
        ],
    ) -> CategoryPayload:
        async def work() -> Any:
            _required(input.name, "name")
            _required(input.active, "active")
            fields = CategoryFields(
                name=_kept(input.name),
                slug=_kept(input.slug),
                description=_kept(input.description),
                parent_id=_ref(input.parent_id, "Category", "parentId"),
                image_url=_kept(input.image_url),
                active=_kept(input.active),
            )
            return await categories.update_category(
                info.context.services, parse_uuid(input.id, "Category"), fields
            )

        return await mutation_payload(
            CategoryPayload, work(), lambda c: CategoryPayload(category=Category.from_model(c))
        )

    @strawberry.mutation(
        extensions=access(CATEGORY_WRITERS, WRITE),
        description="Delete a category: its children move to its parent, its products keep no category.",
    )
    async def delete_category(
        self,
        info: Info,
        input: Annotated[CategoryIdInput, strawberry.argument(description="The category to delete.")],
    ) -> DeleteCategoryPayload:
        call = categories.delete_category(info.context.services, parse_uuid(input.id, "Category"))
        return await mutation_payload(
            DeleteCategoryPayload,
            call,
            lambda deleted: DeleteCategoryPayload(
                deleted_category_id=relay.GlobalID("Category", str(deleted))
            ),
        )

    @strawberry.mutation(extensions=access(BRAND_WRITERS, WRITE), description="Add a brand.")
    async def create_brand(
        self,
        info: Info,
        input: Annotated[CreateBrandInput, strawberry.argument(description="The new brand.")],
    ) -> BrandPayload:
        fields = BrandFields(
            name=input.name,
            slug=input.slug,
            description=input.description,
            logo_url=input.logo_url,
            active=input.active,
        )
        call = brands.create_brand(info.context.services, fields)
        return await mutation_payload(BrandPayload, call, lambda b: BrandPayload(brand=Brand.from_model(b)))

    @strawberry.mutation(extensions=access(BRAND_WRITERS, WRITE), description="Change a brand.")
    async def update_brand(
        self,
        info: Info,
        input: Annotated[
            UpdateBrandInput, strawberry.argument(description="The brand and the fields to change.")
        ],
    ) -> BrandPayload:
        async def work() -> Any:
            _required(input.name, "name")
            _required(input.active, "active")
            fields = BrandFields(
                name=_kept(input.name),
                slug=_kept(input.slug),
                description=_kept(input.description),
                logo_url=_kept(input.logo_url),
                active=_kept(input.active),
            )
            return await brands.update_brand(info.context.services, parse_uuid(input.id, "Brand"), fields)

        return await mutation_payload(BrandPayload, work(), lambda b: BrandPayload(brand=Brand.from_model(b)))

    @strawberry.mutation(
        extensions=access(BRAND_WRITERS, WRITE), description="Delete a brand; its products keep no brand."
    )
    async def delete_brand(
        self,
        info: Info,
        input: Annotated[BrandIdInput, strawberry.argument(description="The brand to delete.")],
    ) -> DeleteBrandPayload:
        call = brands.delete_brand(info.context.services, parse_uuid(input.id, "Brand"))
        return await mutation_payload(
            DeleteBrandPayload,
            call,
            lambda deleted: DeleteBrandPayload(deleted_brand_id=relay.GlobalID("Brand", str(deleted))),
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, REVIEWS),
        description="Review a product you bought (a paid order contains it); one review per product.",
    )
    async def create_review(
        self,
        info: Info,
        input: Annotated[CreateReviewInput, strawberry.argument(description="The product and your rating.")],
    ) -> ReviewPayload:
        async def work() -> Any:
            product_id = _ref(input.product_id, "Product", "productId")
            return await reviews.create_review(info.context.services, product_id, input.rating, input.comment)

        return await mutation_payload(ReviewPayload, work(), _review_payload)

    @strawberry.mutation(extensions=access(AUTHENTICATED, REVIEWS), description="Change your review.")
    async def update_review(
        self,
        info: Info,
        input: Annotated[
            UpdateReviewInput, strawberry.argument(description="Your review and the fields to change.")
        ],
    ) -> ReviewPayload:
        async def work() -> Any:
            rating = _required(_kept(input.rating), "rating")
            return await reviews.update_review(
                info.context.services,
                parse_uuid(input.id, "Review"),
                None if rating is KEEP else rating,
                _kept(input.comment),
            )

        return await mutation_payload(ReviewPayload, work(), _review_payload)

    @strawberry.mutation(
        extensions=access(AUTHENTICATED, REVIEWS),
        description="Delete a review: its author, or staff (moderation).",
    )
    async def delete_review(
        self,
        info: Info,
        input: Annotated[ReviewIdInput, strawberry.argument(description="The review to delete.")],
    ) -> DeleteReviewPayload:
        call = reviews.delete_review(info.context.services, parse_uuid(input.id, "Review"))
        return await mutation_payload(
            DeleteReviewPayload,
            call,
            lambda change: DeleteReviewPayload(
                deleted_review_id=relay.GlobalID("Review", str(change.review.id)),
                product=Product.from_model(change.product),
            ),
        )
