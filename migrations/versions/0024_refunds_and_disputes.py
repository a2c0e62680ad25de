"""Refunds: a processing step with retries, refund destinations, disputes.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels = None
depends_on = None

_REFUND_COLUMNS = (
    "refund_to",
    "details",
    "processed_by",
    "retry_count",
    "next_retry_at",
    "last_error",
    "claimed_until",
    "key_generation",
)


def upgrade() -> None:
    when = models.base.UTCDateTime(timezone=True)
    with op.batch_alter_table("refunds") as batch:
        batch.add_column(
            sa.Column(
                "refund_to",
                sa.Enum("ORIGINAL_METHOD", "BALANCE", name="refunddestination", native_enum=False, length=32),
                server_default="ORIGINAL_METHOD",
                nullable=False,
            )
        )
        batch.add_column(sa.Column("details", sa.String(length=2000), nullable=True))
        batch.add_column(sa.Column("processed_by", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("retry_count", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("next_retry_at", when, nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("claimed_until", when, nullable=True))
        batch.add_column(sa.Column("key_generation", sa.Integer(), server_default="0", nullable=False))
        batch.create_foreign_key(
            batch.f("fk_refunds_processed_by_users"), "users", ["processed_by"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_refunds_status_next_retry", ["status", "next_retry_at"], unique=False)
    op.create_table(
        "disputes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("refund_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_dispute_id", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "OPEN", "UNDER_REVIEW", "WON", "LOST", name="disputestatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("evidence_submitted_at", when, nullable=True),
        sa.Column("due_by", when, nullable=True),
        sa.Column("closed_at", when, nullable=True),
        sa.Column("opened_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_disputes_amount_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_disputes_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_disputes_payment_id_payments"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_disputes_order_id_orders"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refunds.id"], name=op.f("fk_disputes_refund_id_refunds"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["users.id"], name=op.f("fk_disputes_opened_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
        sa.UniqueConstraint(
            "provider", "provider_dispute_id", name=op.f("uq_disputes_provider_provider_dispute_id")
        ),
        sa.UniqueConstraint("refund_id", name=op.f("uq_disputes_refund_id")),
    )
    with op.batch_alter_table("disputes") as batch:
        batch.create_index(batch.f("ix_disputes_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index(batch.f("ix_disputes_payment_id"), ["payment_id"], unique=False)
        batch.create_index("ix_disputes_tenant_created", ["tenant_id", "created_at", "id"], unique=False)
    protect("disputes")


def downgrade() -> None:
    unprotect("disputes")
    op.drop_table("disputes")
    with op.batch_alter_table("refunds") as batch:
        batch.drop_index("ix_refunds_status_next_retry")
        batch.drop_constraint("fk_refunds_processed_by_users", type_="foreignkey")
        for column in _REFUND_COLUMNS:
            batch.drop_column(column)
