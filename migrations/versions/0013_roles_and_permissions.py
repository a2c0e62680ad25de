"""Custom roles with permissions per tenant.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custom_roles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_custom_roles_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_roles")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_custom_roles_tenant_id_name")),
    )
    with op.batch_alter_table("custom_roles") as batch:
        batch.create_index(batch.f("ix_custom_roles_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index("ix_custom_roles_tenant_name_id", ["tenant_id", "name", "id"], unique=False)
    protect("custom_roles")
    op.create_table(
        "user_custom_roles",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role_id", sa.Uuid(), nullable=False),
        sa.Column("granted_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_custom_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["custom_roles.id"],
            name=op.f("fk_user_custom_roles_role_id_custom_roles"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_user_custom_roles_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "role_id", name=op.f("pk_user_custom_roles")),
    )
    with op.batch_alter_table("user_custom_roles") as batch:
        batch.create_index(batch.f("ix_user_custom_roles_role_id"), ["role_id"], unique=False)
        batch.create_index(batch.f("ix_user_custom_roles_tenant_id"), ["tenant_id"], unique=False)
    protect("user_custom_roles")


def downgrade() -> None:
    unprotect("user_custom_roles")
    with op.batch_alter_table("user_custom_roles") as batch:
        batch.drop_index(batch.f("ix_user_custom_roles_tenant_id"))
        batch.drop_index(batch.f("ix_user_custom_roles_role_id"))
    op.drop_table("user_custom_roles")
    unprotect("custom_roles")
    with op.batch_alter_table("custom_roles") as batch:
        batch.drop_index("ix_custom_roles_tenant_name_id")
        batch.drop_index(batch.f("ix_custom_roles_tenant_id"))
    op.drop_table("custom_roles")
