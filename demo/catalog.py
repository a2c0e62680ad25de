"""The demo catalog: categories (one nested), two brands and seven products per demo tenant."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.catalog import Brand, Category, Product, ProductStatus
from models.identity.accounts import Tenant

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
