"""X-Tenant-Id: the tenant a platform administrator acts in, named by its Relay id (what the API
shows, e.g. `tenant { id }`) or by its UUID. Read alike by GraphQL over HTTP, websockets
(connection_init) and the REST shims."""

from __future__ import annotations

import uuid

from core.errors import BadUserInput, NotFound
from schema.nodes import parse_uuid

TENANT_HEADER = "x-tenant-id"


def acting_tenant(value: str | None) -> uuid.UUID | None:
    """The tenant an X-Tenant-Id value names; None when there is none; BAD_USER_INPUT when it is
    neither a Tenant's Relay id nor a UUID (whether it exists is checked when it is used)."""
    if value is None or not value.strip():
        return None
    try:
        return parse_uuid(value.strip(), "Tenant")
    except NotFound as exc:
        raise BadUserInput(
            "X-Tenant-Id must be a tenant's id: its Relay id (as `tenant { id }` answers) or its UUID."
        ) from exc
