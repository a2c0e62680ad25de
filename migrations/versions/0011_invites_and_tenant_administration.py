"""Invites, tenant administration (branding, domains, quotas, soft delete) and user bans.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_context()  # placeholder: the helper who owns this migration fills it in


def downgrade() -> None:
    op.get_context()
