"""Usage metering and rating: usage records, pricing rules, billed usage.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Placeholder: filled in by its owner."""


def downgrade() -> None:
    """Placeholder: filled in by its owner."""
