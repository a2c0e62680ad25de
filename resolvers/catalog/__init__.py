"""Catalog resolvers: the queries and the mutations of products, categories, brands and reviews."""
