"""Seller payouts: sellers' connected accounts, products' sellers and transfers.

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = models.base.UTCDateTime(timezone=True)
    op.create_table(
        "seller_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_account_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_seller_accounts_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_seller_accounts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_accounts")),
        sa.UniqueConstraint(
            "tenant_id", "user_id", "provider", name=op.f("uq_seller_accounts_tenant_id_user_id_provider")
        ),
    )
    with op.batch_alter_table("seller_accounts") as batch:
        batch.create_index(batch.f("ix_seller_accounts_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index(batch.f("ix_seller_accounts_user_id"), ["user_id"], unique=False)
    protect("seller_accounts")

    op.create_table(
        "transfers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seller_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("platform_fee", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum("PENDING", "PAID", "FAILED", name="transferstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("provider_transfer_id", sa.String(length=255), nullable=True),
        sa.Column("retry_count", sa.Integer(), nullable=False),
        sa.Column("next_retry_at", when, nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("key_generation", sa.Integer(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("paid_at", when, nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "amount >= 0 AND platform_fee >= 0", name=op.f("ck_transfers_amounts_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["users.id"], name=op.f("fk_transfers_seller_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_transfers_order_id_orders"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_transfers_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
        sa.UniqueConstraint("order_id", "seller_id", name=op.f("uq_transfers_order_id_seller_id")),
    )
    with op.batch_alter_table("transfers") as batch:
        batch.create_index(batch.f("ix_transfers_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index(batch.f("ix_transfers_seller_id"), ["seller_id"], unique=False)
        batch.create_index(batch.f("ix_transfers_order_id"), ["order_id"], unique=False)
        batch.create_index("ix_transfers_tenant_created", ["tenant_id", "created_at", "id"], unique=False)
        batch.create_index("ix_transfers_due", ["status", "next_retry_at"], unique=False)
    protect("transfers")

    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("seller_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_products_seller_id_users"), "users", ["seller_id"], ["id"], ondelete="RESTRICT"
        )
        batch.create_index(batch.f("ix_products_seller_id"), ["seller_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.drop_index(batch.f("ix_products_seller_id"))
        batch.drop_constraint(batch.f("fk_products_seller_id_users"), type_="foreignkey")
        batch.drop_column("seller_id")
    unprotect("transfers")
    op.drop_table("transfers")
    unprotect("seller_accounts")
    op.drop_table("seller_accounts")
