"""SQLAlchemy models per domain; importing the package registers every table and the tenancy guard."""

from models import billing, catalog, counters, events, idempotency, orders, tenancy  # noqa: F401
from models.base import Base
from models.identity import accounts  # noqa: F401

__all__ = ["Base"]
