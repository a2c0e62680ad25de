"""Two tenants with a few users each, written with the models: what the tenancy tests read across."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from core.permissions import Role
from core.scope import TenantScope
from models.db import Database
from models.identity.accounts import Tenant, TenantKind, TenantStatus, User, UserRole

A_EMAILS = ["a0@a.example", "a1@a.example"]
B_EMAILS = ["b0@b.example", "b1@b.example", "b2@b.example"]


@dataclass
class Two:
    db: Database
    a: uuid.UUID
    b: uuid.UUID
    a_users: list[uuid.UUID]
    b_users: list[uuid.UUID]


def new_user(tenant_id: uuid.UUID, email: str) -> User:
    return User(id=uuid.uuid4(), tenant_id=tenant_id, email=email, full_name=email, password_hash="-")


def user_row(tenant_id: uuid.UUID | None, email: str) -> dict[str, object]:
    """A users row for INSERT statements (which run no validators: the skeleton is given); without
    tenant_id when ``tenant_id`` is None."""
    row: dict[str, object] = {"id": uuid.uuid4(), "email": email, "email_skeleton": email}
    row.update(full_name=email, password_hash="-")
    return row if tenant_id is None else {**row, "tenant_id": tenant_id}


async def make_two(db: Database) -> Two:
    """Tenant A with two users, tenant B with three, each with the USER role."""
    a, b = uuid.uuid4(), uuid.uuid4()
    async with db.transaction(TenantScope.all_tenants()) as session:
        for tenant_id, slug in ((a, "tenant-a"), (b, "tenant-b")):
            session.add(
                Tenant(
                    id=tenant_id,
                    slug=slug,
                    name=slug,
                    kind=TenantKind.ENTERPRISE,
                    status=TenantStatus.ACTIVE,
                    settings={},
                )
            )
        await session.flush()
        a_users = [new_user(a, email) for email in A_EMAILS]
        b_users = [new_user(b, email) for email in B_EMAILS]
        session.add_all(a_users + b_users)
        await session.flush()
        session.add_all(
            UserRole(tenant_id=u.tenant_id, user_id=u.id, role=Role.USER) for u in a_users + b_users
        )
    return Two(db, a, b, [u.id for u in a_users], [u.id for u in b_users])
