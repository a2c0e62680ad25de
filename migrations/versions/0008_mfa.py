"""TOTP multi-factor authentication and tenant security settings.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_context()  # placeholder: the helper who owns this migration fills it in


def downgrade() -> None:
    op.get_context()
