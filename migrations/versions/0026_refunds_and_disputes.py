"""Refunds: a processing step with retries, refund destinations, disputes.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Placeholder: filled in by its owner."""


def downgrade() -> None:
    """Placeholder: filled in by its owner."""
