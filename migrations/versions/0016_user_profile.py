"""User profile: profile fields, notification opt-ins, avatar and preferences on users; uploaded
avatar images; pending email changes.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels = None
depends_on = None


def _user_columns() -> tuple[sa.Column[object], ...]:
    return (
        sa.Column("slogan", sa.String(length=200), nullable=True),
        sa.Column("about_me", sa.Text(), nullable=True),
        sa.Column("company_name", sa.String(length=200), nullable=True),
        sa.Column("website", sa.String(length=2000), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("gender", sa.String(length=20), nullable=True),
        sa.Column("notify_by_email", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("notify_by_sms", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("notify_by_push", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("notify_by_telegram", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("avatar_library_id", sa.Uuid(), nullable=True),
        sa.Column("avatar_upload_id", sa.Uuid(), nullable=True),
        sa.Column("preferences", sa.JSON(), nullable=True),
    )


def _user_table(name: str, *columns: sa.Column[object] | sa.UniqueConstraint) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        *columns,
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{name}_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{name}_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )
    with op.batch_alter_table(name) as batch:
        batch.create_index(batch.f(f"ix_{name}_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index(f"ix_{name}_user", ["user_id"], unique=False)
    protect(name)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        for column in _user_columns():
            batch.add_column(column)
    _user_table(
        "user_avatars",
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    _user_table(
        "email_changes",
        sa.Column("new_email", sa.String(length=320), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("consumed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name=op.f("uq_email_changes_token_hash")),
    )


def downgrade() -> None:
    for name in ("email_changes", "user_avatars"):
        unprotect(name)
        op.drop_table(name)
    with op.batch_alter_table("users") as batch:
        for column in reversed(_user_columns()):
            batch.drop_column(column.name)
