"""API keys and service clients (OAuth2 client credentials).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_context()  # placeholder: the helper who owns this migration fills it in


def downgrade() -> None:
    op.get_context()
