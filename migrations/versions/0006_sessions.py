"""Sign-in sessions: the device a client names at sign-in, and a user's sessions newest first.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("auth_sessions") as batch:
        batch.add_column(sa.Column("device_id", sa.String(128), nullable=True))
        batch.add_column(sa.Column("device_name", sa.String(200), nullable=True))
    op.create_index("ix_auth_sessions_user_created", "auth_sessions", ["user_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_auth_sessions_user_created", table_name="auth_sessions")
    with op.batch_alter_table("auth_sessions") as batch:
        batch.drop_column("device_name")
        batch.drop_column("device_id")
