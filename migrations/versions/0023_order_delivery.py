"""Orders: per-item delivery records; mail that keeps failing ends FAILED.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels = None
depends_on = None

TABLE = "order_item_deliveries"


def upgrade() -> None:
    when = models.base.UTCDateTime(timezone=True)
    op.add_column("mail_messages", sa.Column("next_attempt_at", when, nullable=True))
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("order_item_id", sa.Uuid(), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("download_url", sa.String(length=2000), nullable=True),
        sa.Column("carrier", sa.String(length=100), nullable=True),
        sa.Column("tracking_number", sa.String(length=200), nullable=True),
        sa.Column("tracking_url", sa.String(length=2000), nullable=True),
        sa.Column("set_by_actor", sa.String(length=32), nullable=False),
        sa.Column("set_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("send_count", sa.Integer(), nullable=False),
        sa.Column("last_sent_at", when, nullable=True),
        sa.Column("last_mail_message_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("send_count >= 0", name=op.f(f"ck_{TABLE}_send_count_not_negative")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{TABLE}_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f(f"fk_{TABLE}_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["order_item_id"],
            ["order_items.id"],
            name=op.f(f"fk_{TABLE}_order_item_id_order_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by_user_id"],
            ["users.id"],
            name=op.f(f"fk_{TABLE}_set_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["last_mail_message_id"],
            ["mail_messages.id"],
            name=op.f(f"fk_{TABLE}_last_mail_message_id_mail_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
        sa.UniqueConstraint("order_item_id", name=op.f(f"uq_{TABLE}_order_item_id")),
    )
    with op.batch_alter_table(TABLE) as batch:
        batch.create_index(batch.f(f"ix_{TABLE}_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index(batch.f(f"ix_{TABLE}_order_id"), ["order_id"], unique=False)
    protect(TABLE)


def downgrade() -> None:
    unprotect(TABLE)
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_index(batch.f(f"ix_{TABLE}_order_id"))
        batch.drop_index(batch.f(f"ix_{TABLE}_tenant_id"))
    op.drop_table(TABLE)
    op.drop_column("mail_messages", "next_attempt_at")
