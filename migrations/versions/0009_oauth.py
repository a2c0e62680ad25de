"""OAuth and OIDC sign-in: linked provider identities.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.get_context()  # placeholder: the helper who owns this migration fills it in


def downgrade() -> None:
    op.get_context()
