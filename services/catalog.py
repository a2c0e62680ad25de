"""Catalog: products (search, filters, keyset pages), categories (a tree), brands and reviews.

Reads are public: an anonymous storefront names its tenant by slug, signed-in callers read their own
tenant. Only ACTIVE products are visible to anyone but catalog staff (MANAGER, TENANT_ADMIN), who
see and filter every status. Writes are for catalog staff; reviews for buyers of the product.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Float, Select, case, exists, func, literal_column, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadUserInput, FieldProblem, Forbidden, InvalidInput, NotFound, invalid
from core.permissions import CATALOG_STAFF, REVIEW_MODERATORS
from core.principal import Principal
from core.scope import TenantScope
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.catalog import Brand, Category, Product, ProductStatus, Review, product_search_document
from models.db import locked_or_not_found
from models.identity import Tenant
from models.orders import Order, OrderItem, OrderStatus
from services.context import ServiceContext
from services.money import MAX_AMOUNT, amount_problem, currency_problem

# An order in one of these has been paid for: its buyer may review its products.
PURCHASED = (
    OrderStatus.PAID,
    OrderStatus.PROVISIONING,
    OrderStatus.COMPLETED,
    OrderStatus.PARTIALLY_REFUNDED,
)

SKU_PATTERN = re.compile(r"^[A-Z0-9](?:[A-Z0-9._-]{0,62}[A-Z0-9])?$")
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")
MAX_NAME = 300
MAX_DESCRIPTION = 20_000
MAX_IMAGES = 20
MAX_URL = 2000
MAX_ATTRIBUTES_KEYS = 100
MAX_COMMENT = 5000
MAX_SEARCH = 200
MAX_SUGGESTIONS = 10
MAX_TREE_DEPTH = 50
ALL_TENANTS = TenantScope.all_tenants()


class ProductOrderField(enum.StrEnum):
    RELEVANCE = "RELEVANCE"
    CREATED_AT = "CREATED_AT"
    NAME = "NAME"
    PRICE = "PRICE"


class Keep(enum.Enum):
    """An update field that was not given: the stored value stays."""

    KEEP = "KEEP"


KEEP = Keep.KEEP


def _set_given(row: Any, fields: Any, *names: str, strip: bool = True) -> None:
    """Copies the named ``fields`` that were given (not KEEP) onto ``row``; text stripped unless
    ``strip`` is off (a StrEnum is text too)."""
    for name in names:
        value = getattr(fields, name)
        if not isinstance(value, Keep):
            setattr(row, name, value.strip() if strip and isinstance(value, str) else value)


# ---- who reads ----------------------------------------------------------------------------


def is_catalog_staff(principal: Principal | None) -> bool:
    return principal is not None and principal.has_any_role(*CATALOG_STAFF)


def can_see_product(principal: Principal | None, product: Product) -> bool:
    """Out-of-reach products look exactly like products that do not exist."""
    return product.status == ProductStatus.ACTIVE or is_catalog_staff(principal)


@dataclass(frozen=True, slots=True)
class CatalogReader:
    """Where a catalog read looks and what it may see."""

    scope: TenantScope
    # Catalog staff see products of every status; everyone else ACTIVE ones only.
    staff: bool
    # Set for anonymous storefront reads: the tenant named by slug, whose scope the request's
    # loaders must then use (RequestContext.read_as_storefront).
    storefront_tenant_id: uuid.UUID | None = None


async def _tenant_by_slug(ctx: ServiceContext, slug: str) -> Tenant | None:
    async with ctx.read(ALL_TENANTS) as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug.strip().lower()))
    return tenant if tenant is not None and tenant.can_sign_in else None


async def catalog_reader(ctx: ServiceContext, tenant_slug: str | None) -> CatalogReader:
    """Anonymous callers name the storefront's tenant by slug; signed-in callers read their own
    tenant (a slug, if given, must name it; platform admins may name any tenant)."""
    principal = ctx.principal
    if principal is None:
        if not tenant_slug:
            raise BadUserInput("Name the storefront with `tenantSlug`, or sign in.")
        tenant = await _tenant_by_slug(ctx, tenant_slug)
        if tenant is None:
            raise NotFound("Tenant")
        return CatalogReader(TenantScope.of(tenant.id), staff=False, storefront_tenant_id=tenant.id)
    staff = is_catalog_staff(principal)
    if not tenant_slug:
        return CatalogReader(principal.scope, staff)
    tenant = await _tenant_by_slug(ctx, tenant_slug)
    if principal.is_platform_admin and principal.acting_tenant_id is None:
        if tenant is None:
            raise NotFound("Tenant")
        return CatalogReader(TenantScope.of(tenant.id), staff)
    if tenant is None or tenant.id != principal.tenant_id:
        raise BadUserInput("Signed-in callers read their own tenant's catalog: omit `tenantSlug`.")
    return CatalogReader(principal.scope, staff)


def _write_scope(ctx: ServiceContext) -> TenantScope:
    principal = ctx.require_role(*CATALOG_STAFF)
    if principal.scope.tenant_id is None:
        raise BadUserInput("Platform administrators name the tenant to change with the X-Tenant-Id header.")
    return principal.scope


# ---- product listing and search -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProductFilter:
    search: str | None = None
    category_id: uuid.UUID | None = None
    brand_id: uuid.UUID | None = None
    min_price: int | None = None
    max_price: int | None = None
    currency: str | None = None
    status: ProductStatus | None = None


def effective_price() -> Any:
    """What a buyer pays: the sale price if set, else the base price (Product.price in SQL)."""
    return func.coalesce(Product.sale_price, Product.base_price)


def _search_query(term: str) -> Any:
    return func.websearch_to_tsquery(literal_column("'english'::regconfig"), term)


def search_condition(term: str) -> Any:
    """Matches the GIN expression index ix_products_search (same document text, no parameters)."""
    return product_search_document().op("@@")(_search_query(term))


# Ranking weighs where a term occurs: name and SKU (A) far above the description (D). Only the
# matching rows (found through the index on the unweighted document) are ranked.
_RANKED_DOCUMENT = (
    "setweight(to_tsvector('english', coalesce(products.name, '') || ' ' || coalesce(products.sku, '')), 'A')"
    " || setweight(to_tsvector('english', coalesce(products.description, '')), 'D')"
)


def search_rank(term: str) -> Any:
    return func.ts_rank(literal_column(_RANKED_DOCUMENT), _search_query(term), type_=Float)


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search_term(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    term = raw.strip()
    if len(term) > MAX_SEARCH:
        raise BadUserInput(f"Search for at most {MAX_SEARCH} characters.")
    return term


def _category_subtree(category_id: uuid.UUID) -> Any:
    """The category and every category below it (UNION, not UNION ALL: ends even on a cycle)."""
    tree = select(Category.id).where(Category.id == category_id).cte("category_tree", recursive=True)
    tree = tree.union(select(Category.id).where(Category.parent_id == tree.c.id))
    return select(tree.c.id)


def _filtered_products(
    reader: CatalogReader, product_filter: ProductFilter, postgres: bool, term: str | None
) -> Select[Any]:
    statement = select(Product)
    if not reader.staff:
        statement = statement.where(Product.status == ProductStatus.ACTIVE)
    if product_filter.status is not None:
        statement = statement.where(Product.status == product_filter.status)
    if product_filter.category_id is not None:
        statement = statement.where(Product.category_id.in_(_category_subtree(product_filter.category_id)))
    if product_filter.brand_id is not None:
        statement = statement.where(Product.brand_id == product_filter.brand_id)
    for bound in (product_filter.min_price, product_filter.max_price):
        if bound is not None and not 0 <= bound <= MAX_AMOUNT:
            raise BadUserInput(f"Price bounds are minor units from 0 to {MAX_AMOUNT}.")
    if product_filter.min_price is not None:
        statement = statement.where(effective_price() >= product_filter.min_price)
    if product_filter.max_price is not None:
        statement = statement.where(effective_price() <= product_filter.max_price)
    if product_filter.currency:
        statement = statement.where(Product.currency == product_filter.currency.strip().upper())
    if term is not None:
        if postgres:
            statement = statement.where(search_condition(term))
        else:
            pattern = f"%{escape_like(term.lower())}%"
            statement = statement.where(
                or_(
                    func.lower(Product.name).like(pattern, escape="\\"),
                    func.lower(Product.sku).like(pattern, escape="\\"),
                    func.lower(func.coalesce(Product.description, "")).like(pattern, escape="\\"),
                )
            )
    return statement


def _sort_expression(order: ProductOrderField, postgres: bool, term: str | None) -> Any:
    if order == ProductOrderField.RELEVANCE:
        if term is None:
            # Nothing to rank by: newest (DESC) or oldest (ASC) first.
            return Product.created_at
        # Without full-text search (SQLite) relevance falls back to the name.
        return search_rank(term) if postgres else Product.name
    if order == ProductOrderField.NAME:
        return Product.name
    if order == ProductOrderField.PRICE:
        return effective_price()
    return Product.created_at


async def list_products(
    ctx: ServiceContext,
    reader: CatalogReader,
    product_filter: ProductFilter,
    order: ProductOrderField,
    descending: bool,
    page: PageArgs,
) -> Page[Product]:
    """Keyset pages. RELEVANCE (with a search term, on PostgreSQL) orders by ts_rank, then id: the
    cursor holds (rank, id), computed by the same expression, so no OFFSET is ever used."""
    postgres = not ctx.db.is_sqlite
    term = _search_term(product_filter.search)
    sort = _sort_expression(order, postgres, term)
    if order == ProductOrderField.RELEVANCE and term is not None and not postgres:
        descending = not descending  # the name fallback: "most relevant first" reads A to Z
    statement = _filtered_products(reader, product_filter, postgres, term).add_columns(
        sort.label("sort_value")
    )

    found = await paginate(
        lambda: ctx.read(reader.scope),
        statement,
        SortKey(sort, Product.id, descending),
        page,
        whole_rows=True,
        sort_value=lambda row: row[1],
        row_id=lambda row: row[0].id,
    )
    return dataclasses.replace(found, rows=[row[0] for row in found.rows])


async def product_suggestions(
    ctx: ServiceContext, reader: CatalogReader, prefix: str, first: int
) -> list[Product]:
    """Autocomplete: ACTIVE products whose name starts with the prefix, then those containing it."""
    text_ = prefix.strip().lower()
    if not 1 <= first <= MAX_SUGGESTIONS:
        raise BadUserInput(f"`first` must be between 1 and {MAX_SUGGESTIONS}.")
    if not text_:
        return []
    if len(text_) > 100:
        raise BadUserInput("The prefix is too long.")
    name = func.lower(Product.name)
    escaped = escape_like(text_)
    starts = case((name.like(f"{escaped}%", escape="\\"), 0), else_=1)
    statement = (
        select(Product)
        .where(Product.status == ProductStatus.ACTIVE, name.like(f"%{escaped}%", escape="\\"))
        .order_by(starts, Product.name, Product.id)
        .limit(first)
    )
    async with ctx.read(reader.scope) as session:
        return list(await session.scalars(statement))


# ---- categories and brands: lists ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CategoryFilter:
    parent_id: uuid.UUID | None = None
    roots_only: bool = False
    search: str | None = None
    active: bool | None = None


@dataclass(frozen=True, slots=True)
class BrandFilter:
    search: str | None = None
    active: bool | None = None


def _name_search(
    statement: Select[Any], model: type[Category] | type[Brand], search: str | None
) -> Select[Any]:
    if search and search.strip():
        pattern = f"%{escape_like(search.strip().lower()[:MAX_SEARCH])}%"
        statement = statement.where(
            or_(func.lower(model.name).like(pattern, escape="\\"), model.slug.like(pattern, escape="\\"))
        )
    return statement


def _active_only(
    reader: CatalogReader, statement: Select[Any], model: type[Category] | type[Brand], active: bool | None
) -> Select[Any]:
    # Inactive categories and brands are hidden from storefronts; staff may list either.
    if not reader.staff:
        return statement.where(model.active.is_(True))
    return statement if active is None else statement.where(model.active.is_(active))


async def _page_by_name(
    ctx: ServiceContext, reader: CatalogReader, statement: Select[Any], model: Any, page: PageArgs
) -> Page[Any]:
    return await paginate(lambda: ctx.read(reader.scope), statement, SortKey(model.name, model.id), page)


async def list_categories(
    ctx: ServiceContext, reader: CatalogReader, category_filter: CategoryFilter, page: PageArgs
) -> Page[Category]:
    statement = _active_only(reader, select(Category), Category, category_filter.active)
    if category_filter.parent_id is not None:
        statement = statement.where(Category.parent_id == category_filter.parent_id)
    elif category_filter.roots_only:
        statement = statement.where(Category.parent_id.is_(None))
    statement = _name_search(statement, Category, category_filter.search)
    return await _page_by_name(ctx, reader, statement, Category, page)


async def list_brands(
    ctx: ServiceContext, reader: CatalogReader, brand_filter: BrandFilter, page: PageArgs
) -> Page[Brand]:
    statement = _active_only(reader, select(Brand), Brand, brand_filter.active)
    statement = _name_search(statement, Brand, brand_filter.search)
    return await _page_by_name(ctx, reader, statement, Brand, page)


# ---- validation helpers -------------------------------------------------------------------


def _problem(field: str, code: str, message: str) -> FieldProblem:
    return FieldProblem(("input", *field.split(".")), code, message)


def normalise_sku(sku: str) -> str:
    return sku.strip().upper()


def sku_problem(sku: str) -> FieldProblem | None:
    if not SKU_PATTERN.match(normalise_sku(sku)):
        return _problem(
            "sku",
            "INVALID_SKU",
            "Use 1-64 letters, digits, dots, dashes or underscores; start and end with a letter or digit.",
        )
    return None


def text_problem(field: str, value: str, limit: int, *, required: bool = True) -> FieldProblem | None:
    if required and not value.strip():
        return _problem(field, "REQUIRED", "This cannot be empty.")
    if len(value) > limit:
        return _problem(field, "TOO_LONG", f"At most {limit} characters.")
    return None


def url_problem(field: str, url: str) -> FieldProblem | None:
    parts = urlsplit(url.strip()) if len(url) <= MAX_URL else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(ch.isspace() for ch in url.strip())
    ):
        return _problem(field, "INVALID_URL", f"Use an absolute http(s) URL of at most {MAX_URL} characters.")
    return None


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100].strip("-")


def slug_problem(slug: str) -> FieldProblem | None:
    if not SLUG_PATTERN.match(slug):
        return _problem("slug", "INVALID_SLUG", "Use 1-100 lowercase letters, digits and inner hyphens.")
    return None


def _raise_if(problems: Sequence[FieldProblem | None]) -> None:
    found = [p for p in problems if p is not None]
    if found:
        raise InvalidInput(*found)


# ---- products: writes ---------------------------------------------------------------------


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
    attributes: dict[str, Any] | Keep = KEEP
    image_urls: list[str] | Keep = KEEP


def _field_problems(fields: ProductFields) -> list[FieldProblem | None]:
    problems: list[FieldProblem | None] = []
    if not isinstance(fields.sku, Keep):
        problems.append(sku_problem(fields.sku))
    if not isinstance(fields.name, Keep):
        problems.append(text_problem("name", fields.name, MAX_NAME))
    if isinstance(fields.description, str):
        problems.append(text_problem("description", fields.description, MAX_DESCRIPTION, required=False))
    if isinstance(fields.base_price, Price):
        problems.append(amount_problem("basePrice.amount", fields.base_price.amount))
        problems.append(currency_problem("basePrice.currency", fields.base_price.currency))
    if isinstance(fields.sale_price, Price):
        problems.append(amount_problem("salePrice.amount", fields.sale_price.amount))
        problems.append(currency_problem("salePrice.currency", fields.sale_price.currency))
    if isinstance(fields.stock_quantity, int) and not 0 <= fields.stock_quantity <= 2**31 - 1:
        problems.append(_problem("stockQuantity", "INVALID_QUANTITY", "Stock is a whole number from 0."))
    if isinstance(fields.attributes, dict) and len(fields.attributes) > MAX_ATTRIBUTES_KEYS:
        problems.append(
            _problem("attributes", "TOO_MANY_ATTRIBUTES", f"At most {MAX_ATTRIBUTES_KEYS} attributes.")
        )
    if isinstance(fields.image_urls, list):
        if len(fields.image_urls) > MAX_IMAGES:
            problems.append(_problem("imageUrls", "TOO_MANY_IMAGES", f"At most {MAX_IMAGES} images."))
        problems.extend(url_problem(f"imageUrls.{i}", url) for i, url in enumerate(fields.image_urls))
    return problems


def _price_problems(product: Product, fields: ProductFields) -> list[FieldProblem | None]:
    """Rules over the product as it will be: one currency; the sale price not above the base."""
    if product.sale_price is None:
        return []
    problems: list[FieldProblem | None] = []
    if isinstance(fields.sale_price, Price) and fields.sale_price.currency != product.currency:
        problems.append(
            _problem(
                "salePrice.currency", "CURRENCY_MISMATCH", "The sale price is in the base price's currency."
            )
        )
    if product.sale_price > product.base_price:
        field = "salePrice.amount" if isinstance(fields.sale_price, Price) else "basePrice.amount"
        problems.append(_problem(field, "SALE_ABOVE_BASE", "The sale price cannot be above the base price."))
    return problems


async def _reference_problems(session: AsyncSession, fields: ProductFields) -> list[FieldProblem | None]:
    # The tenancy guard makes another tenant's category or brand indistinguishable from none.
    problems: list[FieldProblem | None] = []
    if isinstance(fields.category_id, uuid.UUID) and await session.get(Category, fields.category_id) is None:
        problems.append(_problem("categoryId", "NOT_FOUND", "No such category."))
    if isinstance(fields.brand_id, uuid.UUID) and await session.get(Brand, fields.brand_id) is None:
        problems.append(_problem("brandId", "NOT_FOUND", "No such brand."))
    return problems


async def _sku_taken(session: AsyncSession, sku: str, other_than: uuid.UUID | None) -> bool:
    statement = select(Product.id).where(Product.sku == sku)
    if other_than is not None:
        statement = statement.where(Product.id != other_than)
    return await session.scalar(statement) is not None


SKU_CONFLICT = invalid("sku", "CONFLICT", "Another product already has this SKU.")


def _apply(product: Product, fields: ProductFields) -> None:
    _set_given(product, fields, "name", "description")
    if not isinstance(fields.sku, Keep):
        product.sku = normalise_sku(fields.sku)
    if isinstance(fields.base_price, Price):
        product.base_price = fields.base_price.amount
        product.currency = fields.base_price.currency
    if not isinstance(fields.sale_price, Keep):
        product.sale_price = fields.sale_price.amount if fields.sale_price else None
    _set_given(
        product, fields, "category_id", "brand_id", "status", "stock_quantity", "attributes", strip=False
    )
    if not isinstance(fields.image_urls, Keep):
        product.image_urls = [url.strip() for url in fields.image_urls]


async def _save(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as error:  # a concurrent product took the SKU after our check
        raise SKU_CONFLICT from error


async def create_product(ctx: ServiceContext, fields: ProductFields) -> Product:
    scope = _write_scope(ctx)
    missing = [name for name in ("sku", "name", "base_price") if isinstance(getattr(fields, name), Keep)]
    if missing:
        raise BadUserInput(f"Missing fields: {', '.join(missing)}.")
    _raise_if(_field_problems(fields))
    async with ctx.transaction(scope) as session:
        _raise_if(await _reference_problems(session, fields))
        product = Product(
            id=uuid.uuid4(),
            rating_count=0,
            rating_total=0,
            status=ProductStatus.DRAFT,
            description=None,
            stock_quantity=None,
            attributes={},
            image_urls=[],
        )
        _apply(product, fields)
        _raise_if(_price_problems(product, fields))
        if await _sku_taken(session, product.sku, None):
            raise SKU_CONFLICT
        session.add(product)
        await _save(session)
        return product


async def update_product(ctx: ServiceContext, product_id: uuid.UUID, fields: ProductFields) -> Product:
    scope = _write_scope(ctx)
    _raise_if(_field_problems(fields))
    async with ctx.transaction(scope) as session:
        product = await locked_or_not_found(session, Product, product_id)
        _raise_if(await _reference_problems(session, fields))
        if not isinstance(fields.sku, Keep) and await _sku_taken(
            session, normalise_sku(fields.sku), product.id
        ):
            raise SKU_CONFLICT
        _apply(product, fields)
        _raise_if(_price_problems(product, fields))
        await _save(session)
        return product


async def archive_product(ctx: ServiceContext, product_id: uuid.UUID) -> Product:
    return await update_product(ctx, product_id, ProductFields(status=ProductStatus.ARCHIVED))


async def delete_product(ctx: ServiceContext, product_id: uuid.UUID) -> uuid.UUID:
    """Only a product that was never ordered is deleted; order history keeps what was bought."""
    scope = _write_scope(ctx)
    async with ctx.transaction(scope) as session:
        product = await locked_or_not_found(session, Product, product_id)
        if await session.scalar(select(exists().where(OrderItem.product_id == product.id))):
            raise invalid("id", "PRODUCT_ORDERED", "This product has been ordered; archive it instead.")
        await session.delete(product)
        return product_id


# ---- categories and brands: writes --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CategoryFields:
    name: str | Keep = KEEP
    slug: str | Keep | None = KEEP  # None on create: made from the name
    description: str | Keep | None = KEEP
    parent_id: uuid.UUID | Keep | None = KEEP
    image_url: str | Keep | None = KEEP
    active: bool | Keep = KEEP


@dataclass(frozen=True, slots=True)
class BrandFields:
    name: str | Keep = KEEP
    slug: str | Keep | None = KEEP
    description: str | Keep | None = KEEP
    logo_url: str | Keep | None = KEEP
    active: bool | Keep = KEEP


def _common_problems(
    name: object, description: object, url_field: str, url: object
) -> list[FieldProblem | None]:
    return [
        text_problem("name", name, 200) if isinstance(name, str) else None,
        text_problem("description", description, MAX_DESCRIPTION, required=False)
        if isinstance(description, str)
        else None,
        url_problem(url_field, url) if isinstance(url, str) else None,
    ]


def _new_slug(slug: str | Keep | None, name: str) -> str:
    """The slug given, or one made from the name."""
    return slug.strip().lower() if isinstance(slug, str) else slugify(name)


def _changed_slug(fields: CategoryFields | BrandFields, current_name: str) -> str | None:
    """On update: the slug given, a fresh one from the (new) name when null; None: unchanged."""
    if isinstance(fields.slug, Keep):
        return None
    return _new_slug(fields.slug, fields.name if isinstance(fields.name, str) else current_name)


async def _slug_taken(session: AsyncSession, model: Any, slug: str, other_than: uuid.UUID | None) -> bool:
    statement = select(model.id).where(model.slug == slug)
    if other_than is not None:
        statement = statement.where(model.id != other_than)
    return await session.scalar(statement) is not None


SLUG_CONFLICT = invalid("slug", "CONFLICT", "This slug is already used.")


async def _set_slug(session: AsyncSession, row: Category | Brand, slug: str | None) -> None:
    if slug is None:
        return
    _raise_if([slug_problem(slug)])
    if await _slug_taken(session, type(row), slug, row.id):
        raise SLUG_CONFLICT
    row.slug = slug


async def _flush_slug(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        raise SLUG_CONFLICT from error


async def _lock_category_tree(session: AsyncSession, ctx: ServiceContext, scope: TenantScope) -> None:
    """Moves within one tenant's tree are serialised, so two concurrent moves cannot make a cycle
    that neither saw (PostgreSQL; SQLite serialises writers anyway)."""
    if not ctx.db.is_sqlite:
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"category-tree:{scope.tenant_id}"}
        )


async def _parent_problem(
    session: AsyncSession, category_id: uuid.UUID | None, parent_id: uuid.UUID
) -> FieldProblem | None:
    """The new parent exists in this tenant and is not the category itself or below it."""
    seen: set[uuid.UUID] = set()
    current: uuid.UUID | None = parent_id
    while current is not None:
        if current == category_id:
            return _problem("parentId", "CYCLE", "A category cannot be placed below itself.")
        if current in seen or len(seen) > MAX_TREE_DEPTH:
            return _problem("parentId", "TOO_DEEP", f"Categories nest at most {MAX_TREE_DEPTH} levels.")
        seen.add(current)
        parent = await session.get(Category, current)
        if parent is None:
            if current == parent_id:
                return _problem("parentId", "NOT_FOUND", "No such category.")
            break
        current = parent.parent_id
    return None


async def create_category(ctx: ServiceContext, fields: CategoryFields) -> Category:
    scope = _write_scope(ctx)
    if not isinstance(fields.name, str):
        raise BadUserInput("Missing field: name.")
    _raise_if(_common_problems(fields.name, fields.description, "imageUrl", fields.image_url))
    async with ctx.transaction(scope) as session:
        category = Category(id=uuid.uuid4(), name=fields.name.strip(), active=True)
        await _set_slug(session, category, _new_slug(fields.slug, category.name))
        if isinstance(fields.parent_id, uuid.UUID):
            await _lock_category_tree(session, ctx, scope)
            _raise_if([await _parent_problem(session, None, fields.parent_id)])
        _apply_category(category, fields)
        session.add(category)
        await _flush_slug(session)
        return category


def _apply_category(category: Category, fields: CategoryFields) -> None:
    _set_given(category, fields, "name", "description", "parent_id", "image_url", "active")


async def update_category(ctx: ServiceContext, category_id: uuid.UUID, fields: CategoryFields) -> Category:
    scope = _write_scope(ctx)
    _raise_if(_common_problems(fields.name, fields.description, "imageUrl", fields.image_url))
    async with ctx.transaction(scope) as session:
        if isinstance(fields.parent_id, uuid.UUID):
            await _lock_category_tree(session, ctx, scope)
        category = await locked_or_not_found(session, Category, category_id)
        await _set_slug(session, category, _changed_slug(fields, category.name))
        if isinstance(fields.parent_id, uuid.UUID):
            _raise_if([await _parent_problem(session, category.id, fields.parent_id)])
        _apply_category(category, fields)
        await _flush_slug(session)
        return category


async def delete_category(ctx: ServiceContext, category_id: uuid.UUID) -> uuid.UUID:
    """Its children move up to its parent; its products keep no category."""
    scope = _write_scope(ctx)
    async with ctx.transaction(scope) as session:
        await _lock_category_tree(session, ctx, scope)
        category = await locked_or_not_found(session, Category, category_id)
        await session.execute(
            update(Category).where(Category.parent_id == category.id).values(parent_id=category.parent_id)
        )
        await session.execute(
            update(Product).where(Product.category_id == category.id).values(category_id=None)
        )
        await session.delete(category)
        return category_id


def _apply_brand(brand: Brand, fields: BrandFields) -> None:
    _set_given(brand, fields, "name", "description", "logo_url", "active")


async def create_brand(ctx: ServiceContext, fields: BrandFields) -> Brand:
    scope = _write_scope(ctx)
    if not isinstance(fields.name, str):
        raise BadUserInput("Missing field: name.")
    _raise_if(_common_problems(fields.name, fields.description, "logoUrl", fields.logo_url))
    async with ctx.transaction(scope) as session:
        brand = Brand(id=uuid.uuid4(), name=fields.name.strip(), active=True)
        await _set_slug(session, brand, _new_slug(fields.slug, brand.name))
        _apply_brand(brand, fields)
        session.add(brand)
        await _flush_slug(session)
        return brand


async def update_brand(ctx: ServiceContext, brand_id: uuid.UUID, fields: BrandFields) -> Brand:
    scope = _write_scope(ctx)
    _raise_if(_common_problems(fields.name, fields.description, "logoUrl", fields.logo_url))
    async with ctx.transaction(scope) as session:
        brand = await locked_or_not_found(session, Brand, brand_id)
        await _set_slug(session, brand, _changed_slug(fields, brand.name))
        _apply_brand(brand, fields)
        await _flush_slug(session)
        return brand


async def delete_brand(ctx: ServiceContext, brand_id: uuid.UUID) -> uuid.UUID:
    """Its products keep no brand."""
    scope = _write_scope(ctx)
    async with ctx.transaction(scope) as session:
        brand = await locked_or_not_found(session, Brand, brand_id)
        await session.execute(update(Product).where(Product.brand_id == brand.id).values(brand_id=None))
        await session.delete(brand)
        return brand_id


# ---- reviews ------------------------------------------------------------------------------


def _review_problems(rating: int | None, comment: str | None) -> list[FieldProblem | None]:
    return [
        _problem("rating", "INVALID_RATING", "Rate from 1 to 5.")
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
    _raise_if(_review_problems(rating, comment))
    async with ctx.transaction() as session:
        product = await session.get(Product, product_id, with_for_update=True)
        if product is None or not can_see_product(principal, product):
            raise invalid("productId", "NOT_FOUND", "No such product.")
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
            raise invalid("productId", "NOT_A_BUYER", "Only buyers of this product may review it.")
        already = await session.scalar(
            select(Review.id).where(Review.product_id == product.id, Review.buyer_id == principal.user_id)
        )
        if already is not None:
            raise invalid("productId", "CONFLICT", "You have already reviewed this product.")
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
    _raise_if(_review_problems(rating, comment if isinstance(comment, str) else None))
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


# ---- demo data ----------------------------------------------------------------------------

_DEMO_CATEGORIES = (
    # slug, name, parent slug
    ("software", "Software", None),
    ("security", "Security software", "software"),
    ("hardware", "Hardware", None),
    ("services", "Services", None),
)
_DEMO_PRODUCTS = (
    # sku, name, description, category, brand index, base, sale, status
    (
        "SW-VAULT",
        "Vault Password Manager",
        "Team password manager with audit trails.",
        "security",
        0,
        4900,
        None,
        "ACTIVE",
    ),
    (
        "SW-SHIELD",
        "Shield Endpoint Protection",
        "Antivirus and firewall for every laptop.",
        "security",
        0,
        8900,
        6900,
        "ACTIVE",
    ),
    (
        "SW-LEDGER",
        "Ledger Accounting Suite",
        "Invoices, expenses and reports.",
        "software",
        1,
        19900,
        None,
        "ACTIVE",
    ),
    (
        "HW-ROUTER",
        "Mesh Router Pro",
        "Wi-Fi 7 mesh router for offices.",
        "hardware",
        1,
        29900,
        24900,
        "ACTIVE",
    ),
    (
        "HW-KEY",
        "Hardware Security Key",
        "FIDO2 key for passwordless sign-in.",
        "hardware",
        0,
        5500,
        None,
        "ACTIVE",
    ),
    (
        "SV-ONBOARD",
        "Onboarding Workshop",
        "Two days of guided setup for your team.",
        "services",
        1,
        150000,
        None,
        "ACTIVE",
    ),
    ("SW-NEXT", "Next-Gen Firewall (preview)", "Not released yet.", "security", 0, 99900, None, "DRAFT"),
)


async def seed_demo_catalog(session: AsyncSession, tenant: Tenant) -> None:
    """Categories (one nested), two brands and seven products (one DRAFT) for a demo tenant.
    Re-runnable: rows are found by slug or SKU, never created twice. ``session`` may span tenants,
    so every lookup names the tenant."""
    categories: dict[str, Category] = {}
    for slug, name, parent in _DEMO_CATEGORIES:
        category = await session.scalar(
            select(Category).where(Category.tenant_id == tenant.id, Category.slug == slug)
        )
        if category is None:
            category = Category(
                id=uuid.uuid4(),
                tenant_id=tenant.id,
                slug=slug,
                name=name,
                parent_id=categories[parent].id if parent else None,
                active=True,
            )
            session.add(category)
        categories[slug] = category
    brands: list[Brand] = []
    for slug, name in (
        (f"{tenant.slug}-labs", f"{tenant.name} Labs"),
        (f"{tenant.slug}-works", f"{tenant.name} Works"),
    ):
        brand = await session.scalar(select(Brand).where(Brand.tenant_id == tenant.id, Brand.slug == slug))
        if brand is None:
            brand = Brand(id=uuid.uuid4(), tenant_id=tenant.id, slug=slug, name=name, active=True)
            session.add(brand)
        brands.append(brand)
    await session.flush()
    for sku, name, description, category_slug, brand_index, base, sale, status in _DEMO_PRODUCTS:
        if await session.scalar(select(Product.id).where(Product.tenant_id == tenant.id, Product.sku == sku)):
            continue
        session.add(
            Product(
                id=uuid.uuid4(),
                tenant_id=tenant.id,
                sku=sku,
                name=name,
                description=description,
                category_id=categories[category_slug].id,
                brand_id=brands[brand_index].id,
                base_price=base,
                sale_price=sale,
                currency="EUR",
                status=ProductStatus(status),
                stock_quantity=None if sku.startswith(("SW", "SV")) else 25,
                attributes={"demo": True},
                image_urls=[f"https://images.example/{tenant.slug}/{sku.lower()}.png"],
                rating_count=0,
                rating_total=0,
            )
        )
    await session.flush()
