"""Telegram login and linked sign-in identities: an identity's display name (a Telegram
@username), and the Telegram Login Widget answers already used (of no tenant: platform scope only).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import PLATFORM

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_identities") as batch:
        batch.add_column(sa.Column("display_name", sa.String(length=255), nullable=True))
    op.create_table(
        "telegram_logins",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_telegram_logins")),
    )
    op.create_index(op.f("ix_telegram_logins_expires_at"), "telegram_logins", ["expires_at"])
    if op.get_bind().dialect.name == "postgresql":
        # No tenant's rows: only platform-scoped sessions (services/identity/telegram.py) see or write it.
        op.execute("ALTER TABLE telegram_logins ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE telegram_logins FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY platform_scope ON telegram_logins USING ({PLATFORM}) WITH CHECK ({PLATFORM})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY platform_scope ON telegram_logins")
    op.drop_index(op.f("ix_telegram_logins_expires_at"), table_name="telegram_logins")
    op.drop_table("telegram_logins")
    with op.batch_alter_table("user_identities") as batch:
        batch.drop_column("display_name")
