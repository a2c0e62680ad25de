"""Orders by user without the tenant prefix: User.orders of a platform admin (no tenant filter)
scanned the whole table.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_user_created", "orders", ["user_id", "created_at", "id"])
    op.drop_index("ix_orders_tenant_user_created", table_name="orders")


def downgrade() -> None:
    op.create_index("ix_orders_tenant_user_created", "orders", ["tenant_id", "user_id", "created_at", "id"])
    op.drop_index("ix_orders_user_created", table_name="orders")
