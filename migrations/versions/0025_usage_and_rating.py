"""Usage metering and rating: usage records, pricing rules, billed usage.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels = None
depends_on = None

TABLES = ("usage_bills", "usage_records", "pricing_rules")


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    when = models.base.UTCDateTime(timezone=True)
    op.create_table(
        "pricing_rules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column(
            "model",
            sa.Enum(
                "FLAT", "PER_UNIT", "TIERED", "VOLUME", name="pricingmodel", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("flat_amount", sa.BigInteger(), nullable=False),
        sa.Column("unit_price_micros", sa.BigInteger(), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("flat_amount >= 0", name=op.f("ck_pricing_rules_flat_amount_not_negative")),
        sa.CheckConstraint("unit_price_micros >= 0", name=op.f("ck_pricing_rules_unit_price_not_negative")),
        _fk("pricing_rules", "tenant_id", "tenants", "CASCADE"),
        _fk("pricing_rules", "product_id", "products", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pricing_rules")),
        sa.UniqueConstraint("tenant_id", "metric", name=op.f("uq_pricing_rules_tenant_id_metric")),
    )
    with op.batch_alter_table("pricing_rules") as batch:
        batch.create_index(batch.f("ix_pricing_rules_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index(batch.f("ix_pricing_rules_product_id"), ["product_id"], unique=False)
    op.create_table(
        "usage_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("body_digest", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", when, nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("dimensions", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("billed_at", when, nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_usage_records_quantity_not_negative")),
        _fk("usage_records", "tenant_id", "tenants", "CASCADE"),
        _fk("usage_records", "customer_id", "users", "CASCADE"),
        _fk("usage_records", "invoice_id", "invoices", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_records")),
        sa.UniqueConstraint("tenant_id", "event_id", name=op.f("uq_usage_records_tenant_id_event_id")),
    )
    with op.batch_alter_table("usage_records") as batch:
        batch.create_index(batch.f("ix_usage_records_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index(batch.f("ix_usage_records_customer_id"), ["customer_id"], unique=False)
        batch.create_index(batch.f("ix_usage_records_invoice_id"), ["invoice_id"], unique=False)
        batch.create_index(
            "ix_usage_records_tenant_occurred", ["tenant_id", "occurred_at", "id"], unique=False
        )
        batch.create_index(
            "ix_usage_records_customer_period", ["tenant_id", "customer_id", "period"], unique=False
        )
    op.create_table(
        "usage_bills",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        _fk("usage_bills", "tenant_id", "tenants", "CASCADE"),
        _fk("usage_bills", "customer_id", "users", "CASCADE"),
        _fk("usage_bills", "invoice_id", "invoices", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_bills")),
        sa.UniqueConstraint(
            "tenant_id",
            "customer_id",
            "period",
            "currency",
            name=op.f("uq_usage_bills_tenant_id_customer_id_period_currency"),
        ),
    )
    with op.batch_alter_table("usage_bills") as batch:
        batch.create_index(batch.f("ix_usage_bills_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index(batch.f("ix_usage_bills_customer_id"), ["customer_id"], unique=False)
        batch.create_index(batch.f("ix_usage_bills_invoice_id"), ["invoice_id"], unique=False)
    for table in reversed(TABLES):
        protect(table)


def downgrade() -> None:
    for table in TABLES:
        unprotect(table)
        op.drop_table(table)
