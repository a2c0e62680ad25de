"""Audit: targets, refusals, security events, export leases.

The audit entries get an index for a user's own activity (``me { recentActivity }``); data export
jobs count how often a worker took them up (one left RUNNING by a dead process is taken up again).

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_entries_actor_created", "audit_entries", ["actor_id", "created_at", "id"])
    with op.batch_alter_table("data_exports") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("data_exports") as batch:
        batch.drop_column("attempts")
    op.drop_index("ix_audit_entries_actor_created", table_name="audit_entries")
