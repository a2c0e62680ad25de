"""Tenant administration: quotas, trial end and soft delete on tenants; branding; custom domains
verified by DNS TXT (one tenant per verified hostname).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels = None
depends_on = None

TENANT_COLUMNS = ("max_users", "max_products", "trial_ends_at", "deleted_at")
VERIFIED = sa.text("verified_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("max_users", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("max_products", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("trial_ends_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("deleted_at", models.base.UTCDateTime(timezone=True), nullable=True))

    op.create_table(
        "tenant_brandings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("logo_url", sa.String(length=2000), nullable=True),
        sa.Column("logo_dark_url", sa.String(length=2000), nullable=True),
        sa.Column("favicon_url", sa.String(length=2000), nullable=True),
        sa.Column("primary_color", sa.String(length=7), nullable=True),
        sa.Column("secondary_color", sa.String(length=7), nullable=True),
        sa.Column("support_url", sa.String(length=2000), nullable=True),
        sa.Column("terms_url", sa.String(length=2000), nullable=True),
        sa.Column("privacy_url", sa.String(length=2000), nullable=True),
        sa.Column("email_from_name", sa.String(length=100), nullable=True),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_brandings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_brandings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_tenant_brandings_tenant_id")),
    )
    with op.batch_alter_table("tenant_brandings") as batch:
        batch.create_index(batch.f("ix_tenant_brandings_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "tenant_domains",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("hostname", sa.String(length=253), nullable=False),
        sa.Column("challenge_token", sa.String(length=64), nullable=False),
        sa.Column("challenge_expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("verified_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_domains_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_domains")),
        sa.UniqueConstraint("tenant_id", "hostname", name=op.f("uq_tenant_domains_tenant_id_hostname")),
    )
    with op.batch_alter_table("tenant_domains") as batch:
        batch.create_index(batch.f("ix_tenant_domains_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index(
            "ix_tenant_domains_verified_hostname",
            ["hostname"],
            unique=True,
            postgresql_where=VERIFIED,
            sqlite_where=VERIFIED,
        )
    protect("tenant_brandings")
    protect("tenant_domains")


def downgrade() -> None:
    unprotect("tenant_domains")
    unprotect("tenant_brandings")
    op.drop_table("tenant_domains")
    op.drop_table("tenant_brandings")
    with op.batch_alter_table("tenants") as batch:
        for column in reversed(TENANT_COLUMNS):
            batch.drop_column(column)
