"""Registration details, email and phone verification, password reset.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_context()  # placeholder: the helper who owns this migration fills it in


def downgrade() -> None:
    op.get_context()
