"""Demo data for the embedded run and tests: tenants, accounts, a catalog, orders and invoices.

Kept apart from the domain logic; it only calls services and models."""
