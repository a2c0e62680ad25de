"""Promotion codes as objects: kinds, validity, use limits, eligible products and plans, uses.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels = None
depends_on = None

_KIND_VALUES = (
    "(kind = 'PERCENT' AND percent_bps IS NOT NULL AND amount IS NULL AND currency IS NULL) OR "
    "(kind = 'FIXED' AND percent_bps IS NULL AND amount IS NOT NULL AND currency IS NOT NULL)"
)


def upgrade() -> None:
    when = models.base.UTCDateTime(timezone=True)
    op.create_table(
        "promotion_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("PERCENT", "FIXED", name="promotionkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("percent_bps", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("starts_at", when, nullable=True),
        sa.Column("ends_at", when, nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("max_uses_per_user", sa.Integer(), nullable=True),
        sa.Column("uses_count", sa.Integer(), nullable=False),
        sa.Column("product_ids", sa.JSON(), nullable=False),
        sa.Column("plan_ids", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("uses_count >= 0", name=op.f("ck_promotion_codes_uses_count_not_negative")),
        sa.CheckConstraint(_KIND_VALUES, name=op.f("ck_promotion_codes_kind_values")),
        sa.CheckConstraint(
            "percent_bps IS NULL OR (percent_bps BETWEEN 1 AND 10000)",
            name=op.f("ck_promotion_codes_percent_range"),
        ),
        sa.CheckConstraint("amount IS NULL OR amount > 0", name=op.f("ck_promotion_codes_amount_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_promotion_codes_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_codes")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_promotion_codes_tenant_id_code")),
    )
    with op.batch_alter_table("promotion_codes") as batch:
        batch.create_index(batch.f("ix_promotion_codes_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index(
            "ix_promotion_codes_tenant_created", ["tenant_id", "created_at", "id"], unique=False
        )
    protect("promotion_codes")

    op.create_table(
        "promotion_code_uses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("subscription_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["promotion_codes.id"],
            name=op.f("fk_promotion_code_uses_code_id_promotion_codes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_promotion_code_uses_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["billing_subscriptions.id"],
            name=op.f("fk_promotion_code_uses_subscription_id_billing_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_promotion_code_uses_user_id_users"), ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "(order_id IS NULL) <> (subscription_id IS NULL)", name=op.f("ck_promotion_code_uses_one_target")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_promotion_code_uses_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_code_uses")),
        sa.UniqueConstraint("code_id", "order_id", name=op.f("uq_promotion_code_uses_code_id_order_id")),
        sa.UniqueConstraint(
            "code_id", "subscription_id", name=op.f("uq_promotion_code_uses_code_id_subscription_id")
        ),
    )
    with op.batch_alter_table("promotion_code_uses") as batch:
        batch.create_index(batch.f("ix_promotion_code_uses_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index(batch.f("ix_promotion_code_uses_order_id"), ["order_id"], unique=False)
        batch.create_index("ix_promotion_code_uses_code_user", ["code_id", "user_id"], unique=False)
    protect("promotion_code_uses")


def downgrade() -> None:
    unprotect("promotion_code_uses")
    op.drop_table("promotion_code_uses")
    unprotect("promotion_codes")
    op.drop_table("promotion_codes")
