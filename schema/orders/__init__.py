"""Cart and order types (``types``) and their inputs and payloads (``inputs``)."""
