"""Redirect-style payment gateways: payments that redirect to pay and call back.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = models.base.UTCDateTime(timezone=True)
    op.create_table(
        "gateway_payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("authority", sa.String(length=255), nullable=False),
        sa.Column("redirect_url", sa.String(length=1000), nullable=False),
        sa.Column("ref_id", sa.String(length=64), nullable=True),
        sa.Column("card_pan", sa.String(length=32), nullable=True),
        sa.Column("verify_code", sa.Integer(), nullable=True),
        sa.Column("callbacks", sa.Integer(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("verified_at", when, nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_gateway_payments_payment_id_payments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_gateway_payments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_payments")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_gateway_payments_payment_id")),
        sa.UniqueConstraint("provider", "authority", name=op.f("uq_gateway_payments_provider_authority")),
    )
    with op.batch_alter_table("gateway_payments") as batch:
        batch.create_index(batch.f("ix_gateway_payments_tenant_id"), ["tenant_id"], unique=False)
    protect("gateway_payments")


def downgrade() -> None:
    unprotect("gateway_payments")
    op.drop_table("gateway_payments")
