"""TOTP multi-factor authentication and tenant security settings.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None

TABLES = ("mfa_credentials", "mfa_recovery_codes", "mfa_challenges", "tenant_security_settings")


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="CASCADE"
    )


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def _indexes(table: str, *columns: str) -> None:
    with op.batch_alter_table(table) as batch:
        for column in columns:
            batch.create_index(batch.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    when = models.base.UTCDateTime(timezone=True)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("mfa_enabled", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "mfa_credentials",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("secret_ciphertext", sa.String(length=200), nullable=False),
        sa.Column("last_used_step", sa.Integer(), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        _tenant_fk("mfa_credentials"),
        _user_fk("mfa_credentials"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_mfa_credentials")),
    )
    _indexes("mfa_credentials", "tenant_id")
    op.create_table(
        "mfa_recovery_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", when, nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        _tenant_fk("mfa_recovery_codes"),
        _user_fk("mfa_recovery_codes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_recovery_codes")),
        sa.UniqueConstraint("user_id", "code_hash", name=op.f("uq_mfa_recovery_codes_user_id_code_hash")),
    )
    _indexes("mfa_recovery_codes", "tenant_id", "user_id")
    op.create_table(
        "mfa_challenges",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum("LOGIN", "SETUP", name="mfachallengepurpose", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_at", when, nullable=False),
        sa.Column("expires_at", when, nullable=False),
        sa.Column("used_at", when, nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        _tenant_fk("mfa_challenges"),
        _user_fk("mfa_challenges"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_challenges")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_mfa_challenges_token_hash")),
    )
    _indexes("mfa_challenges", "tenant_id", "user_id")
    op.create_table(
        "tenant_security_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("mfa_required_for_admins", sa.Boolean(), nullable=False),
        sa.Column("min_password_length", sa.Integer(), nullable=False),
        sa.Column("session_lifetime_seconds", sa.Integer(), nullable=True),
        sa.Column("updated_at", when, nullable=False),
        _tenant_fk("tenant_security_settings"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_security_settings")),
    )
    for table in TABLES:
        protect(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        unprotect(table)
        op.drop_table(table)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("mfa_enabled")
