"""Billing resolvers: parse input, call a service, map the result to schema types; one module per
concern, merged into the billing roots in roots.py."""
