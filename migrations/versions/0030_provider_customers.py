"""The payment provider's customer of each buyer.

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels = None
depends_on = None

TABLE = "provider_customers"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_customer_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{TABLE}_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{TABLE}_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
        sa.UniqueConstraint(
            "tenant_id", "user_id", "provider", name=op.f(f"uq_{TABLE}_tenant_id_user_id_provider")
        ),
    )
    with op.batch_alter_table(TABLE) as batch:
        batch.create_index(batch.f(f"ix_{TABLE}_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index(batch.f(f"ix_{TABLE}_user_id"), ["user_id"], unique=False)
    protect(TABLE)


def downgrade() -> None:
    unprotect(TABLE)
    op.drop_table(TABLE)
