"""Tenant self-service signup, contacts, billing email, allowed origins, HTTP file domain checks.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("contact_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("contact_phone", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("billing_email", sa.String(length=320), nullable=True))
    with op.batch_alter_table("tenant_domains") as batch:
        batch.add_column(
            sa.Column(
                "method",
                sa.Enum("DNS_TXT", "HTTP_FILE", name="domaincheckmethod", native_enum=False, length=32),
                server_default="DNS_TXT",
                nullable=False,
            )
        )
    op.create_table(
        "tenant_origins",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_origins_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_origins")),
        sa.UniqueConstraint("tenant_id", "origin", name=op.f("uq_tenant_origins_tenant_id_origin")),
    )
    with op.batch_alter_table("tenant_origins") as batch:
        batch.create_index(batch.f("ix_tenant_origins_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index(batch.f("ix_tenant_origins_origin"), ["origin"], unique=False)
    protect("tenant_origins")


def downgrade() -> None:
    unprotect("tenant_origins")
    op.drop_table("tenant_origins")
    with op.batch_alter_table("tenant_domains") as batch:
        batch.drop_column("method")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("billing_email")
        batch.drop_column("contact_phone")
        batch.drop_column("contact_name")
