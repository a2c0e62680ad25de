"""Plan credit: refunds to a billing subscription, taken off its next periods' invoices.

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("billing_subscriptions") as batch:
        batch.add_column(sa.Column("credit_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
        batch.add_column(sa.Column("credit_currency", sa.String(length=3), nullable=True))
        batch.create_check_constraint(batch.f("ck_billing_subscriptions_credit_not_negative"), "credit_minor >= 0")


def downgrade() -> None:
    with op.batch_alter_table("billing_subscriptions") as batch:
        batch.drop_constraint(batch.f("ck_billing_subscriptions_credit_not_negative"), type_="check")
        batch.drop_column("credit_currency")
        batch.drop_column("credit_minor")
