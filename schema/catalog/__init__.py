"""Catalog types: products (federation entity), categories, brands and reviews (Relay nodes), their
inputs and payloads."""
