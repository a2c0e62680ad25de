"""Which tenant's rows a session may touch: one tenant, or (platform admins, system jobs) all."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TenantScope:
    """``tenant_id`` None means every tenant: platform administrators and system jobs only."""

    tenant_id: uuid.UUID | None

    @classmethod
    def of(cls, tenant_id: uuid.UUID) -> TenantScope:
        return cls(tenant_id)

    @classmethod
    def all_tenants(cls) -> TenantScope:
        return cls(None)
