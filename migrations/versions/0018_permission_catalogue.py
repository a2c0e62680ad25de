"""The permission catalogue as data: the custom permissions platform admins add beside the
built-in ones (which stay in code, core/permissions.py). Platform-wide (no tenant_id): every
session reads it (tenants' role changes check and lock the entries they grant), only
platform-scoped sessions write it.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import PLATFORM

# SELECT ... FOR SHARE also needs an UPDATE policy's USING: every row passes it, and WITH CHECK
# refuses the change itself unless platform-scoped.
POLICIES = {
    "catalogue_read": "FOR SELECT USING (true)",
    "catalogue_insert": f"FOR INSERT WITH CHECK ({PLATFORM})",
    "catalogue_update": f"FOR UPDATE USING (true) WITH CHECK ({PLATFORM})",
    "catalogue_delete": f"FOR DELETE USING ({PLATFORM})",
}


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


revision: str = "0018"
down_revision: str | None = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custom_permissions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_permissions")),
        sa.UniqueConstraint("resource", "action", name=op.f("uq_custom_permissions_resource_action")),
    )
    if _on_postgresql():
        op.execute("ALTER TABLE custom_permissions ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE custom_permissions FORCE ROW LEVEL SECURITY")
        for name, rule in POLICIES.items():
            op.execute(f"CREATE POLICY {name} ON custom_permissions {rule}")


def downgrade() -> None:
    if _on_postgresql():
        for name in POLICIES:
            op.execute(f"DROP POLICY {name} ON custom_permissions")
    op.drop_table("custom_permissions")
