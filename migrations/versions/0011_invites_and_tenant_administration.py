"""Invites, tenant administration (branding, domains, quotas, soft delete) and user bans.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invites",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_user_id", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invited_by"], ["users.id"], name=op.f("fk_invites_invited_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["accepted_user_id"],
            ["users.id"],
            name=op.f("fk_invites_accepted_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_invites_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invites")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invites_token_hash")),
    )
    with op.batch_alter_table("invites") as batch:
        batch.create_index(batch.f("ix_invites_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index("ix_invites_tenant_created", ["tenant_id", "created_at", "id"], unique=False)
    protect("invites")
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("banned_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("banned_until", models.base.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("ban_reason", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("ban_reason")
        batch.drop_column("banned_until")
        batch.drop_column("banned_at")
    unprotect("invites")
    with op.batch_alter_table("invites") as batch:
        batch.drop_index("ix_invites_tenant_created")
        batch.drop_index(batch.f("ix_invites_tenant_id"))
    op.drop_table("invites")
