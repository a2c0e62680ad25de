"""Shipping methods, digital products and the checkout's chosen method and payment method.

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels = None
depends_on = None

TABLE = "shipping_methods"


def upgrade() -> None:
    when = models.base.UTCDateTime(timezone=True)
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("free_over", sa.BigInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("price >= 0", name=op.f(f"ck_{TABLE}_price_not_negative")),
        sa.CheckConstraint("free_over IS NULL OR free_over > 0", name=op.f(f"ck_{TABLE}_free_over_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{TABLE}_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f(f"uq_{TABLE}_tenant_id_code")),
    )
    with op.batch_alter_table(TABLE) as batch:
        batch.create_index(batch.f(f"ix_{TABLE}_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index(f"ix_{TABLE}_tenant_position", ["tenant_id", "position", "id"], unique=False)
    protect(TABLE)

    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("is_digital", sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("shipping_method_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("payment_method_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_orders_shipping_method_id_shipping_methods"),
            TABLE,
            ["shipping_method_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_foreign_key(
            batch.f("fk_orders_payment_method_id_payment_methods"),
            "payment_methods",
            ["payment_method_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(batch.f("ix_orders_shipping_method_id"), ["shipping_method_id"], unique=False)
        batch.create_index(batch.f("ix_orders_payment_method_id"), ["payment_method_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_index(batch.f("ix_orders_payment_method_id"))
        batch.drop_index(batch.f("ix_orders_shipping_method_id"))
        batch.drop_constraint(batch.f("fk_orders_payment_method_id_payment_methods"), type_="foreignkey")
        batch.drop_constraint(batch.f("fk_orders_shipping_method_id_shipping_methods"), type_="foreignkey")
        batch.drop_column("payment_method_id")
        batch.drop_column("shipping_method_id")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("is_digital")
    unprotect(TABLE)
    op.drop_table(TABLE)
