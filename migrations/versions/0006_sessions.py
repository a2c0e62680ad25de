"""Sign-in sessions: device, last use, listing and revoking.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None

def upgrade() -> None:
    op.get_context()  # placeholder: the helper who owns this migration fills it in (protect() for new tenant tables)

def downgrade() -> None:
    op.get_context()
