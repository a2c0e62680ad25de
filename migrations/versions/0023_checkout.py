"""Checkout: promotion codes as objects, shipping methods, physical and digital items.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Placeholder: filled in by its owner."""


def downgrade() -> None:
    """Placeholder: filled in by its owner."""
