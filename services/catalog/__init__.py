"""Catalog: products (search, filters, keyset pages), categories (a tree), brands and reviews.

Reads are public: an anonymous storefront names its tenant by slug, signed-in callers read their own
tenant. Only ACTIVE products are visible to anyone but catalog staff (MANAGER, TENANT_ADMIN), who
see and filter every status. Writes are for catalog staff; reviews for buyers of the product.
Callers import from the submodules: ``access``, ``search``, ``products``, ``categories``,
``brands``, ``reviews``.
"""
