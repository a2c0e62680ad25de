"""Orders: per-item delivery records; mail that keeps failing ends FAILED.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Placeholder: filled in by its owner."""


def downgrade() -> None:
    """Placeholder: filled in by its owner."""
