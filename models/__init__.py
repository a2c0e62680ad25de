"""SQLAlchemy models per domain; importing the package registers every table and the tenancy guard."""

from models import billing, catalog, counters, events, idempotency, identity, orders, tenancy  # noqa: F401
from models.base import Base

__all__ = ["Base"]
