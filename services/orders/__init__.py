"""The orders domain: the cart, orders and their life cycle, pricing, listing and statistics, and
the order status stream. Callers import from the submodules."""
