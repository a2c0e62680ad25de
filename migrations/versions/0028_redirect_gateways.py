"""Redirect-style payment gateways: payments that redirect to pay and call back.

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Placeholder: filled in by its owner."""


def downgrade() -> None:
    """Placeholder: filled in by its owner."""
