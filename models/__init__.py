"""SQLAlchemy models per domain; importing the package registers every table and the tenancy guard."""

from models import (  # noqa: F401
    audit,
    billing,
    catalog,
    counters,
    delivery,
    disputes,
    dns,
    events,
    gateways,
    idempotency,
    notifications,
    orders,
    payouts,
    platform,
    promotions,
    provisioning,
    shipping,
    streams,
    tenancy,
    tickets,
    usage,
)
from models.base import Base
from models.identity import (
    accounts,  # noqa: F401
    api_keys,  # noqa: F401
    invites,  # noqa: F401
    mfa,  # noqa: F401
    oauth,  # noqa: F401
    privacy,  # noqa: F401
    profile,  # noqa: F401
    roles,  # noqa: F401
    tenant_profile,  # noqa: F401
    verification,  # noqa: F401
    wallet,  # noqa: F401
)

__all__ = ["Base"]
